//! The self-check's two tools: a canary TCP listener on this host (an address the container must
//! NOT reach once isolated) and a probe run inside the container that tries a TCP connection.

use std::net::{Ipv4Addr, SocketAddrV4, TcpListener};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use super::IsolationError;
use crate::sandbox::{ExecSpec, Sandbox};

/// Tries one TCP connection from inside the container with whatever the image has (python3,
/// bash with `/dev/tcp`, or `nc`); prints `open` or `closed <why>`.
const PROBE: &str = r#"h=$1; p=$2
if command -v python3 >/dev/null 2>&1; then
  exec python3 -c 'import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.settimeout(3)
try:
    s.connect((sys.argv[1], int(sys.argv[2])))
    print("open")
except Exception as e:
    print("closed", type(e).__name__, e)' "$h" "$p"
elif command -v bash >/dev/null 2>&1 && command -v timeout >/dev/null 2>&1; then
  if timeout 3 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$h" "$p" 2>/dev/null; then echo open; else echo closed; fi
elif command -v nc >/dev/null 2>&1; then
  if nc -z -w 3 "$h" "$p" 2>/dev/null; then echo open; else echo closed; fi
else
  echo "noprobe: neither python3, bash nor nc is installed"
fi"#;

/// What a probe found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    Open,
    Closed(String),
}

/// Try a TCP connection to `target` from inside `container` (as root).
pub fn probe(
    sandbox: &dyn Sandbox,
    container: &str,
    target: SocketAddrV4,
) -> Result<Reach, IsolationError> {
    let spec = ExecSpec {
        argv: vec![
            "sh".into(),
            "-c".into(),
            PROBE.into(),
            "sforge-probe".into(),
            target.ip().to_string(),
            target.port().to_string(),
        ],
        user: Some("root".into()),
        timeout: Some(Duration::from_secs(20)),
        ..ExecSpec::default()
    };
    let result = sandbox
        .exec(container, &spec, &mut |_| {})
        .map_err(|e| IsolationError::Probe(e.to_string()))?;
    let text = result.output.stdout_str();
    let line = text.lines().last().unwrap_or_default().trim();
    if line == "open" {
        Ok(Reach::Open)
    } else if let Some(why) = line.strip_prefix("closed") {
        Ok(Reach::Closed(why.trim().to_owned()))
    } else {
        Err(IsolationError::Probe(format!(
            "the probe in {container} printed {line:?} (stderr: {})",
            result.output.stderr_str().trim()
        )))
    }
}

/// A TCP listener on all interfaces of this host that counts connections; stopped on drop.
pub struct Canary {
    port: u16,
    hits: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Canary {
    pub fn start() -> Result<Self, IsolationError> {
        let listener = TcpListener::bind((Ipv4Addr::UNSPECIFIED, 0))
            .and_then(|l| l.set_nonblocking(true).map(|()| l))
            .map_err(|e| IsolationError::Probe(format!("cannot open a canary port: {e}")))?;
        let port = listener
            .local_addr()
            .map_err(|e| IsolationError::Probe(e.to_string()))?
            .port();
        let hits = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (h, s) = (Arc::clone(&hits), Arc::clone(&stop));
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok(_) => {
                        h.fetch_add(1, Ordering::SeqCst);
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(20)),
                }
            }
        });
        Ok(Canary {
            port,
            hits,
            stop,
            thread: Some(thread),
        })
    }

    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Connections accepted so far.
    #[must_use]
    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

impl Drop for Canary {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_canary_counts_connections_and_releases_its_port() {
        let canary = Canary::start().unwrap();
        let port = canary.port();
        assert_eq!(canary.hits(), 0);
        let _c = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        let until = std::time::Instant::now() + Duration::from_secs(5);
        while canary.hits() == 0 && std::time::Instant::now() < until {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(canary.hits(), 1);
        drop(canary);
        assert!(TcpListener::bind((Ipv4Addr::UNSPECIFIED, port)).is_ok());
    }
}
