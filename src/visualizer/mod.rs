//! `sforge visualizer`: a read-only web UI over the run directories, served on the project's
//! HTTP layer (`src/http/`) with embedded assets and no CDN. `docs/visualizer.md` describes the
//! routes, the JSON API and the safety rules.

mod api;
mod archive;
mod compare;
mod diff;
mod download;
mod error;
mod files;
mod games;
mod groups;
mod model;
mod paths;
mod ranking;
mod respond;
mod rounds;
mod routes;
mod scan;
mod snapshot;
#[cfg(test)]
mod snapshot_attacks;
mod status;
mod subdiff;
mod summary;
mod timeline;
mod trace;
mod trajectory;
mod window;

use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::Arc;

pub use error::VizError;
pub use respond::CSP;
pub use status::{abort_threshold, ABORT_THRESHOLD_SECS};

use crate::http::{Limits, Server};

/// Connections served at once (each holds a thread).
pub const MAX_CONNECTIONS: usize = 64;

/// What the visualizer serves and where.
#[derive(Debug, Clone)]
pub struct VisualizerConfig {
    pub runs_dir: PathBuf,
    pub addr: SocketAddr,
    /// Seconds without a change after which a task without a final result counts as aborted.
    pub abort_threshold: u64,
}

/// Starts the visualizer server (GET and HEAD only; request bodies are refused).
pub fn start(config: &VisualizerConfig) -> std::io::Result<Server> {
    let listener = TcpListener::bind(config.addr)?;
    let addr = listener.local_addr()?;
    let root = paths::Root::new(&config.runs_dir);
    let scanner = Arc::new(scan::Scanner::new(root, config.abort_threshold));
    let handler = routes::Visualizer {
        scanner,
        hosts: allowed_hosts(addr),
    };
    let mut limits = Limits::new(0);
    limits.max_connections = MAX_CONNECTIONS;
    Server::start(listener, "visualizer", limits, Arc::new(handler))
}

/// The Host header values a loopback server accepts; none (any) for other addresses.
fn allowed_hosts(addr: SocketAddr) -> Vec<String> {
    if !addr.ip().is_loopback() {
        return Vec::new();
    }
    let port = addr.port();
    ["127.0.0.1", "localhost", "[::1]"]
        .iter()
        .flat_map(|h| [format!("{h}:{port}"), (*h).to_owned()])
        .collect()
}

/// How many run directories the runs directory holds (for the start-up banner).
#[must_use]
pub fn count_runs(runs_dir: &std::path::Path) -> Option<usize> {
    std::fs::read_dir(runs_dir).ok().map(|entries| {
        entries
            .filter_map(Result::ok)
            .filter(|e| e.path().is_dir())
            .count()
    })
}
