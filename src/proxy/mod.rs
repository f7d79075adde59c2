//! The API reverse proxy (`sforge proxy`): a blocking HTTP/1.1 front end on `std::net` with a
//! bounded worker pool, streaming every request to `--target` through one `ureq` agent (optionally
//! via an upstream HTTP proxy), with an opt-in keyless mode that injects the real API key.

mod admin;
pub mod client;
mod connection;
mod forward;
pub mod headers;
pub mod http1;
pub mod keyless;
pub mod meter;
pub mod tls;
pub mod upstream;

use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

pub use client::{ProxyAdmin, ProxyClientError};
pub use keyless::{KeyHeader, Keyless};
pub use upstream::{ProxyEnv, Target};

/// Everything `sforge proxy` decides.
#[derive(Debug)]
pub struct ProxyConfig {
    /// Where to listen; port 0 picks a free port (see [`RunningProxy::addr`]).
    pub addr: SocketAddr,
    pub target: Target,
    /// The upstream HTTP proxy and the setting it came from; `None` connects directly.
    pub upstream_proxy: Option<(String, &'static str)>,
    /// A PEM file of CA certificates trusted for the upstream in addition to the web PKI roots.
    pub ca_file: Option<PathBuf>,
    /// Keyless mode (the real key and the admin secret), or `None` to pass credentials through.
    pub keyless: Option<Keyless>,
    /// Connections served at once (each streaming request holds one worker).
    pub workers: usize,
    /// How long shutdown waits for requests in flight.
    pub shutdown_grace: Duration,
}

/// Why the proxy cannot start.
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    #[error("cannot listen on {addr}: {source}; pick another --port or --host")]
    Bind { addr: SocketAddr, source: io::Error },
    #[error(transparent)]
    Upstream(#[from] upstream::UpstreamError),
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    #[error("cannot start the proxy threads: {0}")]
    Threads(io::Error),
}

/// Stops a running proxy from another thread (a signal handler).
#[derive(Debug, Clone)]
pub struct ShutdownHandle {
    stopping: Arc<AtomicBool>,
    wake: SocketAddr,
}

impl ShutdownHandle {
    /// Stops accepting connections; requests in flight go on for the grace period.
    pub fn shutdown(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        // Unblock the accept loop with a connection of our own.
        let _ = TcpStream::connect_timeout(&self.wake, Duration::from_secs(1));
    }
}

/// A started proxy.
#[derive(Debug)]
pub struct RunningProxy {
    addr: SocketAddr,
    stopping: Arc<AtomicBool>,
    busy: Arc<AtomicUsize>,
    acceptor: JoinHandle<()>,
    grace: Duration,
}

impl RunningProxy {
    /// Binds the listener and starts the accept loop and the workers.
    pub fn start(config: ProxyConfig) -> Result<Self, ProxyError> {
        let (bind, grace) = (config.addr, config.shutdown_grace);
        let workers = config.workers.max(1);
        let shared = Arc::new(shared_state(config, workers)?);
        let listener =
            TcpListener::bind(bind).map_err(|source| ProxyError::Bind { addr: bind, source })?;
        let addr = listener.local_addr().map_err(ProxyError::Threads)?;
        let stopping = Arc::new(AtomicBool::new(false));
        let busy = Arc::new(AtomicUsize::new(0));
        let (tx, rx) = sync_channel::<TcpStream>(workers);
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..workers {
            let (rx, shared, stopping) = (rx.clone(), shared.clone(), stopping.clone());
            let busy = busy.clone();
            thread::Builder::new()
                .name(format!("proxy-worker-{i}"))
                .spawn(move || worker(&rx, &shared, &stopping, &busy))
                .map_err(ProxyError::Threads)?;
        }
        let stop = stopping.clone();
        let acceptor = thread::Builder::new()
            .name("proxy-accept".into())
            .spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    match stream {
                        Ok(stream) => {
                            if tx.send(stream).is_err() {
                                break;
                            }
                        }
                        Err(e) => {
                            log::warn!("accepting a connection failed: {e}");
                            thread::sleep(Duration::from_millis(50));
                        }
                    }
                }
            })
            .map_err(ProxyError::Threads)?;
        Ok(RunningProxy {
            addr,
            stopping,
            busy,
            acceptor,
            grace,
        })
    }

    /// The address actually bound.
    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    #[must_use]
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        let mut wake = self.addr;
        if wake.ip().is_unspecified() {
            wake.set_ip(match wake {
                SocketAddr::V4(_) => [127, 0, 0, 1].into(),
                SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
            });
        }
        ShutdownHandle {
            stopping: self.stopping.clone(),
            wake,
        }
    }

    /// Blocks until shutdown, then waits up to the grace period for requests in flight.
    /// Returns how many connections were still busy when it gave up.
    #[must_use]
    pub fn wait(self) -> usize {
        let _ = self.acceptor.join();
        let deadline = Instant::now() + self.grace;
        while self.busy.load(Ordering::SeqCst) > 0 && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(20));
        }
        self.busy.load(Ordering::SeqCst)
    }
}

/// What the workers share: the upstream agent (proxy and TLS set up) and the request policy.
fn shared_state(config: ProxyConfig, workers: usize) -> Result<forward::Shared, ProxyError> {
    let tls = config
        .ca_file
        .as_deref()
        .map(tls::client_config)
        .transpose()?;
    let proxy = config
        .upstream_proxy
        .as_ref()
        .map(|(u, o)| (u.as_str(), *o));
    Ok(forward::Shared {
        agent: upstream::agent(proxy, workers, tls)?,
        via: config
            .upstream_proxy
            .as_ref()
            .map(|(u, _)| upstream::redact_userinfo(u)),
        target: config.target,
        keyless: config.keyless,
    })
}

fn worker(
    rx: &Mutex<Receiver<TcpStream>>,
    shared: &forward::Shared,
    stopping: &AtomicBool,
    busy: &AtomicUsize,
) {
    loop {
        let next = rx
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .recv();
        let Ok(stream) = next else { return };
        if stopping.load(Ordering::SeqCst) {
            continue; // the wake-up connection, or one that arrived too late
        }
        busy.fetch_add(1, Ordering::SeqCst);
        connection::serve(stream, shared, stopping);
        busy.fetch_sub(1, Ordering::SeqCst);
    }
}
