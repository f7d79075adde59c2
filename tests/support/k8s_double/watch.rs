//! TEST DOUBLE: watch streams of the Kubernetes API double: a chunked response of
//! `{"type":"ADDED|MODIFIED|DELETED","object":{...}}` lines, replayed from `resourceVersion`
//! and then live, filtered by namespace and label/field selectors, until `timeoutSeconds`, the
//! client leaving, or the double stopping.

use std::net::TcpStream;
use std::sync::mpsc::RecvTimeoutError;
use std::time::{Duration, Instant};

use serde_json::json;

use super::http::{end_chunked, start_chunked, write_chunk, Request};
use super::selector::Selector;
use super::store::{Change, Kind};
use super::Shared;

/// The longest a watch runs without `timeoutSeconds`.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1800);

/// A parsed watch request.
pub struct Watch {
    kind: Kind,
    namespace: Option<String>,
    labels: Selector,
    fields: Selector,
    since: Option<u64>,
    timeout: Duration,
}

impl Watch {
    /// Reads the watch parameters; `Err` says which is malformed.
    pub fn from_request(
        request: &Request,
        kind: Kind,
        namespace: Option<&str>,
    ) -> Result<Self, String> {
        let since = match request.param("resourceVersion").unwrap_or_default() {
            "" | "0" => None,
            text => Some(
                text.parse()
                    .map_err(|_| format!("resourceVersion {text:?} is not a number"))?,
            ),
        };
        let timeout = request
            .param("timeoutSeconds")
            .and_then(|value| value.parse().ok())
            .map_or(DEFAULT_TIMEOUT, Duration::from_secs);
        Ok(Self {
            kind,
            namespace: namespace.map(str::to_owned),
            labels: Selector::labels(request.param("labelSelector").unwrap_or_default())?,
            fields: Selector::fields(request.param("fieldSelector").unwrap_or_default())?,
            since,
            timeout,
        })
    }

    fn accepts(&self, change: &Change) -> bool {
        change.kind == self.kind
            && self
                .namespace
                .as_ref()
                .is_none_or(|ns| *ns == change.namespace)
            && self.labels.matches_labels(&change.object)
            && self.fields.matches_fields(&change.object)
    }
}

/// Streams the watch on `stream` until it ends.
pub fn serve_watch(shared: &Shared, stream: &mut TcpStream, watch: &Watch) {
    let (replay, receiver) = shared.store.watch(watch.kind, watch.since);
    if start_chunked(stream, "application/json").is_err() {
        return;
    }
    for change in replay.iter().filter(|change| watch.accepts(change)) {
        if send(stream, change).is_err() {
            return;
        }
    }
    let deadline = Instant::now() + watch.timeout;
    while Instant::now() < deadline && !shared.stopping() {
        match receiver.recv_timeout(Duration::from_millis(500)) {
            Ok(change) if watch.accepts(&change) => {
                if send(stream, &change).is_err() {
                    return;
                }
            }
            Ok(_) => {}
            Err(RecvTimeoutError::Timeout) => {
                if client_left(stream) {
                    return;
                }
            }
            Err(RecvTimeoutError::Disconnected) => break,
        }
    }
    let _ = end_chunked(stream);
}

fn send(stream: &mut TcpStream, change: &Change) -> std::io::Result<()> {
    let mut line = serde_json::to_vec(&json!({"type": change.verb, "object": change.object}))
        .expect("JSON values serialise");
    line.push(b'\n');
    write_chunk(stream, &line)
}

/// Whether the client closed its side (a watch client never sends anything).
fn client_left(stream: &TcpStream) -> bool {
    if stream.set_nonblocking(true).is_err() {
        return true;
    }
    let mut byte = [0_u8; 1];
    let left = match stream.peek(&mut byte) {
        Ok(0) => true,
        Ok(_) => false,
        Err(err) => !matches!(
            err.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::Interrupted
        ),
    };
    let _ = stream.set_nonblocking(false);
    left
}
