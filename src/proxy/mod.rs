//! The API reverse proxy (`sforge proxy`): a blocking HTTP/1.1 front end on `std::net` with a
//! bounded worker pool, streaming every request to `--target` through one `ureq` agent (optionally
//! via an upstream HTTP proxy), with an opt-in keyless mode that injects the real API key.

mod admin;
pub mod client;
mod forward;
pub mod headers;
pub mod keyless;
pub mod meter;
pub mod path;
pub mod tls;
pub mod upstream;

use std::io;
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

pub use client::{ProxyAdmin, ProxyClientError};
pub use keyless::{KeyHeader, KeyHeaderError, Keyless};
pub use upstream::{ProxyEnv, Target};

use crate::http::{self as layer, Handler, Limits, Request, Response};
use path::RequestPath;

/// Largest request body forwarded: 64 MiB (the model APIs accept at most 32 MB per request).
pub const MAX_BODY_BYTES: u64 = 64 << 20;

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
    /// Connections served at once (each holds a thread; beyond them new ones get 503).
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

pub use layer::ShutdownHandle;

/// A started proxy.
#[derive(Debug)]
pub struct RunningProxy {
    server: layer::Server,
    grace: Duration,
}

impl RunningProxy {
    /// Binds the listener and starts serving.
    pub fn start(config: ProxyConfig) -> Result<Self, ProxyError> {
        let (bind, grace) = (config.addr, config.shutdown_grace);
        let mut limits = Limits::new(MAX_BODY_BYTES);
        limits.max_connections = config.workers.max(1);
        let handler = ProxyHandler(shared_state(config, limits.max_connections)?);
        let listener =
            TcpListener::bind(bind).map_err(|source| ProxyError::Bind { addr: bind, source })?;
        let server = layer::Server::start(listener, "proxy", limits, Arc::new(handler))
            .map_err(ProxyError::Threads)?;
        Ok(RunningProxy { server, grace })
    }

    /// The address actually bound.
    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.server.addr()
    }

    #[must_use]
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        self.server.shutdown_handle()
    }

    /// Blocks until shutdown, then waits up to the grace period for requests in flight.
    /// Returns how many connections were still busy when it gave up.
    #[must_use]
    pub fn wait(self) -> usize {
        self.server.wait(self.grace)
    }
}

/// What the connections share: the upstream agent (proxy and TLS set up) and the request policy.
fn shared_state(config: ProxyConfig, connections: usize) -> Result<forward::Shared, ProxyError> {
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
        agent: upstream::agent(proxy, connections, tls)?,
        via: config
            .upstream_proxy
            .as_ref()
            .map(|(u, _)| crate::redact::redact_userinfo(u)),
        target: config.target,
        keyless: config.keyless,
        max_body: MAX_BODY_BYTES,
    })
}

/// The proxy on the shared HTTP layer: checks the path, then answers locally or forwards.
struct ProxyHandler(forward::Shared);

impl Handler for ProxyHandler {
    fn handle(&self, req: &mut Request<'_>, res: &mut Response<'_>) -> io::Result<()> {
        let path = match RequestPath::parse(&req.head.target) {
            Ok(path) => path,
            Err(e) => {
                log::info!(
                    "proxy: refused {} {:?}: {e}",
                    req.head.method,
                    req.head.target
                );
                return forward::send_json(res, 400, &json!({"error": e.to_string()}));
            }
        };
        if path.is_local() {
            admin::handle(
                self.0.keyless.as_ref(),
                &req.head,
                &path,
                &mut req.body,
                res,
            )
        } else {
            forward::forward(&self.0, &req.head, &path, &mut req.body, res)
        }
    }
}
