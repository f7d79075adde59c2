//! Forwarding one request: rewrite the headers, stream the body upstream, then stream the
//! response back chunk by chunk while metering it; 502 when the upstream cannot be reached.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};

use serde_json::json;

use super::headers::{self, forwardable_request_headers, forwardable_response_headers};
use super::http1::{self, BodyFraming, BodyReader, Framing, RequestHead};
use super::keyless::Keyless;
use super::meter::{Meter, Usage};
use super::upstream::Target;

/// Size of one read from the upstream; whatever a read returns is sent on at once.
const CHUNK: usize = 16 << 10;

/// What every worker shares.
#[derive(Debug)]
pub struct Shared {
    pub target: Target,
    pub agent: ureq::Agent,
    /// The upstream proxy in use, for error messages.
    pub via: Option<String>,
    pub keyless: Option<Keyless>,
}

/// How one exchange ended, for the access log and the connection loop.
#[derive(Debug, Clone, Copy)]
pub struct Exchange {
    pub status: u16,
    pub bytes: u64,
    pub keep_alive: bool,
}

/// Forwards a request and writes the upstream's answer (or a local 401/502) to `out`.
pub fn forward(
    shared: &Shared,
    head: &RequestHead,
    framing: Framing,
    body: &mut BodyReader<'_>,
    out: &mut TcpStream,
    keep_alive: bool,
) -> io::Result<Exchange> {
    let token = match &shared.keyless {
        None => None,
        Some(keyless) => match keyless.authorize(&head.headers) {
            Some(token) => Some(token),
            None => return unauthorized(out, keep_alive && body.is_finished()),
        },
    };
    let request = build_request(shared, head);
    let result = match framing {
        Framing::Length(0) => request.call(),
        Framing::Length(n) => request
            .set("Content-Length", &n.to_string())
            .send(&mut *body),
        Framing::Chunked => request.send(&mut *body),
    };
    let keep_alive = keep_alive && body.is_finished();
    let response = match result {
        Ok(response) | Err(ureq::Error::Status(_, response)) => response,
        Err(ureq::Error::Transport(err)) => {
            record(shared, token.as_deref(), Usage::default(), true);
            return bad_gateway(shared, &err, out, keep_alive);
        }
    };
    let mut meter = Meter::for_content_type(response.header("content-type"));
    let outcome = relay(head, response, out, keep_alive, &mut meter);
    let failed = outcome.as_ref().map_or(true, |x| x.status >= 400);
    record(shared, token.as_deref(), meter.finish(), failed);
    outcome
}

fn record(shared: &Shared, token: Option<&str>, usage: Usage, failed: bool) {
    if let (Some(keyless), Some(token)) = (&shared.keyless, token) {
        keyless.record(token, usage, failed);
    }
}

/// The upstream request: same method, joined URL, filtered headers (repeated names joined with
/// `, `), identity encoding, and in keyless mode the real key in place of the token.
fn build_request(shared: &Shared, head: &RequestHead) -> ureq::Request {
    let url = headers::join_url(&shared.target.base, &head.target);
    let drop: &[&str] = if shared.keyless.is_some() {
        &["x-api-key", "authorization"]
    } else {
        &[]
    };
    let mut merged: Vec<(String, String)> = Vec::new();
    for (name, value) in forwardable_request_headers(&head.headers, drop) {
        match merged
            .iter_mut()
            .find(|(n, _)| n.eq_ignore_ascii_case(&name))
        {
            Some((_, existing)) => {
                existing.push_str(", ");
                existing.push_str(&value);
            }
            None => merged.push((name, value)),
        }
    }
    let mut request = shared.agent.request(&head.method, &url);
    for (name, value) in &merged {
        request = request.set(name, value);
    }
    request = request.set("Accept-Encoding", "identity");
    if let Some(keyless) = &shared.keyless {
        let (name, value) = keyless.credential(&head.headers);
        request = request.set(&name, &value);
    }
    request
}

