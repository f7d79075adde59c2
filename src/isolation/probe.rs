//! The self-check's tools: canaries on this host (TCP and UDP ports the container must NOT reach
//! once isolated, on every IPv4 or IPv6 address) and a probe run inside the container that
//! tries a TCP connection or sends a UDP datagram.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::IsolationError;
use crate::sandbox::{ExecSpec, Sandbox};

/// Tries one TCP connection (or sends one UDP datagram) from inside the container with whatever
/// the image has (python3, bash with `/dev/tcp` and `/dev/udp`, or `nc`); prints `open`,
/// `refused` (something answered: the address is reachable), `sent`, or `closed <why>`.
const PROBE: &str = r#"h=$1; p=$2; proto=$3
if command -v python3 >/dev/null 2>&1; then
  exec python3 -c 'import socket, sys
h, p, proto = sys.argv[1], int(sys.argv[2]), sys.argv[3]
family = socket.AF_INET6 if ":" in h else socket.AF_INET
s = socket.socket(family, socket.SOCK_DGRAM if proto == "udp" else socket.SOCK_STREAM)
s.settimeout(3)
try:
    if proto == "udp":
        s.sendto(b"sforge-probe", (h, p))
        print("sent")
    else:
        s.connect((h, p))
        print("open")
except ConnectionRefusedError:
    print("refused")
except Exception as e:
    print("closed", type(e).__name__, e)' "$h" "$p" "$proto"
elif command -v bash >/dev/null 2>&1 && command -v timeout >/dev/null 2>&1; then
  out=$(timeout 3 bash -c 'exec 3<>"/dev/$0/$1/$2" && echo sforge-probe >&3' "$proto" "$h" "$p" 2>&1); rc=$?
  out=$(printf %s "$out" | tr '\n' ' ')
  if [ "$rc" = 0 ]; then [ "$proto" = udp ] && echo sent || echo open
  elif [ "$rc" = 124 ]; then echo "closed timeout"
  else case $out in *[Rr]efused*) echo refused;; *) echo "closed $out";; esac
  fi
elif command -v nc >/dev/null 2>&1; then
  if [ "$proto" = udp ]; then
    if echo sforge-probe | nc -u -w 1 "$h" "$p" >/dev/null 2>&1; then echo sent; else echo closed; fi
  else
    out=$(nc -w 3 "$h" "$p" </dev/null 2>&1); rc=$?
    out=$(printf %s "$out" | tr '\n' ' ')
    if [ "$rc" = 0 ]; then echo open
    else case $out in *[Rr]efused*) echo refused;; *) echo "closed $out";; esac
    fi
  fi
else
  echo "noprobe: neither python3, bash nor nc is installed"
fi"#;

/// What a probe found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    /// A TCP connection was made.
    Open,
    /// The connection was refused: something at the address answered.
    Refused,
    /// A UDP datagram left (whether it arrived is for the receiver to say).
    Sent,
    Closed(String),
}

impl Reach {
    /// Whether the probe proves the address reachable (a refusal is an answer).
    #[must_use]
    pub fn is_reached(&self) -> bool {
        matches!(self, Reach::Open | Reach::Refused)
    }
}

/// The transport a probe uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proto {
    Tcp,
    Udp,
}

