//! A real `sforge serve` for the tests that talk to the judge over HTTP: started on 127.0.0.1
//! with a port chosen by the system (read from its banner), its stderr kept for failure messages,
//! stopped by a signal with its exit checked, and killed on drop.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use super::TestBenchmark;

/// A running `sforge serve` on 127.0.0.1 (port chosen by the system); killed on drop.
pub struct Serve {
    child: Child,
    pub port: u16,
    stderr: Arc<Mutex<String>>,
}

impl Serve {
    pub fn start(bench: &TestBenchmark, log_dir: &Path, extra: &[&str]) -> Self {
        let mut child = bench
            .sforge_process(log_dir)
            .args(["serve", "--host", "127.0.0.1", "--port", "0"])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start sforge serve");
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut pipe = child.stderr.take().expect("stderr is piped");
        let sink = Arc::clone(&stderr);
        thread::spawn(move || {
            let mut buffer = [0u8; 4096];
            while let Ok(n) = pipe.read(&mut buffer) {
                if n == 0 {
                    break;
                }
                let text = String::from_utf8_lossy(&buffer[..n]).into_owned();
                sink.lock().unwrap().push_str(&text);
            }
        });
        let stdout = child.stdout.take().expect("stdout is piped");
        let (tx, rx) = std::sync::mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(port) = line.strip_prefix("Starting SForge judge server on port ") {
                    let _ = tx.send(port.trim().parse::<u16>());
                }
            }
        });
        let mut server = Self {
            child,
            port: 0,
            stderr,
        };
        match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(Ok(port)) if port != 0 => server.port = port,
            other => panic!(
                "sforge serve did not announce its port ({other:?}); stderr:\n{}",
                server.stderr()
            ),
        }
        server
    }

    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}/api/v1", self.port)
    }

    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// SIGTERM; panics unless the server exits successfully within 10 seconds.
    pub fn terminate(self) {
        self.terminate_within(Duration::from_secs(10));
    }

    /// SIGTERM; panics unless the server exits successfully within `limit`.
    pub fn terminate_within(self, limit: Duration) {
        self.stop_with("TERM", limit);
    }

    /// SIGINT (Ctrl-C); panics unless the server exits successfully within 10 seconds.
    pub fn interrupt(self) {
        self.stop_with("INT", Duration::from_secs(10));
    }

    pub fn stop_with(mut self, signal: &str, limit: Duration) {
        let pid = self.child.id().to_string();
        super::run_ok(
            std::process::Command::new("kill").args([&format!("-{signal}"), &pid]),
            None,
        );
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait for sforge serve") {
                assert!(
                    status.success(),
                    "sforge serve exited with {status} on SIG{signal}; stderr:\n{}",
                    self.stderr()
                );
                return;
            }
            assert!(
                Instant::now() < deadline,
                "sforge serve still runs {limit:?} after SIG{signal}; stderr:\n{}",
                self.stderr()
            );
            thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Waits (up to a minute) until the judge behind `client` answers; panics if `server` exits
/// first.
pub fn wait_until_up(
    server: &mut super::KillOnDrop,
    client: &sforge::run::judge_client::JudgeClient,
) {
    let until = Instant::now() + Duration::from_secs(60);
    while !client.is_up() {
        assert!(
            server.0.try_wait().unwrap().is_none(),
            "sforge serve exited"
        );
        assert!(Instant::now() < until, "sforge serve did not answer");
        thread::sleep(Duration::from_millis(100));
    }
}
