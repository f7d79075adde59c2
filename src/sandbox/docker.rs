//! The Docker sandbox: containers through the docker CLI. Environment values are handed to the
//! client through its own environment (`-e NAME`), so they are never on a command line.

use std::path::Path;
use std::sync::Arc;

use super::lease::keep_alive_argv;
use super::watchdog::exec_with_deadline;
use super::{copy_out_error, ContainerSpec, ExecResult, ExecSpec, Network, Sandbox, SandboxError};
use crate::process::{Cmd, ProcessError, Runner};

/// The bridge network of containers that may reach out but must not be reached
/// ([`Network::NoIngress`], judge containers with network): traffic between its containers is
/// off (`enable_icc=false`), and Docker keeps bridges apart, so they reach neither each other
/// nor Work containers on the default bridge (docs/security.md#judge-containers).
pub const WALLED_NETWORK: &str = "sforge-walled";
/// The label that marks [`WALLED_NETWORK`] as sforge's own (made with inter-container traffic
/// off): a network of that name made otherwise is never used.
const WALLED_LABEL: &str = "sforge.walled=icc-off";

pub struct DockerSandbox {
    runner: Arc<dyn Runner>,
    program: String,
}

impl DockerSandbox {
    #[must_use]
    pub fn new(runner: Arc<dyn Runner>, program: impl Into<String>) -> Self {
        DockerSandbox {
            runner,
            program: program.into(),
        }
    }

    fn cmd(&self) -> Cmd {
        Cmd::new(&self.program)
    }

    /// `docker run -d …` for `spec` (pure, for tests and dry runs).
    #[must_use]
    pub fn run_cmd(&self, spec: &ContainerSpec) -> Cmd {
        self.run_cmd_on(spec, WALLED_NETWORK)
    }

    /// `run_cmd` with `walled` (a name or an id) as the network of [`Network::NoIngress`].
    fn run_cmd_on(&self, spec: &ContainerSpec, walled: &str) -> Cmd {
        let mut cmd = self.cmd().args(["run", "-d", "--name", &spec.name]);
        if spec.lifetime.is_some() {
            // A leased container that ends by itself is removed with it (and so is its chain
            // at the next sweep).
            cmd = cmd.arg("--rm");
        }
        for (k, v) in &spec.labels {
            cmd = cmd.args(["--label".to_owned(), format!("{k}={v}")]);
        }
        for (k, v) in &spec.env {
            cmd = pass_env(cmd.args(["-e", k]), k, v);
        }
        let optional = [
            ("--user", spec.user.clone()),
            ("--workdir", spec.workdir.clone()),
            ("--cpus", spec.cpu_limit.map(|c| c.to_string())),
            ("--memory", spec.mem_limit.clone()),
            ("--pids-limit", spec.pids_limit.map(|p| p.to_string())),
        ];
        for (flag, value) in optional {
            if let Some(value) = value {
                cmd = cmd.args([flag.to_owned(), value]);
            }
        }
        if spec.network == Network::None {
            // No interface but loopback: host names would point nowhere.
            cmd = cmd.args(["--network", "none"]);
        } else {
            if spec.network == Network::NoIngress {
                cmd = cmd.args(["--network", walled]);
            }
            for host in &spec.add_hosts {
                cmd = cmd.args(["--add-host", host]);
            }
        }
        for cap in &spec.cap_drop {
            cmd = cmd.args(["--cap-drop", cap]);
        }
        for cap in &spec.cap_add {
            cmd = cmd.args(["--cap-add", cap]);
        }
        if spec.no_new_privileges {
            cmd = cmd.args(["--security-opt", "no-new-privileges"]);
        }
        for (k, v) in &spec.sysctls {
            cmd = cmd.args(["--sysctl".to_owned(), format!("{k}={v}")]);
        }
        cmd.arg(&spec.image).args(keep_alive_argv(spec.lifetime))
    }