/// The response headers to send and the framing of the body towards the client: the upstream's
/// `Content-Length` is kept, an unframed body is chunked for HTTP/1.1 clients (closed for 1.0).
fn response_head(
    head: &RequestHead,
    response: &ureq::Response,
) -> (Vec<(String, String)>, BodyFraming) {
    let status = response.status();
    let mut upstream_headers = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    for name in response.headers_names() {
        if seen.contains(&name) {
            continue;
        }
        for value in response.all(&name) {
            upstream_headers.push((name.clone(), value.to_owned()));
        }
        seen.push(name);
    }
    let upstream_length = response
        .header("content-length")
        .filter(|_| !response.has("transfer-encoding"))
        .and_then(|v| v.trim().parse::<u64>().ok());
    let is_head = head.method.eq_ignore_ascii_case("HEAD");
    let framing = match (
        is_head || matches!(status, 100..=199 | 204 | 304),
        upstream_length,
    ) {
        (true, _) => BodyFraming::None,
        (false, Some(n)) => BodyFraming::Length(n),
        (false, None) if head.minor_version >= 1 => BodyFraming::Chunked,
        (false, None) => BodyFraming::Close,
    };
    let mut headers = forwardable_response_headers(&upstream_headers);
    if let (true, Some(n)) = (is_head, upstream_length) {
        headers.push(("Content-Length".to_owned(), n.to_string()));
    }
    (headers, framing)
}

/// Streams the upstream response to the client, flushing every piece as it arrives. An upstream
/// failure after the head was sent aborts the client connection instead of corrupting it.
fn relay(
    head: &RequestHead,
    response: ureq::Response,
    out: &mut TcpStream,
    keep_alive: bool,
    meter: &mut Meter,
) -> io::Result<Exchange> {
    let status = response.status();
    let (headers, framing) = response_head(head, &response);
    let reason = response.status_text().to_owned();
    http1::write_head(out, status, &reason, &headers, framing, keep_alive)?;
    let mut reader = response.into_reader();
    let mut buf = vec![0u8; CHUNK];
    let mut bytes = 0u64;
    loop {
        match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                http1::write_piece(out, framing, &buf[..n])?;
                meter.observe(&buf[..n]);
                bytes += n as u64;
            }
            Err(err) => {
                log::warn!("upstream failed after {bytes} bytes of a {status} response: {err}");
                let _ = out.shutdown(Shutdown::Both);
                return Err(err);
            }
        }
    }
    http1::write_end(out, framing)?;
    Ok(Exchange {
        status,
        bytes,
        keep_alive: keep_alive && framing != BodyFraming::Close,
    })
}

fn unauthorized(out: &mut impl Write, keep_alive: bool) -> io::Result<Exchange> {
    let body = json!({"type": "error", "error": {
        "type": "authentication_error",
        "message": "sforge proxy (keyless mode): send the run token minted for this run as x-api-key or Authorization: Bearer; this token is missing, unknown or revoked",
    }});
    send_json(out, 401, &body, keep_alive)
}

fn bad_gateway(
    shared: &Shared,
    err: &ureq::Transport,
    out: &mut impl Write,
    keep_alive: bool,
) -> io::Result<Exchange> {
    let via = shared.via.as_deref().map_or_else(
        || "directly".to_owned(),
        |p| format!("through the proxy {p}"),
    );
    let mut message = format!(
        "sforge proxy could not reach the upstream {} ({via}): {err}",
        shared.target.base
    );
    if err.to_string().to_ascii_lowercase().contains("certificate") {
        message.push_str("; if the upstream or a TLS-inspecting proxy on the way uses a private CA, start sforge proxy with --ca-file <PEM> (or SFORGE_PROXY_CA_FILE)");
    }
    log::warn!("{message}");
    let body =
        json!({"type": "error", "error": {"type": "upstream_unreachable", "message": message}});
    send_json(out, 502, &body, keep_alive)
}

/// Writes a local JSON answer.
pub fn send_json(
    out: &mut impl Write,
    status: u16,
    body: &serde_json::Value,
    keep_alive: bool,
) -> io::Result<Exchange> {
    let text = format!("{body}\n");
    http1::write_simple(out, status, "application/json", text.as_bytes(), keep_alive)?;
    Ok(Exchange {
        status,
        bytes: text.len() as u64,
        keep_alive,
    })
}
