//! HTTP client of the judge API as `sforge run` uses it: register, auto submissions, results and
//! history (the admin view), with the retries of SForge 1.0 for registration.

use std::fmt::Write as _;
use std::io::Read;
use std::time::Duration;

use serde_json::Value;

use crate::judge::api::{
    History, RegisterRequest, RegisterResponse, ResultResponse, SubmitResponse,
};

/// The answer to a submission (the judge API's type).
pub type Submitted = SubmitResponse;

/// A judge reachable from the host.
#[derive(Debug, Clone)]
pub struct JudgeClient {
    /// e.g. `http://127.0.0.1:8080`, without a trailing slash.
    pub base: String,
    pub admin_secret: String,
    agent: ureq::Agent,
}

/// What registration sends besides the task and run.
#[derive(Debug, Clone, Default)]
pub struct Registration {
    pub judge_cpu_limit: Option<u32>,
    pub judge_mem_limit: Option<String>,
    pub max_agent_submissions: Option<u32>,
    pub submission_cooldown: Option<u64>,
    /// Epoch seconds after which agent submissions are refused.
    pub deadline: Option<f64>,
    /// Whether the run has internet (its judge containers get none when it has not).
    pub internet: Option<bool>,
}

/// Why a call to the judge failed.
#[derive(Debug, thiserror::Error)]
pub enum JudgeClientError {
    /// The judge answered with an error status (its `detail` when it sent one).
    #[error("HTTP {status}: {detail}")]
    Status { status: u16, detail: String },
    #[error("{0}")]
    Transport(String),
    #[error("the judge sent an unexpected answer: {0}")]
    Answer(String),
    #[error("cannot register with the judge at {base}: {last}")]
    Register { base: String, last: String },
    #[error("cannot make or read the submission: {0}")]
    Io(#[from] std::io::Error),
}

impl JudgeClient {
    #[must_use]
    pub fn new(base: &str, admin_secret: &str) -> Self {
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(Duration::from_secs(5))
            .timeout(Duration::from_secs(120))
            .build();
        JudgeClient {
            base: base.trim_end_matches('/').to_owned(),
            admin_secret: admin_secret.to_owned(),
            agent,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}/api/v1/{path}", self.base)
    }

    /// Whether something answers HTTP at the base URL.
    #[must_use]
    pub fn is_up(&self) -> bool {
        match self
            .agent
            .get(&self.url("history?token=probe"))
            .timeout(Duration::from_secs(2))
            .call()
        {
            Ok(_) | Err(ureq::Error::Status(..)) => true,
            Err(ureq::Error::Transport(_)) => false,
        }
    }

    /// Register a run of a task; five attempts, 2/4/6/8 s apart.
    pub fn register(
        &self,
        task_id: &str,
        run_id: &str,
        reg: &Registration,
    ) -> Result<String, JudgeClientError> {
        let body = RegisterRequest {
            task_id: task_id.to_owned(),
            run_id: run_id.to_owned(),
            admin_secret: self.admin_secret.clone(),
            judge_cpu_limit: reg.judge_cpu_limit,
            judge_mem_limit: reg.judge_mem_limit.clone(),
            max_agent_submissions: reg.max_agent_submissions.map(u64::from),
            submission_cooldown: reg.submission_cooldown,
            deadline: reg.deadline,
            internet: reg.internet,
            ..RegisterRequest::default()
        };
        let mut last = String::new();
        for attempt in 1..=5u64 {
            match self
                .agent
                .post(&self.url("register"))
                .timeout(Duration::from_secs(10))
                .send_json(&body)
            {
                Ok(resp) => {
                    let answer: RegisterResponse = resp.into_json().map_err(answer)?;
                    return Ok(answer.token);
                }
                Err(e) => last = describe(e).to_string(),
            }
            if attempt < 5 {
                log::warn!(
                    "judge registration failed ({last}); retrying in {}s",
                    attempt * 2
                );
                std::thread::sleep(Duration::from_secs(attempt * 2));
            }
        }
        Err(JudgeClientError::Register {
            base: self.base.clone(),
            last,
        })
    }

    /// Submit an archive as `kind` (`auto` uses the admin secret and bypasses limits).
    pub fn submit(
        &self,
        token: &str,
        archive: &[u8],
        kind: &str,
    ) -> Result<Submitted, JudgeClientError> {
        self.submit_from(token, archive, archive.len() as u64, kind)
    }

