//! HTTP/1.1 framing of the proxy's front end: request heads parsed with `httparse`, request bodies
//! read by `Content-Length` or chunked, and responses written with each chunk flushed at once.

use std::fmt::Write as _;
use std::io::{self, BufRead, BufReader, Read, Take, Write};
use std::net::TcpStream;

/// Largest request head (request line and headers) accepted.
pub const MAX_HEAD: usize = 64 << 10;
/// Most request headers accepted.
const MAX_HEADERS: usize = 128;

/// A parsed request line and its headers (values decoded as UTF-8, lossily).
#[derive(Debug, Clone)]
pub struct RequestHead {
    pub method: String,
    pub target: String,
    /// The minor version: 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub minor_version: u8,
    pub headers: Vec<(String, String)>,
}

/// Why a request head could not be read.
#[derive(Debug, thiserror::Error)]
pub enum HeadError {
    #[error("reading the request failed: {0}")]
    Io(#[from] io::Error),
    #[error("the request head is larger than {MAX_HEAD} bytes")]
    TooLarge,
    #[error("malformed request: {0}")]
    Malformed(String),
}

impl RequestHead {
    fn header(&self, name: &str) -> Option<&str> {
        super::headers::find(&self.headers, name)
    }

    /// Whether the client wants the connection kept open after this exchange.
    #[must_use]
    pub fn wants_keep_alive(&self) -> bool {
        let tokens = self.header("connection").unwrap_or("").to_ascii_lowercase();
        if self.minor_version == 0 {
            tokens.contains("keep-alive")
        } else {
            !tokens.contains("close")
        }
    }

    /// How the request body is framed.
    pub fn body_framing(&self) -> Result<Framing, HeadError> {
        if let Some(te) = self.header("transfer-encoding") {
            return if te.to_ascii_lowercase().trim_end().ends_with("chunked") {
                Ok(Framing::Chunked)
            } else {
                Err(HeadError::Malformed(format!(
                    "unsupported Transfer-Encoding {te:?}"
                )))
            };
        }
        match self.header("content-length") {
            None => Ok(Framing::Length(0)),
            Some(text) => text
                .trim()
                .parse()
                .map(Framing::Length)
                .map_err(|_| HeadError::Malformed(format!("invalid Content-Length {text:?}"))),
        }
    }
}

/// How a body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    Length(u64),
    Chunked,
}

/// Reads one request head; `Ok(None)` when the client closed the connection before a new request.
pub fn read_head(reader: &mut BufReader<TcpStream>) -> Result<Option<RequestHead>, HeadError> {
    let mut raw = Vec::with_capacity(1024);
    loop {
        let room = (MAX_HEAD - raw.len()) as u64;
        let n = (&mut *reader).take(room).read_until(b'\n', &mut raw)?;
        if n == 0 {
            return if raw.is_empty() {
                Ok(None)
            } else if raw.len() >= MAX_HEAD {
                Err(HeadError::TooLarge)
            } else {
                Err(HeadError::Malformed("connection closed mid-head".into()))
            };
        }
        if raw.ends_with(b"\r\n\r\n") || raw.ends_with(b"\n\n") || raw == b"\r\n" {
            if raw.len() <= 2 {
                raw.clear(); // a stray empty line between requests (RFC 9112 §2.2)
                continue;
            }
            return parse_head(&raw).map(Some);
        }
    }
}

fn parse_head(raw: &[u8]) -> Result<RequestHead, HeadError> {
    let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut slots);
    match req.parse(raw) {
        Ok(httparse::Status::Complete(_)) => {}
        Ok(httparse::Status::Partial) => return Err(HeadError::Malformed("incomplete".into())),
        Err(e) => return Err(HeadError::Malformed(e.to_string())),
    }
    let headers = req
        .headers
        .iter()
        .map(|h| {
            (
                h.name.to_owned(),
                String::from_utf8_lossy(h.value).into_owned(),
            )
        })
        .collect();
    Ok(RequestHead {
        method: req.method.unwrap_or("GET").to_owned(),
        target: req.path.unwrap_or("/").to_owned(),
        minor_version: req.version.unwrap_or(1),
        headers,
    })
}

enum Inner<'a> {
    Length(Take<&'a mut BufReader<TcpStream>>),
    Chunked(chunked_transfer::Decoder<&'a mut BufReader<TcpStream>>),
}

/// A request body being streamed from the client; remembers whether it was read to its end (only
/// then may the connection carry another request).
pub struct BodyReader<'a> {
    inner: Inner<'a>,
    finished: bool,
    pub bytes: u64,
}

