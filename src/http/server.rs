//! The listener: accepts connections up to the limit (503 beyond it), serves each on its own
//! thread with the server's [`Handler`], and stops on a [`ShutdownHandle`].

use std::io::{self, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use super::conn;
use super::handler::{Handler, Shared};
use super::limits::Limits;
use super::response::{self, BodyFraming};

/// Stops a server from any thread (a signal handler, for example).
#[derive(Debug, Clone)]
pub struct ShutdownHandle {
    stopping: Arc<AtomicBool>,
    wake: SocketAddr,
}

impl ShutdownHandle {
    /// Stops accepting connections; idle ones close, requests in flight go on.
    pub fn shutdown(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        // Unblock the accept loop with a connection of our own.
        let _ = TcpStream::connect_timeout(&self.wake, Duration::from_secs(1));
    }

    /// Whether shutdown began.
    #[must_use]
    pub fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }
}

/// A running server.
#[derive(Debug)]
pub struct Server {
    addr: SocketAddr,
    handle: ShutdownHandle,
    active: Arc<AtomicUsize>,
    acceptor: JoinHandle<()>,
}

/// Decrements the connection count when a connection's thread ends (or never starts).
struct Active(Arc<AtomicUsize>);

impl Drop for Active {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Server {
    /// Serves `listener` with `handler` under `limits`; `name` prefixes thread names and log lines.
    pub fn start(
        listener: TcpListener,
        name: &'static str,
        limits: Limits,
        handler: Arc<dyn Handler>,
    ) -> io::Result<Server> {
        let addr = listener.local_addr()?;
        let stopping = Arc::new(AtomicBool::new(false));
        let active = Arc::new(AtomicUsize::new(0));
        let shared = Arc::new(Shared {
            name,
            limits,
            handler,
            stopping: stopping.clone(),
        });
        let count = active.clone();
        let acceptor = thread::Builder::new()
            .name(format!("{name}-accept"))
            .spawn(move || accept(&listener, &shared, &count))?;
        let mut wake = addr;
        if wake.ip().is_unspecified() {
            wake.set_ip(match wake {
                SocketAddr::V4(_) => [127, 0, 0, 1].into(),
                SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
            });
        }
        Ok(Server {
            addr,
            handle: ShutdownHandle { stopping, wake },
            active,
            acceptor,
        })
    }

    /// The bound address (with the real port when port 0 was asked for).
    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    #[must_use]
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        self.handle.clone()
    }

    /// Blocks until shutdown, then waits up to `grace` for connections still busy. Returns how
    /// many were left.
    #[must_use]
    pub fn wait(self, grace: Duration) -> usize {
        let _ = self.acceptor.join();
        let deadline = Instant::now() + grace;
        while self.active.load(Ordering::SeqCst) > 0 && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(20));
        }
        self.active.load(Ordering::SeqCst)
    }

    /// Shuts down and waits up to `grace`.
    #[must_use]
    pub fn stop(self, grace: Duration) -> usize {
        self.handle.shutdown();
        self.wait(grace)
    }
}

fn accept(listener: &TcpListener, shared: &Arc<Shared>, active: &Arc<AtomicUsize>) {
    for stream in listener.incoming() {
        if shared.stopping.load(Ordering::SeqCst) {
            break;
        }
        let stream = match stream {
            Ok(stream) => stream,
            Err(e) => {
                log::warn!("{}: accepting a connection failed: {e}", shared.name);
                thread::sleep(Duration::from_millis(50));
                continue;
            }
        };
        if active.load(Ordering::SeqCst) >= shared.limits.max_connections {
            busy(&stream, shared);
            continue;
        }
        active.fetch_add(1, Ordering::SeqCst);
        let guard = Active(active.clone());
        let conn_shared = shared.clone();
        let spawned = thread::Builder::new()
            .name(format!("{}-conn", shared.name))
            .spawn(move || {
                let _guard = guard;
                conn::serve(stream, &conn_shared);
            });
        if let Err(e) = spawned {
            log::warn!("{}: cannot start a connection thread: {e}", shared.name);
        }
    }
}

/// Answers 503 on a connection beyond the limit, without waiting for its request.
fn busy(mut stream: &TcpStream, shared: &Shared) {
    let limit = shared.limits.max_connections;
    log::warn!(
        "{}: {limit} connections are open; refusing another",
        shared.name
    );
    let message = format!("busy: {limit} connections are open; retry shortly");
    let body = serde_json::to_vec(&shared.handler.error_body(503, &message)).unwrap_or_default();
    let headers = [
        ("Content-Type".to_owned(), "application/json".to_owned()),
        ("Retry-After".to_owned(), "1".to_owned()),
    ];
    let framing = BodyFraming::Length(body.len() as u64);
    let mut bytes = response::head_bytes(503, "Service Unavailable", &headers, framing, false);
    bytes.extend_from_slice(&body);
    let _ = stream.set_write_timeout(Some(Duration::from_millis(200)));
    let _ = stream.write_all(&bytes);
}