    /// The id of [`WALLED_NETWORK`], created when missing. The engine does not refuse a second
    /// network of the same name, so processes racing to create it may make several: every one
    /// of them then uses the one with the smallest id (by id, so the name's ambiguity does not
    /// matter) and the others are removed when unused.
    fn ensure_walled_network(&self) -> Result<String, ProcessError> {
        let existing = match self.walled_networks() {
            Ok(ids) => ids,
            // A plan goes on without the engine, naming the network it expects.
            Err(e) if self.runner.is_plan() => {
                self.runner.plan_warning(&format!(
                    "cannot check the network {WALLED_NETWORK} here ({e}); the plan expects it \
                     (sforge creates it with: docker network create --driver bridge --label \
                     app=sforge --label {WALLED_LABEL} -o \
                     com.docker.network.bridge.enable_icc=false {WALLED_NETWORK})"
                ));
                return Ok(WALLED_NETWORK.to_owned());
            }
            Err(e) => return Err(e),
        };
        if let Some(id) = existing.first() {
            return Ok(id.clone());
        }
        let create = self.cmd().args([
            "network",
            "create",
            "--driver",
            "bridge",
            "--label",
            "app=sforge",
            "--label",
            WALLED_LABEL,
            "-o",
            "com.docker.network.bridge.enable_icc=false",
            WALLED_NETWORK,
        ]);
        self.runner.run(&create)?;
        let ids = self.walled_networks()?;
        for extra in ids.iter().skip(1) {
            let _ = self.runner.run(&self.cmd().args(["network", "rm", extra]));
        }
        Ok(ids
            .first()
            .cloned()
            .unwrap_or_else(|| WALLED_NETWORK.to_owned()))
    }

    /// Ids of the networks named exactly [`WALLED_NETWORK`], smallest first.
    fn walled_networks(&self) -> Result<Vec<String>, ProcessError> {
        let list = self
            .cmd()
            .args(["network", "ls", "--no-trunc", "--filter"])
            .arg(format!("name={WALLED_NETWORK}"))
            .args(["--filter", &format!("label={WALLED_LABEL}")])
            .args(["--format", "{{.ID}} {{.Name}}"])
            .read_only();
        let out = self.runner.run(&list)?;
        let mut ids: Vec<String> = out
            .stdout_str()
            .lines()
            .filter_map(|l| l.split_once(' '))
            .filter(|(_, name)| *name == WALLED_NETWORK)
            .map(|(id, _)| id.to_owned())
            .collect();
        ids.sort();
        Ok(ids)
    }

    /// `docker exec …` for `exec` (pure).
    #[must_use]
    pub fn exec_cmd(&self, name: &str, exec: &ExecSpec) -> Cmd {
        let mut cmd = self.cmd().arg("exec");
        if exec.stdin.is_some() || exec.stdin_file.is_some() {
            cmd = cmd.arg("-i");
        }
        if let Some(user) = &exec.user {
            cmd = cmd.args(["--user", user]);
        }
        if let Some(dir) = &exec.workdir {
            cmd = cmd.args(["--workdir", dir]);
        }
        for (k, v) in &exec.env {
            cmd = pass_env(cmd.args(["-e", k]), k, v);
        }
        cmd = cmd.arg(name).args(exec.argv.iter().cloned());
        match (&exec.stdin, &exec.stdin_file) {
            (Some(bytes), _) => cmd.stdin_bytes(bytes.clone()),
            (None, Some(file)) => cmd.stdin_file(file),
            (None, None) => cmd,
        }
    }

    fn fail<'a>(
        action: &'static str,
        name: &'a str,
    ) -> impl FnOnce(ProcessError) -> SandboxError + 'a {
        move |source| SandboxError::Command {
            action,
            name: name.to_owned(),
            source,
        }
    }
}

impl Sandbox for DockerSandbox {
    fn start(&self, spec: &ContainerSpec) -> Result<(), SandboxError> {
        self.start_with_id(spec).map(drop)
    }

