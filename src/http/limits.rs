//! The bounds every sforge HTTP server puts on its clients; `docs/http.md` gives each value and
//! why it was chosen.

use std::time::Duration;

/// Largest request head (request line and header fields, line ends included): 64 KiB. Beyond it
/// the answer is 431 and the connection closes; nothing more of the head is read.
pub const MAX_HEAD_BYTES: usize = 64 << 10;
/// Most header fields in one request head: 100 (431 beyond).
pub const MAX_HEADERS: usize = 100;
/// Longest line of a chunked body's framing (a chunk-size line with its extensions, or one
/// trailer field): 4 KiB.
pub const MAX_CHUNK_LINE: usize = 4 << 10;
/// Time from the first byte of a request to the end of its head: 10 s (408 beyond).
pub const HEAD_TIMEOUT: Duration = Duration::from_secs(10);
/// Time from the first byte of a request to the last byte of its body: 300 s.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(300);
/// Longest silence while a body is read or a response is written: 60 s.
pub const IO_TIMEOUT: Duration = Duration::from_secs(60);
/// How long an idle keep-alive connection waits for its next request: 30 s.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(30);
/// Connections served at once (each holds one thread); beyond them new ones get 503: 256.
pub const MAX_CONNECTIONS: usize = 256;
/// How long a connection closed with part of a request body unread keeps reading (and discarding)
/// so that the client sees the answer instead of a reset: 2 s.
pub const LINGER: Duration = Duration::from_secs(2);

/// The limits of one server: the constants above, with the body limit its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_head_bytes: usize,
    pub max_headers: usize,
    /// Largest request body: a declared `Content-Length` beyond it is refused with 413 before
    /// anything of the body is read; a chunked body fails as soon as it grows past it. Handlers may
    /// set a lower limit per route.
    pub max_body_bytes: u64,
    pub head_timeout: Duration,
    pub request_timeout: Duration,
    pub io_timeout: Duration,
    pub idle_timeout: Duration,
    pub max_connections: usize,
    pub linger: Duration,
}

impl Limits {
    /// The default limits with a body limit of `max_body_bytes`.
    #[must_use]
    pub fn new(max_body_bytes: u64) -> Self {
        Self {
            max_head_bytes: MAX_HEAD_BYTES,
            max_headers: MAX_HEADERS,
            max_body_bytes,
            head_timeout: HEAD_TIMEOUT,
            request_timeout: REQUEST_TIMEOUT,
            io_timeout: IO_TIMEOUT,
            idle_timeout: IDLE_TIMEOUT,
            max_connections: MAX_CONNECTIONS,
            linger: LINGER,
        }
    }
}
