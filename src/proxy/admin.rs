//! The admin API under `/_sforge/proxy/v1/` (keyless mode only; 404 otherwise): mint a run token,
//! read its usage, revoke it. Every call needs the `X-SForge-Proxy-Admin` secret.

use std::io::{self, Read};

use serde_json::{json, Value};

use super::forward::send_json;
use super::keyless::Keyless;
use super::path::RequestPath;
use crate::http::{is_too_large, Body, Head, Response};

const TOKENS: &str = "/_sforge/proxy/v1/tokens";
const USAGE: &str = "/_sforge/proxy/v1/usage";
/// Largest admin request body.
const MAX_BODY: u64 = 64 << 10;

/// Answers a request for a local path (routed by its normalised form).
pub fn handle(
    keyless: Option<&Keyless>,
    head: &Head,
    path: &RequestPath,
    body: &mut Body<'_>,
    res: &mut Response<'_>,
) -> io::Result<()> {
    let Some(keyless) = keyless else {
        let err = "not found: the sforge proxy admin API exists only in keyless mode (--inject-key-from-env)";
        return send_json(res, 404, &json!({"error": err}));
    };
    if !keyless.is_admin(&head.headers) {
        let err = "unauthorized: send the proxy admin secret in X-SForge-Proxy-Admin";
        return send_json(res, 401, &json!({"error": err}));
    }
    let mut text = Vec::new();
    body.limit_to(MAX_BODY);
    match body.read_to_end(&mut text) {
        Ok(_) => {}
        Err(e) if is_too_large(&e) => {
            return send_json(res, 413, &json!({"error": "admin request body too large"}));
        }
        Err(e) => return Err(e),
    }
    let query = head.target.split_once('?').map_or("", |(_, q)| q);
    let (status, answer) = route(keyless, &head.method, &path.normalised, query, &text);
    send_json(res, status, &answer)
}

fn route(keyless: &Keyless, method: &str, path: &str, query: &str, body: &[u8]) -> (u16, Value) {
    match (method, path) {
        ("POST", TOKENS) => mint(keyless, body),
        ("GET", USAGE) => {
            let token = form_urlencoded::parse(query.as_bytes())
                .find(|(k, _)| k == "token")
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default();
            match keyless.usage(&token) {
                Some(usage) => (200, usage),
                None => not_found_token(),
            }
        }
        ("DELETE", _) if path.starts_with(TOKENS) && path.len() > TOKENS.len() + 1 => {
            let token = &path[TOKENS.len() + 1..];
            match keyless.revoke(token) {
                Some(usage) => (200, usage),
                None => not_found_token(),
            }
        }
        (_, TOKENS | USAGE) => (
            405,
            json!({"error": format!("method {method} not allowed")}),
        ),
        _ => (404, json!({"error": format!("no admin endpoint {path}")})),
    }
}

fn mint(keyless: &Keyless, body: &[u8]) -> (u16, Value) {
    let request: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => return (400, json!({"error": format!("body is not JSON: {e}")})),
    };
    let field = |name: &str| request.get(name).and_then(Value::as_str).map(str::to_owned);
    let Some(run_id) = field("run_id").filter(|r| !r.is_empty()) else {
        return (
            400,
            json!({"error": "body needs a non-empty string \"run_id\""}),
        );
    };
    let task = field("task").unwrap_or_default();
    match keyless.mint(&run_id, &task) {
        Ok(token) => {
            log::info!("minted a proxy token for run {run_id:?} task {task:?}");
            (201, json!({"token": token}))
        }
        Err(e) => (
            500,
            json!({"error": format!("cannot generate a token: {e}")}),
        ),
    }
}

fn not_found_token() -> (u16, Value) {
    (404, json!({"error": "unknown token"}))
}
