//! A small blocking client of the proxy's admin API, for the run lifecycle: mint a token per
//! task, read its usage, revoke it at the end.

use std::time::Duration;

use serde_json::{json, Value};

use super::keyless::ADMIN_HEADER;

/// Why an admin API call failed.
#[derive(Debug, thiserror::Error)]
pub enum ProxyClientError {
    #[error("the sforge proxy at {url} answered {status}: {body}")]
    Status {
        url: String,
        status: u16,
        body: String,
    },
    #[error("cannot reach the sforge proxy at {url}: {reason}; is `sforge proxy --inject-key-from-env` running there?")]
    Transport { url: String, reason: String },
    #[error("the sforge proxy at {url} sent an unexpected answer: {reason}")]
    Answer { url: String, reason: String },
}

/// The admin API of one proxy: its base URL (`http://127.0.0.1:9090`) and the admin secret.
#[derive(Debug, Clone)]
pub struct ProxyAdmin {
    pub base: String,
    pub secret: String,
}

impl ProxyAdmin {
    #[must_use]
    pub fn new(base: &str, secret: &str) -> Self {
        ProxyAdmin {
            base: base.trim_end_matches('/').to_owned(),
            secret: secret.to_owned(),
        }
    }

    /// Mints a run token for one task.
    pub fn mint(&self, run_id: &str, task: &str) -> Result<String, ProxyClientError> {
        let url = self.url("/_sforge/proxy/v1/tokens");
        let answer = self.call(
            agent()
                .post(&url)
                .set(ADMIN_HEADER, &self.secret)
                .set("Content-Type", "application/json"),
            &url,
            Some(json!({"run_id": run_id, "task": task})),
        )?;
        answer
            .get("token")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| ProxyClientError::Answer {
                url,
                reason: format!("no \"token\" in {answer}"),
            })
    }

    /// The usage record of a token (`run_id`, `task`, `requests`, `input_tokens`,
    /// `output_tokens`, `cache_read_input_tokens`, `cache_creation_input_tokens`, `errors`,
    /// `revoked`).
    pub fn usage(&self, token: &str) -> Result<Value, ProxyClientError> {
        let url = self.url("/_sforge/proxy/v1/usage");
        let request = agent()
            .get(&url)
            .query("token", token)
            .set(ADMIN_HEADER, &self.secret);
        self.call(request, &url, None)
    }

    /// Revokes a token; returns its final usage record.
    pub fn revoke(&self, token: &str) -> Result<Value, ProxyClientError> {
        let url = self.url(&format!("/_sforge/proxy/v1/tokens/{token}"));
        let request = agent().delete(&url).set(ADMIN_HEADER, &self.secret);
        self.call(request, &url, None)
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base.trim_end_matches('/'))
    }

    #[allow(clippy::unused_self)]
    fn call(
        &self,
        request: ureq::Request,
        url: &str,
        body: Option<Value>,
    ) -> Result<Value, ProxyClientError> {
        let result = match body {
            Some(body) => request.send_string(&body.to_string()),
            None => request.call(),
        };
        let response = match result {
            Ok(response) => response,
            Err(ureq::Error::Status(status, response)) => {
                return Err(ProxyClientError::Status {
                    url: url.to_owned(),
                    status,
                    body: response.into_string().unwrap_or_default().trim().to_owned(),
                })
            }
            Err(ureq::Error::Transport(t)) => {
                return Err(ProxyClientError::Transport {
                    url: url.to_owned(),
                    reason: t.to_string(),
                })
            }
        };
        response
            .into_json::<Value>()
            .map_err(|e| ProxyClientError::Answer {
                url: url.to_owned(),
                reason: e.to_string(),
            })
    }
}

/// A direct (never proxied) agent with short timeouts: the admin API is local and quick.
fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout_connect(Duration::from_secs(5))
        .timeout(Duration::from_secs(30))
        .redirects(0)
        .build()
}
