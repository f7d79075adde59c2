//! Routing and the handlers of the `/api/v1` endpoints (docs/compatibility.md#the-judge-api); the
//! game routes are in `games::routes`.

use std::io::Read;
use std::sync::Arc;

use serde_json::Value;

use super::error::{invalid, missing, ApiError};
use super::grading::{Grader, Policy, RegisteredRun};
use super::multipart::{self, FormError};
use super::queue::JobQueue;
use super::records::Kind;
use super::register::parse_register;
use super::service::Judge;
use super::views;
use crate::http::{is_too_large, too_large_message, Request};
use crate::judge::api::{RegisterResponse, SubmissionStatus, SubmitResponse};
use crate::redact::Secrets;

/// Largest accepted JSON body for `/register`.
pub const MAX_JSON: u64 = 1 << 20;

/// What the handlers share.
pub struct Context {
    pub judge: Arc<Judge>,
    /// Masked in every answer.
    pub secrets: Secrets,
    pub queue: Arc<JobQueue>,
    pub grader: Arc<dyn Grader>,
    pub policy: Arc<dyn Policy>,
    pub max_upload: u64,
    pub games: Option<Arc<super::games::Games>>,
}

/// Dispatches one request; returns the status and JSON body, every secret value the judge
/// holds masked (what graded code printed reaches the agent only this way).
pub fn dispatch(ctx: &Context, req: &mut Request<'_>, path: &str, query: &str) -> (u16, Value) {
    let (status, mut body) = answer(ctx, req, path, query);
    ctx.secrets.mask_json(&mut body);
    (status, body)
}

fn answer(ctx: &Context, req: &mut Request<'_>, path: &str, query: &str) -> (u16, Value) {
    let games = ctx.games.as_deref();
    let outcome = if let Some(game) = super::games::dispatch(games, &ctx.judge, req, path, query) {
        game
    } else {
        other(ctx, req, path, query)
    };
    match outcome {
        Ok(body) => (200, body),
        Err(e) => (e.status, e.body()),
    }
}

fn other(ctx: &Context, req: &mut Request<'_>, path: &str, query: &str) -> Result<Value, ApiError> {
    match (req.head.method.as_str(), path) {
        ("POST", "/api/v1/register") => register(ctx, req),
        ("POST", "/api/v1/submit") => submit(ctx, req),
        ("GET", "/api/v1/history") => history(ctx, query),
        ("GET", _) if result_id(path).is_some() => {
            views::result(&ctx.judge, result_id(path).unwrap_or_default()).map(|r| wire(&r))
        }
        _ if is_route(path) => Err(ApiError::new(405, "Method Not Allowed")),
        _ => Err(ApiError::new(404, "Not Found")),
    }
}

fn result_id(path: &str) -> Option<&str> {
    path.strip_prefix("/api/v1/result/")
        .filter(|id| !id.is_empty() && !id.contains('/'))
}

fn is_route(path: &str) -> bool {
    matches!(
        path,
        "/api/v1/register" | "/api/v1/submit" | "/api/v1/history"
    ) || result_id(path).is_some()
}

fn too_large(limit: u64) -> ApiError {
    ApiError::new(413, too_large_message(limit))
}

fn register(ctx: &Context, req: &mut Request<'_>) -> Result<Value, ApiError> {
    req.body.limit_to(MAX_JSON);
    let mut body = Vec::new();
    req.body.read_to_end(&mut body).map_err(|e| {
        if is_too_large(&e) {
            too_large(MAX_JSON)
        } else {
            ApiError::new(400, format!("Could not read the request body: {e}"))
        }
    })?;
    let (reg, secret) = parse_register(&body)?;
    let run = RegisteredRun {
        task_id: reg.task_id.clone(),
        run_id: reg.run_id.clone(),
        judge_cpu_limit: reg.judge_cpu_limit,
        judge_mem_limit: reg.judge_mem_limit.clone(),
        internet: reg.internet,
    };
    let token = ctx.judge.register(reg, &secret)?;
    ctx.grader.registered(&run);
    Ok(wire(&RegisterResponse { token }))
}

fn submit(ctx: &Context, req: &mut Request<'_>) -> Result<Value, ApiError> {
    if req.body.declared_len().is_some_and(|n| n > ctx.max_upload) {
        return Err(too_large(ctx.max_upload));
    }
    req.body.limit_to(ctx.max_upload);
    let content_type = req.head.header("content-type").map(str::to_owned);
    let form = multipart::read_submit_form(
        &mut req.body,
        content_type.as_deref(),
        ctx.max_upload,
        ctx.judge.uploads_dir(),
    )
    .map_err(|e| match e {
        FormError::TooLarge => too_large(ctx.max_upload),
        FormError::Malformed(why) => {
            // The text may quote field names the client chose: escaped.
            log::info!("submit: malformed form: {:?}", why.to_string());
            ApiError::new(400, "There was an error parsing the body")
        }
        FormError::Spool(e) => ApiError::internal("could not store the upload", &e),
    })?;
    let (token, archive) = match (form.token, form.archive) {
        (Some(token), Some(archive)) => (token, archive),
        (token, _) => return Err(form_errors(token.is_none(), form.archive_is_text)),
    };
    let kind = Kind::parse(form.kind.as_deref().unwrap_or("agent"))
        .ok_or_else(|| ApiError::new(400, "kind must be 'agent' or 'auto'"))?;
    if kind == Kind::Auto
        && !ctx
            .judge
            .is_admin(form.admin_secret.as_deref().unwrap_or(""))
    {
        return Err(ApiError::new(
            403,
            "admin_secret required for auto submissions",
        ));
    }
    let admitted = ctx.judge.admit(&token, kind, archive)?;
    let body = wire(&SubmitResponse {
        submission_id: admitted.job.submission_id.clone(),
        round_id: admitted.job.round.clone(),
        status: SubmissionStatus::Queued.as_str().to_owned(),
        remaining_submissions: admitted.remaining,
    });
    ctx.queue.push(admitted.job);
    Ok(body)
}

/// `FastAPI`'s 422 for a submit form without `token` or a file `archive`.
fn form_errors(token_missing: bool, archive_is_text: bool) -> ApiError {
    let mut errors = Vec::new();
    if token_missing {
        errors.push(missing(&["body", "token"]));
    }
    if archive_is_text {
        let msg = "Value error, Expected UploadFile, received: <class 'str'>";
        errors.push(invalid(
            "value_error",
            &["body", "archive"],
            msg,
            &Value::Null,
        ));
    } else {
        errors.push(missing(&["body", "archive"]));
    }
    ApiError::validation(errors)
}

fn history(ctx: &Context, query: &str) -> Result<Value, ApiError> {
    let mut token = None;
    let mut admin_secret = String::new();
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        match key.as_ref() {
            "token" => token = Some(value.into_owned()),
            "admin_secret" => admin_secret = value.into_owned(),
            _ => {}
        }
    }
    let token = token.ok_or_else(|| ApiError::validation(vec![missing(&["query", "token"])]))?;
    let admin = ctx.judge.is_admin(&admin_secret);
    views::history(&ctx.judge, ctx.policy.as_ref(), &token, admin).map(|h| wire(&h))
}

/// A typed answer as its JSON body.
fn wire(answer: &impl serde::Serialize) -> Value {
    serde_json::to_value(answer).expect("API types serialise to JSON")
}
