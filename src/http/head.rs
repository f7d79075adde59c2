//! Request heads: read within a byte bound, parsed with `httparse`, and their body framing decided
//! strictly — ambiguous framing is refused, never guessed (RFC 9112 §6.3).

use std::io::{self, BufRead, Read};

use super::limits::Limits;

/// Empty lines tolerated before a request line (RFC 9112 §2.2 allows at least one).
const MAX_LEADING_EMPTY_LINES: usize = 4;

/// A parsed request line and its header fields (values decoded as UTF-8, lossily).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub method: String,
    /// The request target as sent (origin form `/path?query`, or any other form).
    pub target: String,
    /// The minor version: 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub minor_version: u8,
    pub headers: Vec<(String, String)>,
}

/// Why a request head was refused.
#[derive(Debug, thiserror::Error)]
pub enum HeadError {
    #[error("reading the request failed: {0}")]
    Io(#[from] io::Error),
    #[error("the request head is larger than {0} bytes")]
    TooLarge(usize),
    #[error("the request has more than {0} header fields")]
    TooManyHeaders(usize),
    #[error("malformed request: {0}")]
    Malformed(String),
    #[error("ambiguous request framing: {0}")]
    Framing(String),
}

impl HeadError {
    /// The status to answer with, or `None` when the connection is gone and nobody would read it.
    #[must_use]
    pub fn status(&self) -> Option<u16> {
        match self {
            HeadError::Io(e) if is_timeout(e) => Some(408),
            HeadError::Io(_) => None,
            HeadError::TooLarge(_) | HeadError::TooManyHeaders(_) => Some(431),
            HeadError::Malformed(_) | HeadError::Framing(_) => Some(400),
        }
    }
}

/// Whether an I/O error is a read or write timeout.
#[must_use]
pub fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
    )
}

/// How a request body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    Length(u64),
    Chunked,
}

impl Head {
    /// The value of the first header field called `name` (case-insensitive).
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every value of the header fields called `name`, in order.
    pub fn values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The target's path, without the query.
    #[must_use]
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }

    /// Whether the client wants the connection kept open after this exchange.
    #[must_use]
    pub fn wants_keep_alive(&self) -> bool {
        let has = |token: &str| {
            self.values("connection")
                .flat_map(|v| v.split(','))
                .any(|t| t.trim().eq_ignore_ascii_case(token))
        };
        if self.minor_version == 0 {
            has("keep-alive")
        } else {
            !has("close")
        }
    }

    /// Whether the client waits for `100 Continue` before sending its body.
    #[must_use]
    pub fn expects_continue(&self) -> bool {
        self.minor_version >= 1
            && self
                .header("expect")
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("100-continue"))
    }

    /// How the body is framed. `Transfer-Encoding` together with `Content-Length`, more than one
    /// `Content-Length`, a length that is not plain decimal digits, a transfer coding other than
    /// exactly `chunked`, and `Transfer-Encoding` in HTTP/1.0 are all refused.
    pub fn framing(&self) -> Result<Framing, HeadError> {
        let lengths: Vec<&str> = self.values("content-length").collect();
        let codings: Vec<String> = self
            .values("transfer-encoding")
            .flat_map(|v| v.split(','))
            .map(|c| c.trim().to_ascii_lowercase())
            .collect();
        let refuse = |why: String| Err(HeadError::Framing(why));
        if !codings.is_empty() {
            if !lengths.is_empty() {
                return refuse("Content-Length together with Transfer-Encoding".into());
            }
            if self.minor_version == 0 {
                return refuse("Transfer-Encoding in an HTTP/1.0 request".into());
            }
            if codings != ["chunked"] {
                return refuse(format!(
                    "unsupported Transfer-Encoding {:?}: only \"chunked\" is accepted",
                    codings.join(", ")
                ));
            }
            return Ok(Framing::Chunked);
        }
        match lengths.as_slice() {
            [] => Ok(Framing::Length(0)),
            [one] => parse_length(one)
                .map(Framing::Length)
                .ok_or_else(|| HeadError::Framing(format!("invalid Content-Length {one:?}"))),
            _ => refuse("more than one Content-Length".into()),
        }
    }
}

/// A `Content-Length` value: 1 to 19 decimal digits, nothing else (no sign, no list).
fn parse_length(value: &str) -> Option<u64> {
    let digits = value.trim_matches([' ', '\t']);
    let plain =
        !digits.is_empty() && digits.len() <= 19 && digits.bytes().all(|b| b.is_ascii_digit());
    plain.then(|| digits.parse().ok()).flatten()
}

