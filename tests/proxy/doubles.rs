//! Test doubles for the proxy tests, all on 127.0.0.1: the fake upstream API (in
//! `fake_upstream.rs`), a CONNECT-capable upstream HTTP proxy that records its use, and the real
//! `sforge proxy` binary as a child process (killed and reaped on drop).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use super::fake_upstream::read_head;
pub use super::fake_upstream::FakeUpstream;

/// An upstream HTTP proxy (a test double): tunnels `CONNECT host:port` and relays absolute-form
/// requests, recording `CONNECT <authority>` or `FORWARD <url>` for each connection it serves.
pub struct ConnectProxy {
    pub addr: SocketAddr,
    pub used: Arc<Mutex<Vec<String>>>,
}

impl ConnectProxy {
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let used = Arc::new(Mutex::new(Vec::new()));
        let log = used.clone();
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let log = log.clone();
                thread::spawn(move || {
                    let _ = tunnel(&stream, &log);
                });
            }
        });
        ConnectProxy { addr, used }
    }

    pub fn used(&self) -> Vec<String> {
        self.used.lock().unwrap().clone()
    }
}

fn tunnel(client: &TcpStream, log: &Mutex<Vec<String>>) -> io::Result<()> {
    let mut reader = BufReader::new(client.try_clone()?);
    let Some(raw) = read_head(&mut reader)? else {
        return Ok(());
    };
    let text = String::from_utf8_lossy(&raw).into_owned();
    let mut parts = text.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let mut client_out = client.try_clone()?;
    let upstream = if method == "CONNECT" {
        log.lock().unwrap().push(format!("CONNECT {target}"));
        let upstream = TcpStream::connect(target)?;
        client_out.write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n")?;
        upstream
    } else {
        log.lock().unwrap().push(format!("FORWARD {target}"));
        let rest = target.strip_prefix("http://").unwrap_or(target);
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let mut upstream = TcpStream::connect(authority)?;
        let path = if path.is_empty() { "/" } else { path };
        upstream.write_all(text.replacen(target, path, 1).as_bytes())?;
        upstream
    };
    let mut upstream_in = upstream.try_clone()?;
    let buffered = reader.buffer().to_vec();
    upstream_in.write_all(&buffered)?;
    let to_upstream = thread::spawn(move || {
        let _ = io::copy(&mut reader.into_inner(), &mut upstream_in);
        let _ = upstream_in.shutdown(Shutdown::Write);
    });
    let _ = io::copy(&mut upstream.try_clone()?, &mut client_out);
    let _ = client_out.shutdown(Shutdown::Both);
    let _ = to_upstream.join();
    Ok(())
}

/// The real `sforge proxy` binary with a clean environment plus `env`; killed and reaped on drop.
pub struct ProxyProcess {
    pub child: Child,
    pub addr: SocketAddr,
    pub stderr: Arc<Mutex<String>>,
    pub log_dir: tempfile::TempDir,
}

impl ProxyProcess {
    pub fn start(args: &[&str], env: &[(&str, &str)]) -> Self {
        Self::start_on("127.0.0.1", args, env)
    }

    /// The proxy listening on `host` (a free port).
    pub fn start_on(host: &str, args: &[&str], env: &[(&str, &str)]) -> Self {
        Self::try_start_on(host, args, env).unwrap_or_else(|(code, err)| {
            panic!("sforge proxy exited with {code:?} before listening:\n{err}")
        })
    }

    /// Starts the proxy on 127.0.0.1; `Err((exit code, stderr))` when it exits instead of
    /// listening.
    pub fn try_start(args: &[&str], env: &[(&str, &str)]) -> Result<Self, (Option<i32>, String)> {
        Self::try_start_on("127.0.0.1", args, env)
    }

    fn try_start_on(
        host: &str,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> Result<Self, (Option<i32>, String)> {
        let log_dir = tempfile::tempdir().unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_sforge"));
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .arg("--log-dir")
            .arg(log_dir.path())
            .args(["-v", "proxy", "--host", host, "--port", "0"])
            .args(args)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        let stderr = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = mpsc::channel();
        let pipe = child.stderr.take().unwrap();
        let sink = stderr.clone();
        thread::spawn(move || {
            // The address comes first; the start-up banner ends with the SFORGE_AGENT_API_BASE_URL hint.
            let mut addr = None;
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                let _ = writeln!(sink.lock().unwrap(), "{line}");
                if let Some(rest) = line.split("listening on http://").nth(1) {
                    addr = Some(rest.trim().parse::<SocketAddr>().unwrap());
                }
                if line.contains("SFORGE_AGENT_API_BASE_URL") {
                    let _ = tx.send(addr.take().unwrap());
                }
            }
        });
        if let Ok(addr) = rx.recv_timeout(Duration::from_secs(30)) {
            return Ok(ProxyProcess {
                child,
                addr,
                stderr,
                log_dir,
            });
        }
        // Exited (the pipe closed) or hung: make sure it is gone, then report.
        let _ = child.kill();
        let status = child.wait().unwrap();
        thread::sleep(Duration::from_millis(100));
        let text = stderr.lock().unwrap().clone();
        Err((status.code(), text))
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Sends a signal with `kill`.
    pub fn send_signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([format!("-{name}"), self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits (bounded) for the exit code; `None` if still running (or killed by a signal).
    pub fn wait_exit(&mut self, within: Duration) -> Option<i32> {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// Sends a signal and waits (bounded) for the exit code.
    pub fn signal(&mut self, name: &str, within: Duration) -> Option<i32> {
        self.send_signal(name);
        self.wait_exit(within)
    }
}

impl Drop for ProxyProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sends a raw request and reads the whole response (the request should say `Connection: close`).
pub fn raw_exchange(addr: SocketAddr, request: &[u8]) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    stream.write_all(request).unwrap();
    let mut out = Vec::new();
    stream.read_to_end(&mut out).unwrap();
    String::from_utf8_lossy(&out).into_owned()
}

/// Headers of a parsed response head, lower-cased names.
pub fn response_headers(text: &str) -> HashMap<String, String> {
    let head = text.split("\r\n\r\n").next().unwrap_or("");
    head.lines()
        .skip(1)
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect()
}