    fn start_with_id(&self, spec: &ContainerSpec) -> Result<Option<String>, SandboxError> {
        let walled = if spec.network == Network::NoIngress {
            self.ensure_walled_network()
                .map_err(Self::fail("start", &spec.name))?
        } else {
            WALLED_NETWORK.to_owned()
        };
        let out = self
            .runner
            .run(&self.run_cmd_on(spec, &walled))
            .map_err(Self::fail("start", &spec.name))?;
        // `docker run -d` prints the id last (after any pull progress).
        let id = out
            .stdout_str()
            .lines()
            .last()
            .unwrap_or("")
            .trim()
            .to_owned();
        let is_id = id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit());
        Ok(is_id.then_some(id))
    }

    fn exec(
        &self,
        name: &str,
        exec: &ExecSpec,
        on_line: &mut dyn FnMut(&str),
    ) -> Result<ExecResult, SandboxError> {
        // Killing the container's PID 1 ends every process in it; the exec returns.
        let kill = self.cmd().args(["kill", name]);
        exec_with_deadline(
            &self.runner,
            &self.exec_cmd(name, exec),
            exec.timeout,
            kill,
            on_line,
            Self::fail("exec in", name),
        )
    }

    fn copy_in(&self, name: &str, dir: &str, tar: Vec<u8>) -> Result<(), SandboxError> {
        let cmd = self
            .cmd()
            .args(["cp".to_owned(), "-".to_owned(), format!("{name}:{dir}")])
            .stdin_bytes(tar);
        self.runner
            .run(&cmd)
            .map(drop)
            .map_err(Self::fail("copy into", name))
    }

    fn copy_in_file(&self, name: &str, dir: &str, tar: &Path) -> Result<(), SandboxError> {
        let cmd = self
            .cmd()
            .args(["cp".to_owned(), "-".to_owned(), format!("{name}:{dir}")])
            .stdin_file(tar);
        self.runner
            .run(&cmd)
            .map(drop)
            .map_err(Self::fail("copy into", name))
    }

    fn copy_out(
        &self,
        name: &str,
        path: &str,
        dest: &Path,
        max_bytes: u64,
    ) -> Result<(), SandboxError> {
        let cmd = self
            .cmd()
            .args(["cp".to_owned(), format!("{name}:{path}"), "-".to_owned()])
            .stdout_file(dest, max_bytes)
            .read_only();
        self.runner.run(&cmd).map(drop).map_err(copy_out_error(
            name,
            path,
            Self::fail("copy out of", name),
        ))
    }

    fn logs(&self, name: &str) -> Result<String, SandboxError> {
        let cmd = self.cmd().args(["logs", name]).read_only();
        let out = self
            .runner
            .run(&cmd)
            .map_err(Self::fail("read the logs of", name))?;
        Ok(format!("{}{}", out.stdout_str(), out.stderr_str()))
    }

    fn remove(&self, name: &str) -> Result<(), SandboxError> {
        let cmd = self.cmd().args(["rm", "-f", "-v", name]);
        let out = self
            .runner
            .run_unchecked(&cmd)
            .map_err(Self::fail("remove", name))?;
        if String::from_utf8_lossy(&out.stderr).contains("No such container") {
            return Ok(());
        }
        ProcessError::check(&cmd, out)
            .map(drop)
            .map_err(Self::fail("remove", name))
    }

    fn rename(&self, from: &str, to: &str) -> Result<bool, SandboxError> {
        self.runner
            .run(&self.cmd().args(["rename", from, to]))
            .map(|_| true)
            .map_err(Self::fail("rename", from))
    }
}

/// Hand `k=v` to the docker client's environment; values that look secret are masked wherever
/// the command is shown (they never appear on the command line either way).
fn pass_env(cmd: Cmd, k: &str, v: &str) -> Cmd {
    if crate::redact::is_secret_env(k, v) {
        cmd.secret_env(k, v)
    } else {
        cmd.env(k, v)
    }
}

#[cfg(test)]
mod tests;
