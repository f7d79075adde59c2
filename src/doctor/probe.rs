//! Looking from inside a container: a port on the host that answers HTTP, and a short-lived
//! container started like a Work container (same host alias, sforge's labels, a lease so it
//! ends by itself) that curls it and the judge.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use super::check::{first_line, Check};
use crate::process::{Cmd, Runner};
use crate::sandbox::lease;
use crate::sandbox::{labels, ContainerSpec, DockerSandbox, ExecSpec, Role, Sandbox, SandboxError};

/// A port on all of the host's addresses answering `200 ok` until dropped.
pub(super) struct HostListener {
    port: u16,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl HostListener {
    pub fn start() -> std::io::Result<Self> {
        let listener = TcpListener::bind("0.0.0.0:0")?;
        let port = listener.local_addr()?.port();
        listener.set_nonblocking(true)?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("doctor-listener".to_owned())
            .spawn(move || {
                while !flag.load(Ordering::SeqCst) {
                    match listener.accept() {
                        Ok((mut stream, _)) => {
                            let _ = stream.set_nonblocking(false);
                            let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
                            let _ = stream.read(&mut [0u8; 1024]);
                            let _ = stream.write_all(
                                b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
                            );
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(50)),
                    }
                }
            })?;
        Ok(HostListener {
            port,
            stop,
            thread: Some(thread),
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }
}

impl Drop for HostListener {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Why a URL gave no HTTP answer inside the probe container.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(super) struct NoAnswer(String);

/// The probe container; removed when dropped.
pub(super) struct Probe {
    sandbox: DockerSandbox,
    runner: Arc<dyn Runner>,
    docker: String,
    name: String,
}

impl Probe {
    pub fn start(
        runner: &Arc<dyn Runner>,
        docker: &str,
        image: &str,
    ) -> Result<Self, SandboxError> {
        let sandbox = DockerSandbox::new(Arc::clone(runner), docker);
        let name = format!("sforge.doctor.{}", std::process::id());
        let owner = crate::owner::current_owner();
        let mut spec_labels = labels("doctor", "doctor", Role::Work, &owner);
        let expires = crate::clock::epoch_secs() + 300;
        spec_labels.extend(lease::process_labels(expires));
        let spec = ContainerSpec {
            name: name.clone(),
            image: image.to_owned(),
            labels: spec_labels,
            user: Some("root".to_owned()),
            add_hosts: vec!["host.docker.internal:host-gateway".to_owned()],
            lifetime: Some(Duration::from_secs(120)),
            ..ContainerSpec::default()
        };
        let _ = sandbox.remove(&name);
        sandbox.start(&spec)?;
        Ok(Probe {
            sandbox,
            runner: Arc::clone(runner),
            docker: docker.to_owned(),
            name,
        })
    }

    /// The HTTP status `url` answers inside the container.
    fn curl(&self, url: &str) -> Result<String, NoAnswer> {
        let exec = ExecSpec {
            argv: [
                "curl",
                "-sS",
                "-m",
                "5",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
                url,
            ]
            .map(str::to_owned)
            .to_vec(),
            timeout: Some(Duration::from_secs(15)),
            ..ExecSpec::default()
        };
        let result = self
            .sandbox
            .exec(&self.name, &exec, &mut |_| {})
            .map_err(|e| NoAnswer(e.to_string()))?;
        if result.output.status.code == Some(127) {
            return Err(NoAnswer("the image has no curl".to_owned()));
        }
        let code = result.output.stdout_str().trim().to_owned();
        if code.is_empty() || code == "000" {
            return Err(NoAnswer(first_line(&result.output.stderr_str())));
        }
        Ok(code)
    }

    pub fn reach_host(&self, port: u16) -> Check {
        let name = "container to host";
        match self.curl(&format!("http://host.docker.internal:{port}/")) {
            Ok(code) if code == "200" => Check::pass(
                name,
                format!("a container reaches host.docker.internal:{port} (the judge's way)"),
            ),
            Ok(code) => Check::fail(
                name,
                format!("unexpected HTTP {code}"),
                "check the host's firewall",
            ),
            Err(e) => Check::fail(
                name,
                format!("a container cannot reach a port on this host: {e}"),
                "allow the Docker bridge in the host's firewall (INPUT from docker0), and start \
                 sforge serve with --host 0.0.0.0",
            ),
        }
    }

    pub fn reach_judge(&self, url: &str) -> Check {
        let name = "judge from a container";
        let probe = format!("{}/api/v1/history", url.trim_end_matches('/'));
        match self.curl(&probe) {
            Ok(code) => Check::pass(name, format!("{url} answers (HTTP {code})")),
            Err(e) => Check::fail(
                name,
                format!("nothing answers at {url} from a container: {e}"),
                "start sforge serve --host 0.0.0.0 on a port containers reach, and give that URL \
                 (host.docker.internal means this host); or leave --judge-url out and let run \
                 start its own judge",
            ),
        }
    }

    pub fn mac(&self) -> Check {
        let name = "bridge MAC";
        let cmd = Cmd::new(&self.docker)
            .args([
                "inspect",
                "-f",
                "{{range .NetworkSettings.Networks}}{{.MacAddress}}{{end}}",
                &self.name,
            ])
            .read_only();
        match self.runner.run(&cmd) {
            Ok(out) if crate::isolation::link_local_from_mac(out.stdout_str().trim()).is_some() => {
                Check::pass(
                    name,
                    format!("containers get a MAC ({})", out.stdout_str().trim()),
                )
            }
            Ok(out) => Check::fail(
                name,
                format!(
                    "the engine reports no usable MAC ({:?})",
                    out.stdout_str().trim()
                ),
                "isolation needs each container's MAC to block its IPv6 link-local address: \
                 use the default bridge network",
            ),
            Err(e) => Check::fail(name, first_line(&e.to_string()), "check the engine"),
        }
    }
}

impl Drop for Probe {
    fn drop(&mut self) {
        let _ = self.sandbox.remove(&self.name);
    }
}