/// Try a TCP connection to `target` (or send a UDP datagram) from inside `container` (as root).
pub fn probe(
    sandbox: &dyn Sandbox,
    container: &str,
    target: SocketAddr,
    proto: Proto,
) -> Result<Reach, IsolationError> {
    let spec = ExecSpec {
        argv: vec![
            "sh".into(),
            "-c".into(),
            PROBE.into(),
            "sforge-probe".into(),
            target.ip().to_string(),
            target.port().to_string(),
            match proto {
                Proto::Tcp => "tcp",
                Proto::Udp => "udp",
            }
            .into(),
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
    match line {
        "open" => Ok(Reach::Open),
        "refused" => Ok(Reach::Refused),
        "sent" => Ok(Reach::Sent),
        _ => match line.strip_prefix("closed") {
            Some(why) => Ok(Reach::Closed(why.trim().to_owned())),
            None => Err(IsolationError::Probe(format!(
                "the probe in {container} printed {line:?} (stderr: {})",
                result.output.stderr_str().trim()
            ))),
        },
    }
}

/// Binds `bind` on every address of this host of one family (IPv4: `0.0.0.0`, IPv6: `[::]`).
fn bind_everywhere<T>(
    v6: bool,
    bind: impl Fn(SocketAddr) -> std::io::Result<T>,
) -> Result<T, IsolationError> {
    let any: IpAddr = if v6 {
        Ipv6Addr::UNSPECIFIED.into()
    } else {
        Ipv4Addr::UNSPECIFIED.into()
    };
    bind(SocketAddr::new(any, 0))
        .map_err(|e| IsolationError::Probe(format!("cannot open a canary port on {any}: {e}")))
}

/// Counts what a canary thread sees; stops it on drop.
struct Counter {
    hits: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Counter {
    /// Runs `poll` (which returns whether something arrived) until dropped.
    fn start(mut poll: impl FnMut() -> bool + Send + 'static) -> Self {
        let hits = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (h, s) = (Arc::clone(&hits), Arc::clone(&stop));
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::SeqCst) {
                if poll() {
                    h.fetch_add(1, Ordering::SeqCst);
                } else {
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
        });
        Counter {
            hits,
            stop,
            thread: Some(thread),
        }
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

impl Drop for Counter {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A UDP socket on every IPv4 address of this host that counts datagrams; stopped on drop.
pub struct UdpCanary {
    port: u16,
    counter: Counter,
}

impl UdpCanary {
    pub fn start() -> Result<Self, IsolationError> {
        let socket = bind_everywhere(false, UdpSocket::bind)?;
        socket
            .set_nonblocking(true)
            .map_err(|e| IsolationError::Probe(e.to_string()))?;
        let port = socket
            .local_addr()
            .map_err(|e| IsolationError::Probe(e.to_string()))?
            .port();
        let counter = Counter::start(move || socket.recv_from(&mut [0u8; 64]).is_ok());
        Ok(UdpCanary { port, counter })
    }

    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }

    #[must_use]
    pub fn hits(&self) -> usize {
        self.counter.hits()
    }

    /// Waits up to `limit` for the count to exceed `before` (datagrams arrive asynchronously).
    #[must_use]
    pub fn got_more_than(&self, before: usize, limit: Duration) -> bool {
        let until = Instant::now() + limit;
        loop {
            if self.hits() > before {
                return true;
            }
            if Instant::now() >= until {
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// A TCP listener on every address of this host of one family that counts connections; stopped
/// on drop.
pub struct Canary {
    port: u16,
    counter: Counter,
}

impl Canary {
    /// On every IPv4 address.
    pub fn start() -> Result<Self, IsolationError> {
        Self::start_on(false)
    }

    /// On every IPv6 address (`v6`) or every IPv4 address.
    pub fn start_on(v6: bool) -> Result<Self, IsolationError> {
        let listener = bind_everywhere(v6, TcpListener::bind)?;
        listener
            .set_nonblocking(true)
            .map_err(|e| IsolationError::Probe(e.to_string()))?;
        let port = listener
            .local_addr()
            .map_err(|e| IsolationError::Probe(e.to_string()))?
            .port();
        let counter = Counter::start(move || listener.accept().is_ok());
        Ok(Canary { port, counter })
    }

    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Connections accepted so far.
    #[must_use]
    pub fn hits(&self) -> usize {
        self.counter.hits()
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

    #[test]
    fn the_udp_canary_counts_datagrams_on_ipv4() {
        let canary = UdpCanary::start().unwrap();
        let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        assert!(!canary.got_more_than(0, Duration::from_millis(50)));
        socket
            .send_to(b"x", (Ipv4Addr::LOCALHOST, canary.port()))
            .unwrap();
        assert!(canary.got_more_than(0, Duration::from_secs(5)));
    }
}