impl<'a> BodyReader<'a> {
    #[must_use]
    pub fn new(reader: &'a mut BufReader<TcpStream>, framing: Framing) -> Self {
        let (inner, finished) = match framing {
            Framing::Length(n) => (Inner::Length(reader.take(n)), n == 0),
            Framing::Chunked => (
                Inner::Chunked(chunked_transfer::Decoder::new(reader)),
                false,
            ),
        };
        BodyReader {
            inner,
            finished,
            bytes: 0,
        }
    }

    /// Whether the body was read to its end.
    #[must_use]
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// Whether the body has no bytes at all (known only for `Content-Length` bodies).
    #[must_use]
    pub fn is_empty_length(&self) -> bool {
        matches!(&self.inner, Inner::Length(t) if t.limit() == 0 && self.bytes == 0)
    }
}

impl Read for BodyReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.finished || buf.is_empty() {
            return Ok(0);
        }
        let n = match &mut self.inner {
            Inner::Length(r) => {
                let remaining = r.limit();
                let n = r.read(buf)?;
                if n == 0 && remaining > 0 {
                    return Err(io::ErrorKind::UnexpectedEof.into());
                }
                n
            }
            Inner::Chunked(r) => r.read(buf)?,
        };
        self.bytes += n as u64;
        if n == 0 || matches!(&self.inner, Inner::Length(t) if t.limit() == 0) {
            self.finished = true;
        }
        Ok(n)
    }
}

/// How the proxy frames a response body towards the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFraming {
    /// No body (HEAD, 204, 304).
    None,
    Length(u64),
    Chunked,
    /// The body ends when the connection closes (HTTP/1.0 clients).
    Close,
}

/// Writes a response head: status line, the given headers, framing and connection headers.
pub fn write_head(
    out: &mut impl Write,
    status: u16,
    reason: &str,
    headers: &[(String, String)],
    framing: BodyFraming,
    keep_alive: bool,
) -> io::Result<()> {
    let mut head = format!("HTTP/1.1 {status} {reason}\r\n");
    for (name, value) in headers {
        let _ = write!(head, "{name}: {value}\r\n");
    }
    match framing {
        BodyFraming::Length(n) => {
            let _ = write!(head, "Content-Length: {n}\r\n");
        }
        BodyFraming::Chunked => head.push_str("Transfer-Encoding: chunked\r\n"),
        BodyFraming::None | BodyFraming::Close => {}
    }
    let keep = keep_alive && framing != BodyFraming::Close;
    head.push_str(if keep {
        "Connection: keep-alive\r\n\r\n"
    } else {
        "Connection: close\r\n\r\n"
    });
    out.write_all(head.as_bytes())?;
    out.flush()
}

/// Writes one piece of body in the given framing and flushes it (one `write` per piece).
pub fn write_piece(out: &mut impl Write, framing: BodyFraming, data: &[u8]) -> io::Result<()> {
    if data.is_empty() {
        return Ok(());
    }
    if framing == BodyFraming::Chunked {
        let mut piece = Vec::with_capacity(data.len() + 12);
        piece.extend_from_slice(format!("{:x}\r\n", data.len()).as_bytes());
        piece.extend_from_slice(data);
        piece.extend_from_slice(b"\r\n");
        out.write_all(&piece)?;
    } else {
        out.write_all(data)?;
    }
    out.flush()
}

/// Ends a chunked body.
pub fn write_end(out: &mut impl Write, framing: BodyFraming) -> io::Result<()> {
    if framing == BodyFraming::Chunked {
        out.write_all(b"0\r\n\r\n")?;
    }
    out.flush()
}

/// A complete small response (errors, admin API answers).
pub fn write_simple(
    out: &mut impl Write,
    status: u16,
    content_type: &str,
    body: &[u8],
    keep_alive: bool,
) -> io::Result<()> {
    let headers = [("Content-Type".to_owned(), content_type.to_owned())];
    let reason = reason_phrase(status);
    write_head(
        out,
        status,
        reason,
        &headers,
        BodyFraming::Length(body.len() as u64),
        keep_alive,
    )?;
    out.write_all(body)?;
    out.flush()
}

/// Reason phrases of the statuses the proxy produces itself.
#[must_use]
pub fn reason_phrase(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        413 => "Content Too Large",
        431 => "Request Header Fields Too Large",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "",
    }
}
