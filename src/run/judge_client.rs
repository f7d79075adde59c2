//! HTTP client of the judge API as `sforge run` uses it: register, auto submissions, results and
//! history (the admin view), with the retries of SForge 1.0 for registration.

use std::time::Duration;

use serde::Deserialize;
use serde_json::{json, Value};

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
}

#[derive(Debug, Clone, Deserialize)]
pub struct Submitted {
    pub submission_id: String,
    pub round_id: String,
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
    ) -> Result<String, String> {
        let body = json!({
            "task_id": task_id, "run_id": run_id, "admin_secret": self.admin_secret,
            "judge_cpu_limit": reg.judge_cpu_limit, "judge_mem_limit": reg.judge_mem_limit,
            "max_agent_submissions": reg.max_agent_submissions, "submission_cooldown": reg.submission_cooldown,
            "deadline": reg.deadline,
        });
        let mut last = String::new();
        for attempt in 1..=5u64 {
            match self
                .agent
                .post(&self.url("register"))
                .timeout(Duration::from_secs(10))
                .send_json(body.clone())
            {
                Ok(resp) => {
                    let v: Value = resp.into_json().map_err(|e| e.to_string())?;
                    return v["token"]
                        .as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| format!("no token in {v}"));
                }
                Err(e) => last = describe(e),
            }
            if attempt < 5 {
                log::warn!(
                    "judge registration failed ({last}); retrying in {}s",
                    attempt * 2
                );
                std::thread::sleep(Duration::from_secs(attempt * 2));
            }
        }
        Err(format!(
            "cannot register with the judge at {}: {last}",
            self.base
        ))
    }

    /// Submit an archive as `kind` (`auto` uses the admin secret and bypasses limits).
    pub fn submit(&self, token: &str, archive: &[u8], kind: &str) -> Result<Submitted, String> {
        let boundary = format!(
            "sforge-{}",
            crate::ids::random_hex(16).map_err(|e| e.to_string())?
        );
        let mut body = Vec::with_capacity(archive.len() + 512);
        for (name, value) in [
            ("token", token),
            ("kind", kind),
            ("admin_secret", self.admin_secret.as_str()),
        ] {
            body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes());
        }
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"archive\"; filename=\"archive.tar.gz\"\r\nContent-Type: application/gzip\r\n\r\n").as_bytes(),
        );
        body.extend_from_slice(archive);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let resp = self
            .agent
            .post(&self.url("submit"))
            .set(
                "Content-Type",
                &format!("multipart/form-data; boundary={boundary}"),
            )
            .send_bytes(&body)
            .map_err(describe)?;
        resp.into_json().map_err(|e| e.to_string())
    }

    /// `/result/{id}` as JSON.
    pub fn result(&self, submission_id: &str) -> Result<Value, String> {
        let resp = self
            .agent
            .get(&self.url(&format!("result/{submission_id}")))
            .timeout(Duration::from_secs(30))
            .call()
            .map_err(describe)?;
        resp.into_json().map_err(|e| e.to_string())
    }

    /// `/history` in the admin view (every round, auto ones included).
    pub fn history(&self, token: &str) -> Result<Value, String> {
        let resp = self
            .agent
            .get(&self.url("history"))
            .query("token", token)
            .query("admin_secret", &self.admin_secret)
            .timeout(Duration::from_secs(10))
            .call()
            .map_err(describe)?;
        resp.into_json().map_err(|e| e.to_string())
    }
}

/// A one-line description of an HTTP failure, with the judge's `detail` when it sent one.
fn describe(e: ureq::Error) -> String {
    match e {
        ureq::Error::Status(code, resp) => {
            let body = resp.into_string().unwrap_or_default();
            let detail = serde_json::from_str::<Value>(&body)
                .ok()
                .and_then(|v| v["detail"].as_str().map(str::to_owned))
                .unwrap_or(body);
            format!("HTTP {code}: {detail}")
        }
        ureq::Error::Transport(t) => t.to_string(),
    }
}
