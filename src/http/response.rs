//! Writing responses: the status line and header fields, a body framed by length or chunked with
//! every piece flushed at once (event streams reach the client as they are produced), and small
//! complete answers.

use std::fmt::Write as _;
use std::io::{self, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};

/// How a response body is framed towards the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFraming {
    /// No body (HEAD, 204, 304).
    None,
    Length(u64),
    Chunked,
    /// The body ends when the connection closes (for HTTP/1.0 clients).
    Close,
}

/// What the head said.
#[derive(Debug, Clone, Copy)]
struct Started {
    status: u16,
    framing: BodyFraming,
    keep_alive: bool,
}

/// The response to one request, written straight to the client connection.
#[derive(Debug)]
pub struct Response<'a> {
    out: &'a TcpStream,
    wants_keep_alive: bool,
    body_finished: &'a AtomicBool,
    is_head: bool,
    /// The client's HTTP minor version (HTTP/1.0 has no chunked framing).
    client_minor: u8,
    started: Option<Started>,
    ended: bool,
    bytes: u64,
}

impl<'a> Response<'a> {
    /// A response on `out`; the connection is kept open only when the client wants it, the
    /// request body was read to its end (`body_finished`) and the response is complete.
    #[must_use]
    pub fn new(
        out: &'a TcpStream,
        wants_keep_alive: bool,
        body_finished: &'a AtomicBool,
        is_head: bool,
    ) -> Self {
        Self {
            out,
            wants_keep_alive,
            body_finished,
            is_head,
            client_minor: 1,
            started: None,
            ended: false,
            bytes: 0,
        }
    }

    /// The client's HTTP minor version: to an HTTP/1.0 client (0) a chunked body is sent
    /// unframed instead, ending with the connection (HTTP/1.0 has no chunked encoding).
    #[must_use]
    pub fn for_client_version(mut self, minor: u8) -> Self {
        self.client_minor = minor;
        self
    }

    /// Writes the status line and headers (plus framing and `Connection`).
    pub fn start(
        &mut self,
        status: u16,
        reason: &str,
        headers: &[(String, String)],
        framing: BodyFraming,
    ) -> io::Result<()> {
        let framing = match framing {
            BodyFraming::Chunked if self.client_minor == 0 => BodyFraming::Close,
            other => other,
        };
        let keep_alive = self.wants_keep_alive
            && self.body_finished.load(Ordering::SeqCst)
            && framing != BodyFraming::Close;
        self.started = Some(Started {
            status,
            framing,
            keep_alive,
        });
        let head = head_bytes(status, reason, headers, framing, keep_alive);
        let mut out = self.out;
        out.write_all(&head)?;
        out.flush()
    }

    /// Writes one piece of body and flushes it (one `write` per piece).
    pub fn write(&mut self, data: &[u8]) -> io::Result<()> {
        let framing = self.started.map_or(BodyFraming::None, |s| s.framing);
        if data.is_empty() || framing == BodyFraming::None {
            return Ok(());
        }
        let mut out = self.out;
        if framing == BodyFraming::Chunked {
            let mut piece = Vec::with_capacity(data.len() + 12);
            piece.extend_from_slice(format!("{:x}\r\n", data.len()).as_bytes());
            piece.extend_from_slice(data);
            piece.extend_from_slice(b"\r\n");
            out.write_all(&piece)?;
        } else {
            out.write_all(data)?;
        }
        self.bytes += data.len() as u64;
        out.flush()
    }

    /// Ends the body.
    pub fn end(&mut self) -> io::Result<()> {
        let mut out = self.out;
        if self
            .started
            .is_some_and(|s| s.framing == BodyFraming::Chunked)
        {
            out.write_all(b"0\r\n\r\n")?;
        }
        out.flush()?;
        self.ended = true;
        Ok(())
    }

    /// A complete response with a body of known length (none is sent for `HEAD`).
    pub fn send(&mut self, status: u16, content_type: &str, body: &[u8]) -> io::Result<()> {
        let headers = [("Content-Type".to_owned(), content_type.to_owned())];
        self.start(
            status,
            reason_phrase(status),
            &headers,
            BodyFraming::Length(body.len() as u64),
        )?;
        if !self.is_head {
            self.write(body)?;
        }
        self.end()
    }

    /// A complete JSON response.
    pub fn json(&mut self, status: u16, body: &serde_json::Value) -> io::Result<()> {
        let bytes = serde_json::to_vec(body).map_err(io::Error::other)?;
        self.send(status, "application/json", &bytes)
    }

    /// Cuts the connection (an upstream failed after the head was sent).
    pub fn abort(&mut self) {
        if let Some(started) = &mut self.started {
            started.keep_alive = false;
        }
        let _ = self.out.shutdown(Shutdown::Both);
    }

    /// The status sent, if the head was.
    #[must_use]
    pub fn status(&self) -> Option<u16> {
        self.started.map(|s| s.status)
    }

    /// Body bytes sent.
    #[must_use]
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Whether the connection may carry another request.
    #[must_use]
    pub fn is_reusable(&self) -> bool {
        self.ended && self.started.is_some_and(|s| s.keep_alive)
    }
}

/// The bytes of a response head.
#[must_use]
pub fn head_bytes(
    status: u16,
    reason: &str,
    headers: &[(String, String)],
    framing: BodyFraming,
    keep_alive: bool,
) -> Vec<u8> {
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
    head.push_str(if keep_alive {
        "Connection: keep-alive\r\n\r\n"
    } else {
        "Connection: close\r\n\r\n"
    });
    head.into_bytes()
}

/// Reason phrases of the statuses sforge's servers produce themselves.
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
        408 => "Request Timeout",
        413 => "Content Too Large",
        422 => "Unprocessable Content",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_carry_framing_and_connection() {
        let h = [("A".to_owned(), "1".to_owned())];
        let text =
            String::from_utf8(head_bytes(200, "OK", &h, BodyFraming::Length(3), true)).unwrap();
        assert_eq!(
            text,
            "HTTP/1.1 200 OK\r\nA: 1\r\nContent-Length: 3\r\nConnection: keep-alive\r\n\r\n"
        );
        let text = String::from_utf8(head_bytes(
            502,
            "Bad Gateway",
            &[],
            BodyFraming::Chunked,
            false,
        ))
        .unwrap();
        assert!(text.ends_with("Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"));
    }
}