    /// Submit the archive file at `path`, streamed from disk (never held in memory).
    pub fn submit_file(
        &self,
        token: &str,
        path: &std::path::Path,
        kind: &str,
    ) -> Result<Submitted, JudgeClientError> {
        let file = std::fs::File::open(path)?;
        let len = file.metadata()?.len();
        self.submit_from(token, file, len, kind)
    }

    /// The multipart request around `len` bytes of `archive`, sent as they are read.
    fn submit_from(
        &self,
        token: &str,
        archive: impl Read,
        len: u64,
        kind: &str,
    ) -> Result<Submitted, JudgeClientError> {
        let boundary = format!("sforge-{}", crate::ids::random_hex(16)?);
        let mut head = String::new();
        for (name, value) in [
            ("token", token),
            ("kind", kind),
            ("admin_secret", self.admin_secret.as_str()),
        ] {
            let _ = write!(head, "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n");
        }
        let _ = write!(head, "--{boundary}\r\nContent-Disposition: form-data; name=\"archive\"; filename=\"archive.tar.gz\"\r\nContent-Type: application/gzip\r\n\r\n");
        let tail = format!("\r\n--{boundary}--\r\n");
        let total = head.len() as u64 + len + tail.len() as u64;
        let body = head
            .as_bytes()
            .chain(archive.take(len))
            .chain(tail.as_bytes());
        let resp = self
            .agent
            .post(&self.url("submit"))
            .set(
                "Content-Type",
                &format!("multipart/form-data; boundary={boundary}"),
            )
            .set("Content-Length", &total.to_string())
            .send(body)
            .map_err(describe)?;
        resp.into_json().map_err(answer)
    }

    /// `/result/{id}` as JSON.
    pub fn result(&self, submission_id: &str) -> Result<ResultResponse, JudgeClientError> {
        let resp = self
            .agent
            .get(&self.url(&format!("result/{submission_id}")))
            .timeout(Duration::from_secs(30))
            .call()
            .map_err(describe)?;
        resp.into_json().map_err(answer)
    }

    /// `/history` in the admin view (every round, auto ones included).
    pub fn history(&self, token: &str) -> Result<History, JudgeClientError> {
        let resp = self
            .agent
            .get(&self.url("history"))
            .query("token", token)
            .query("admin_secret", &self.admin_secret)
            .timeout(Duration::from_secs(10))
            .call()
            .map_err(describe)?;
        resp.into_json().map_err(answer)
    }
}

impl JudgeClient {
    /// `/history` in the agent's view (no admin secret: `auto-*` rounds hidden), as game runs
    /// record it.
    pub fn agent_history(&self, token: &str) -> Result<History, JudgeClientError> {
        let resp = self
            .agent
            .get(&self.url("history"))
            .query("token", token)
            .timeout(Duration::from_secs(10))
            .call()
            .map_err(describe)?;
        resp.into_json().map_err(answer)
    }

    /// `POST /game/<run>/<task>/close-all` with the run's token: the number of sessions closed.
    pub fn close_all_games(
        &self,
        run_id: &str,
        task_id: &str,
        token: &str,
    ) -> Result<u64, JudgeClientError> {
        let resp = self
            .agent
            .post(&self.url(&format!("game/{run_id}/{task_id}/close-all")))
            .set("Authorization", &format!("Bearer {token}"))
            .timeout(Duration::from_secs(30))
            .send_json(serde_json::json!({}))
            .map_err(describe)?;
        let closed: crate::judge::api::GamesClosed = resp.into_json().map_err(answer)?;
        Ok(closed.closed)
    }
}

#[allow(clippy::needless_pass_by_value, reason = "used as a map_err function")]
fn answer(e: std::io::Error) -> JudgeClientError {
    JudgeClientError::Answer(e.to_string())
}

/// An HTTP failure, with the judge's `detail` when it sent one.
fn describe(e: ureq::Error) -> JudgeClientError {
    match e {
        ureq::Error::Status(status, resp) => {
            let body = resp.into_string().unwrap_or_default();
            let detail = serde_json::from_str::<Value>(&body)
                .ok()
                .and_then(|v| v["detail"].as_str().map(str::to_owned))
                .unwrap_or(body);
            JudgeClientError::Status { status, detail }
        }
        ureq::Error::Transport(t) => JudgeClientError::Transport(t.to_string()),
    }
}
