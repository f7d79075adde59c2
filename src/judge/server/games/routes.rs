//! The `/api/v1/game/{run}/{task}/...` routes: the run's token (query `token=` or
//! `Authorization: Bearer`) must belong to the run and task of the path, sessions are looked up
//! only within them, and every body is bounded (docs/compatibility.md#game-routes).

use std::io::Read;

use serde_json::Value;

use super::table::Key;
use super::Games;
use crate::http::{is_too_large, too_large_message, Request};
use crate::judge::server::error::{invalid, missing, ApiError};
use crate::judge::server::records::Registration;
use crate::judge::server::service::Judge;

/// Largest body of a game request.
pub const MAX_BODY: u64 = 16 << 10;
/// Longest action, in bytes.
pub const MAX_ACTION: usize = 1024;

/// What a game path asks for.
#[derive(Debug, PartialEq, Eq)]
enum Route<'a> {
    New,
    CloseAll,
    Step(&'a str),
    Status(&'a str),
    Close(&'a str),
}

/// `(run, task, route, method)` of a game path, `None` for other paths.
fn parse(path: &str) -> Option<(&str, &str, Route<'_>)> {
    let rest = path.strip_prefix("/api/v1/game/")?;
    let parts: Vec<&str> = rest.split('/').collect();
    if parts.iter().any(|p| p.is_empty()) {
        return None;
    }
    let route = match parts.as_slice() {
        [_, _, "new"] => Route::New,
        [_, _, "close-all"] => Route::CloseAll,
        [_, _, sid, "step"] => Route::Step(sid),
        [_, _, sid, "status"] => Route::Status(sid),
        [_, _, sid, "close"] => Route::Close(sid),
        _ => return None,
    };
    Some((parts[0], parts[1], route))
}

/// Handles a game route; `None` when `path` is not one.
pub fn dispatch(
    games: Option<&Games>,
    judge: &Judge,
    req: &mut Request<'_>,
    path: &str,
    query: &str,
) -> Option<Result<Value, ApiError>> {
    let (run, task, route) = parse(path)?;
    let method = req.head.method.clone();
    let expected = if matches!(route, Route::Status(_)) {
        "GET"
    } else {
        "POST"
    };
    if method != expected {
        return Some(Err(ApiError::new(405, "Method Not Allowed")));
    }
    Some(handle(games, judge, req, query, (run, task, route)))
}

fn handle(
    games: Option<&Games>,
    judge: &Judge,
    req: &mut Request<'_>,
    query: &str,
    (run, task, route): (&str, &str, Route<'_>),
) -> Result<Value, ApiError> {
    let body = read_body(req)?;
    let token = token_of(req, query).ok_or_else(|| {
        ApiError::new(
            401,
            "Token required: pass ?token=<token> or Authorization: Bearer <token>",
        )
    })?;
    let reg: Registration = judge.game_registration(&token, run, task)?;
    let games = games.ok_or_else(|| ApiError::new(404, "This judge serves no game sessions"))?;
    let key: Key = (run.to_owned(), task.to_owned());
    match route {
        Route::New => games.create(&reg).map(|a| wire(&a)),
        Route::CloseAll => Ok(wire(&games.close_all(&key))),
        Route::Step(sid) => {
            let action = action_of(&body)?;
            games.step(&key, sid, &action).map(|a| wire(&a))
        }
        Route::Status(sid) => games.status(&key, sid).map(|a| wire(&a)),
        Route::Close(sid) => games.close(&key, sid).map(|a| wire(&a)),
    }
}

/// The token of a request: `?token=` first, else `Authorization: Bearer`.
fn token_of(req: &Request<'_>, query: &str) -> Option<String> {
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.into_owned())
        .or_else(|| {
            req.head
                .header("authorization")
                .and_then(bearer)
                .map(str::to_owned)
        })
        .filter(|t| !t.is_empty())
}

/// The token of an `Authorization: Bearer <token>` value (the scheme in any case).
fn bearer(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

fn read_body(req: &mut Request<'_>) -> Result<Vec<u8>, ApiError> {
    if req.body.declared_len().is_some_and(|n| n > MAX_BODY) {
        return Err(ApiError::new(413, too_large_message(MAX_BODY)));
    }
    req.body.limit_to(MAX_BODY);
    let mut body = Vec::new();
    req.body.read_to_end(&mut body).map_err(|e| {
        if is_too_large(&e) {
            ApiError::new(413, too_large_message(MAX_BODY))
        } else {
            ApiError::new(400, format!("Could not read the request body: {e}"))
        }
    })?;
    Ok(body)
}

/// The `action` of a step body: a JSON object with a string `action` of at most
/// [`MAX_ACTION`] bytes.
fn action_of(body: &[u8]) -> Result<String, ApiError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        ApiError::validation(vec![invalid(
            "json_invalid",
            &["body"],
            "JSON decode error",
            &Value::String(e.to_string()),
        )])
    })?;
    let action = match value.get("action") {
        None => return Err(ApiError::validation(vec![missing(&["body", "action"])])),
        Some(Value::String(a)) => a.clone(),
        Some(other) => {
            return Err(ApiError::validation(vec![invalid(
                "string_type",
                &["body", "action"],
                "Input should be a valid string",
                other,
            )]))
        }
    };
    if action.len() > MAX_ACTION {
        return Err(ApiError::new(
            400,
            format!("action is longer than {MAX_ACTION} bytes"),
        ));
    }
    Ok(action)
}

fn wire(answer: &impl serde::Serialize) -> Value {
    serde_json::to_value(answer).expect("API types serialise to JSON")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_name_run_task_and_session() {
        assert_eq!(parse("/api/v1/game/r/t/new"), Some(("r", "t", Route::New)));
        assert_eq!(
            parse("/api/v1/game/r/t/abc/step"),
            Some(("r", "t", Route::Step("abc")))
        );
        assert_eq!(
            parse("/api/v1/game/r/t/close-all"),
            Some(("r", "t", Route::CloseAll))
        );
        assert_eq!(parse("/api/v1/game/r//new"), None);
        assert_eq!(parse("/api/v1/game/r/t/abc/step/x"), None);
        assert_eq!(parse("/api/v1/game/r/t"), None);
    }

    #[test]
    fn bearer_tokens_are_read_from_the_header_value() {
        assert_eq!(bearer("Bearer abc"), Some("abc"));
        assert_eq!(bearer("bearer  abc "), Some("abc"));
        assert_eq!(bearer("Basic abc"), None);
        assert_eq!(bearer("Bearer "), None);
        assert_eq!(bearer("abc"), None);
    }

    #[test]
    fn actions_are_bounded_strings() {
        assert_eq!(action_of(br#"{"action": "north"}"#).unwrap(), "north");
        assert_eq!(action_of(b"{}").unwrap_err().status, 422);
        assert_eq!(action_of(br#"{"action": 3}"#).unwrap_err().status, 422);
        assert_eq!(action_of(b"not json").unwrap_err().status, 422);
        let long = format!(r#"{{"action": "{}"}}"#, "x".repeat(MAX_ACTION + 1));
        assert_eq!(action_of(long.as_bytes()).unwrap_err().status, 400);
    }
}
