//! A request body as a handler reads it: framed by `Content-Length` or chunked, counted against
//! the body limit as it streams, and sending `100 Continue` only when the handler starts reading.

use std::io::{self, BufRead, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};

use super::chunked::ChunkedDecoder;
use super::head::Framing;

/// The error inside the `io::Error` a body read fails with once the body outgrows its limit.
#[derive(Debug, thiserror::Error)]
#[error("the request body is larger than {limit} bytes")]
pub struct TooLarge {
    pub limit: u64,
}

/// Whether a read failed because the body outgrew its limit.
#[must_use]
pub fn is_too_large(err: &io::Error) -> bool {
    err.get_ref()
        .is_some_and(<dyn std::error::Error + Send + Sync>::is::<TooLarge>)
}

#[derive(Debug)]
enum Kind {
    Length(u64),
    Chunked(ChunkedDecoder),
}

/// The body of one request.
pub struct Body<'a> {
    src: &'a mut (dyn BufRead + Send),
    kind: Kind,
    declared: Option<u64>,
    limit: u64,
    read: u64,
    over_limit: bool,
    /// Where `100 Continue` goes, while it is owed.
    interim: Option<&'a TcpStream>,
    finished: &'a AtomicBool,
}

impl std::fmt::Debug for Body<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Body")
            .field("kind", &self.kind)
            .field("limit", &self.limit)
            .field("read", &self.read)
            .finish_non_exhaustive()
    }
}

impl<'a> Body<'a> {
    /// A body read from `src` in `framing`, at most `limit` bytes; `finished` is set once it was
    /// read to its end. `interim` is the client connection when it expects `100 Continue`.
    pub fn new(
        src: &'a mut (dyn BufRead + Send),
        framing: Framing,
        limit: u64,
        interim: Option<&'a TcpStream>,
        finished: &'a AtomicBool,
    ) -> Self {
        let (kind, declared) = match framing {
            Framing::Length(n) => (Kind::Length(n), Some(n)),
            Framing::Chunked => (Kind::Chunked(ChunkedDecoder::default()), None),
        };
        let empty = declared == Some(0);
        finished.store(empty, Ordering::SeqCst);
        Self {
            src,
            kind,
            declared,
            limit,
            read: 0,
            over_limit: false,
            interim: interim.filter(|_| !empty),
            finished,
        }
    }

    /// The declared `Content-Length`; `None` for a chunked body.
    #[must_use]
    pub fn declared_len(&self) -> Option<u64> {
        self.declared
    }

    /// The body's framing.
    #[must_use]
    pub fn framing(&self) -> Framing {
        self.declared.map_or(Framing::Chunked, Framing::Length)
    }

    /// Lowers the limit for this request (a route that accepts less than the server).
    pub fn limit_to(&mut self, limit: u64) {
        self.limit = self.limit.min(limit);
    }

    /// Whether the body was read to its end.
    #[must_use]
    pub fn is_finished(&self) -> bool {
        self.finished.load(Ordering::SeqCst)
    }

    /// Whether a read failed because the body outgrew its limit.
    #[must_use]
    pub fn is_over_limit(&self) -> bool {
        self.over_limit
    }

    /// Bytes of body read so far.
    #[must_use]
    pub fn bytes_read(&self) -> u64 {
        self.read
    }

    fn too_large(&mut self) -> io::Error {
        self.over_limit = true;
        io::Error::new(io::ErrorKind::InvalidData, TooLarge { limit: self.limit })
    }
}

impl Read for Body<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.is_finished() || buf.is_empty() {
            return Ok(0);
        }
        if self.declared.is_some_and(|n| n > self.limit) || self.over_limit {
            return Err(self.too_large());
        }
        if let Some(mut out) = self.interim.take() {
            out.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
        }
        let n = match &mut self.kind {
            Kind::Length(left) => {
                let want = buf.len().min(usize::try_from(*left).unwrap_or(usize::MAX));
                let n = self.src.read(&mut buf[..want])?;
                if n == 0 {
                    return Err(io::ErrorKind::UnexpectedEof.into());
                }
                *left -= n as u64;
                if *left == 0 {
                    self.finished.store(true, Ordering::SeqCst);
                }
                n
            }
            Kind::Chunked(decoder) => {
                let n = decoder.read(&mut *self.src, buf)?;
                if decoder.is_done() {
                    self.finished.store(true, Ordering::SeqCst);
                }
                n
            }
        };
        self.read += n as u64;
        if self.read > self.limit {
            return Err(self.too_large());
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(input: &[u8], framing: Framing, limit: u64) -> (io::Result<Vec<u8>>, bool) {
        let mut src = input;
        let done = AtomicBool::new(false);
        let mut body = Body::new(&mut src, framing, limit, None, &done);
        let mut out = Vec::new();
        let result = body.read_to_end(&mut out).map(|_| out);
        (result, body.is_finished())
    }

    #[test]
    fn bodies_end_where_their_framing_says() {
        let (data, done) = read_all(b"abcdef", Framing::Length(3), 10);
        assert_eq!((data.unwrap(), done), (b"abc".to_vec(), true));
        let (data, done) = read_all(b"3\r\nabc\r\n0\r\n\r\nGET", Framing::Chunked, 10);
        assert_eq!((data.unwrap(), done), (b"abc".to_vec(), true));
        let (data, done) = read_all(b"ab", Framing::Length(3), 10);
        assert!(data.is_err() && !done);
    }

    #[test]
    fn limits_hold_for_both_framings() {
        let (data, _) = read_all(b"abcdef", Framing::Length(6), 5);
        assert!(is_too_large(&data.unwrap_err()));
        let (data, _) = read_all(b"3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n", Framing::Chunked, 5);
        assert!(is_too_large(&data.unwrap_err()));
        let (data, _) = read_all(b"3\r\nabc\r\n0\r\n\r\n", Framing::Chunked, 3);
        assert_eq!(data.unwrap(), b"abc");
    }
}