/// Reads one request head; `Ok(None)` when the client closed the connection before a request.
/// Never reads more than `limits.max_head_bytes` bytes of it.
pub fn read_head<R: BufRead + ?Sized>(
    reader: &mut R,
    limits: &Limits,
) -> Result<Option<Head>, HeadError> {
    let max = limits.max_head_bytes;
    let mut raw = Vec::with_capacity(1024);
    let mut empty_lines = 0;
    loop {
        let room = max - raw.len();
        if room == 0 {
            return Err(HeadError::TooLarge(max));
        }
        let n = Read::take(&mut *reader, room as u64).read_until(b'\n', &mut raw)?;
        if n == 0 {
            return if raw.is_empty() {
                Ok(None)
            } else {
                Err(HeadError::Malformed(
                    "the connection closed inside the head".into(),
                ))
            };
        }
        if raw == b"\r\n" || raw == b"\n" {
            empty_lines += 1;
            if empty_lines > MAX_LEADING_EMPTY_LINES {
                return Err(HeadError::Malformed(
                    "empty lines instead of a request".into(),
                ));
            }
            raw.clear();
        } else if raw.ends_with(b"\n\r\n") || raw.ends_with(b"\n\n") {
            return parse_head(&raw, limits.max_headers).map(Some);
        }
    }
}

/// Parses a complete head (ending with its empty line).
pub fn parse_head(raw: &[u8], max_headers: usize) -> Result<Head, HeadError> {
    let mut slots = vec![httparse::EMPTY_HEADER; max_headers];
    let mut req = httparse::Request::new(&mut slots);
    match req.parse(raw) {
        Ok(httparse::Status::Complete(_)) => {}
        Ok(httparse::Status::Partial) => {
            return Err(HeadError::Malformed("incomplete request head".into()))
        }
        Err(httparse::Error::TooManyHeaders) => return Err(HeadError::TooManyHeaders(max_headers)),
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
    Ok(Head {
        method: req.method.unwrap_or_default().to_owned(),
        target: req.path.unwrap_or_default().to_owned(),
        minor_version: req.version.unwrap_or(1),
        headers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(text: &str) -> Result<Option<Head>, HeadError> {
        read_head(&mut text.as_bytes(), &Limits::new(1 << 20))
    }

    fn framing(headers: &str) -> Result<Framing, HeadError> {
        head(&format!("POST / HTTP/1.1\r\nHost: x\r\n{headers}\r\n"))
            .unwrap()
            .unwrap()
            .framing()
    }

    #[test]
    fn reads_a_head_and_its_fields() {
        let h = head("\r\nGET /a?b=1 HTTP/1.0\r\nConnection: Keep-Alive\r\nX: 1\r\n\r\nrest")
            .unwrap()
            .unwrap();
        assert_eq!(
            (h.method.as_str(), h.path(), h.minor_version),
            ("GET", "/a", 0)
        );
        assert!(h.wants_keep_alive() && !h.expects_continue());
        assert_eq!(h.header("x"), Some("1"));
        assert!(head("").unwrap().is_none());
        assert!(matches!(
            head("GET / HTTP/1.1\r\nX: 1"),
            Err(HeadError::Malformed(_))
        ));
        assert!(matches!(
            head("\r\n\r\n\r\n\r\n\r\n\r\n"),
            Err(HeadError::Malformed(_))
        ));
    }

    #[test]
    fn heads_are_bounded_in_bytes_and_fields() {
        let long = format!("GET / HTTP/1.1\r\nX: {}", "a".repeat(200_000));
        let limits = Limits::new(0);
        let err = read_head(&mut long.as_bytes(), &limits).unwrap_err();
        assert_eq!(err.status(), Some(431));
        let many = "H: v\r\n".repeat(101);
        let err = head(&format!("GET / HTTP/1.1\r\n{many}\r\n")).unwrap_err();
        assert!(matches!(err, HeadError::TooManyHeaders(100)), "{err}");
        assert_eq!(err.status(), Some(431));
    }

    #[test]
    fn plain_framing_is_accepted() {
        assert_eq!(framing("").unwrap(), Framing::Length(0));
        assert_eq!(
            framing("Content-Length: 12\r\n").unwrap(),
            Framing::Length(12)
        );
        assert_eq!(
            framing("Transfer-Encoding: Chunked\r\n").unwrap(),
            Framing::Chunked
        );
    }

    #[test]
    fn ambiguous_framing_is_refused() {
        for bad in [
            "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
            "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n",
            "Content-Length: 5\r\nContent-Length: 5\r\n",
            "Content-Length: 5, 5\r\n",
            "Content-Length: -1\r\n",
            "Content-Length: +5\r\n",
            "Content-Length: 0x10\r\n",
            "Content-Length: 99999999999999999999\r\n",
            "Content-Length: \r\n",
            "Transfer-Encoding: gzip\r\n",
            "Transfer-Encoding: gzip, chunked\r\n",
            "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
            "Transfer-Encoding: identity\r\n",
        ] {
            let err = framing(bad).unwrap_err();
            assert_eq!(err.status(), Some(400), "{bad:?}: {err}");
        }
        let old = head("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n")
            .unwrap()
            .unwrap();
        assert!(old.framing().is_err());
    }
}
