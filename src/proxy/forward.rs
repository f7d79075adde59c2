//! Forwarding one request: rewrite the headers, stream the body upstream, then stream the
//! response back chunk by chunk while metering it; 502 when the upstream cannot be reached.

use std::io::{self, Read};

use serde_json::json;

use super::headers::{forwardable_request_headers, forwardable_response_headers};
use super::keyless::Keyless;
use super::meter::{Meter, Usage};
use super::path::RequestPath;
use super::upstream::Target;
use crate::http::{too_large_message, Body, BodyFraming, Framing, Head, Response};

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
    /// The request body limit (for the 413 of a chunked body that outgrows it).
    pub max_body: u64,
}

/// Forwards a request and writes the upstream's answer (or a local 401/413/502) to `res`.
pub fn forward(
    shared: &Shared,
    head: &Head,
    path: &RequestPath,
    body: &mut Body<'_>,
    res: &mut Response<'_>,
) -> io::Result<()> {
    let token = match &shared.keyless {
        None => None,
        Some(keyless) => match keyless.authorize(&head.headers) {
            Some(token) => Some(token),
            None => return unauthorized(res),
        },
    };
    let request = build_request(shared, head, path);
    let result = match body.framing() {
        Framing::Length(0) => request.call(),
        Framing::Length(n) => request
            .set("Content-Length", &n.to_string())
            .send(&mut *body),
        Framing::Chunked => request.send(&mut *body),
    };
    let response = match result {
        Ok(response) | Err(ureq::Error::Status(_, response)) => response,
        Err(ureq::Error::Transport(_)) if body.is_over_limit() => {
            let message = too_large_message(shared.max_body);
            return send_json(res, 413, &json!({"error": message}));
        }
        Err(ureq::Error::Transport(err)) => {
            record(shared, token.as_deref(), Usage::default(), true);
            return bad_gateway(shared, &err, res);
        }
    };
    let status = response.status();
    let mut meter = Meter::for_content_type(response.header("content-type"));
    let outcome = relay(head, response, res, &mut meter);
    record(
        shared,
        token.as_deref(),
        meter.finish(),
        outcome.is_err() || status >= 400,
    );
    outcome
}

fn record(shared: &Shared, token: Option<&str>, usage: Usage, failed: bool) {
    if let (Some(keyless), Some(token)) = (&shared.keyless, token) {
        keyless.record(token, usage, failed);
    }
}

/// The upstream request: same method, joined URL, filtered headers (repeated names joined with
/// `, `), identity encoding, and in keyless mode the real key in place of the token.
fn build_request(shared: &Shared, head: &Head, path: &RequestPath) -> ureq::Request {
    let url = path.join(&shared.target.base);
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
fn response_head(head: &Head, response: &ureq::Response) -> (Vec<(String, String)>, BodyFraming) {
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
    head: &Head,
    response: ureq::Response,
    res: &mut Response<'_>,
    meter: &mut Meter,
) -> io::Result<()> {
    let status = response.status();
    let (headers, framing) = response_head(head, &response);
    let reason = response.status_text().to_owned();
    res.start(status, &reason, &headers, framing)?;
    let mut reader = response.into_reader();
    let mut buf = vec![0u8; CHUNK];
    loop {
        match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                res.write(&buf[..n])?;
                meter.observe(&buf[..n]);
            }
            Err(err) => {
                log::warn!(
                    "upstream failed after {} bytes of a {status} response: {err}",
                    res.bytes()
                );
                res.abort();
                return Err(err);
            }
        }
    }
    res.end()
}

fn unauthorized(res: &mut Response<'_>) -> io::Result<()> {
    let body = json!({"type": "error", "error": {
        "type": "authentication_error",
        "message": "sforge proxy (keyless mode): send the run token minted for this run as x-api-key or Authorization: Bearer; this token is missing, unknown or revoked",
    }});
    send_json(res, 401, &body)
}

fn bad_gateway(shared: &Shared, err: &ureq::Transport, res: &mut Response<'_>) -> io::Result<()> {
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
    send_json(res, 502, &body)
}

/// Writes a local JSON answer.
pub fn send_json(res: &mut Response<'_>, status: u16, body: &serde_json::Value) -> io::Result<()> {
    res.send(status, "application/json", format!("{body}\n").as_bytes())
}
