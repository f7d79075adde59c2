//! What `SFORGE_AGENT_API_BASE_URL` must look like for each agent. claude-code posts to
//! `<base>/v1/messages`, so its base is the API's root; codex posts to `<base>/responses`, so
//! its base ends in `/v1` for `api.openai.com`. A base that cannot work is an error before any
//! container starts; one that only looks doubtful is a warning.

use super::Agent;

/// What is wrong with a base URL for an agent; both texts name the fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BaseUrlProblem {
    /// Requests would go to a path that cannot be the API: refuse the run.
    Wrong(String),
    /// Probably wrong, but a gateway or `sforge proxy` may make it right: warn.
    Doubtful(String),
}

impl Agent {
    /// Check `base` as this agent's API base URL (`None`: nothing to say).
    #[must_use]
    pub fn check_base_url(self, base: &str) -> Option<BaseUrlProblem> {
        let url = match url::Url::parse(base) {
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => url,
            _ => {
                return Some(BaseUrlProblem::Wrong(format!(
                    "the API base URL {base:?} is not an http(s) URL; give e.g. {}",
                    self.example_base_url()
                )))
            }
        };
        let path = url.path().trim_end_matches('/');
        let host = url.host_str().unwrap_or_default();
        match self {
            Agent::ClaudeCode if path.ends_with("/v1") || path.ends_with("/v1/messages") => {
                let root = base_without(&url, path.rsplit_once("/v1").map_or("", |(p, _)| p));
                Some(BaseUrlProblem::Wrong(format!(
                    "claude-code posts to <base>/v1/messages, so the API base URL {base} would \
                     give {}/v1/messages: use {root} (without /v1)",
                    base.trim_end_matches('/')
                )))
            }
            Agent::Codex if path.ends_with("/responses") => {
                let prefix = base_without(&url, path.trim_end_matches("/responses"));
                Some(BaseUrlProblem::Wrong(format!(
                    "codex posts to <base>/responses, so the API base URL {base} would give \
                     {}/responses: use {prefix}",
                    base.trim_end_matches('/')
                )))
            }
            Agent::Codex if host == "api.openai.com" && path != "/v1" => {
                Some(BaseUrlProblem::Wrong(format!(
                    "codex posts to <base>/responses and OpenAI serves it under /v1: use \
                     https://api.openai.com/v1, not {base}"
                )))
            }
            Agent::Codex if path.is_empty() => Some(BaseUrlProblem::Doubtful(format!(
                "codex will post to {}/responses; OpenAI-style APIs serve it under /v1 (e.g. \
                 {}/v1), so unless {base} is a proxy whose target ends in /v1, add /v1",
                base.trim_end_matches('/'),
                base.trim_end_matches('/')
            ))),
            _ => None,
        }
    }

    fn example_base_url(self) -> &'static str {
        match self {
            Agent::Codex => "https://api.openai.com/v1",
            Agent::ClaudeCode | Agent::Script => "https://api.anthropic.com",
        }
    }
}

/// `url` with its path replaced by `path` (no trailing slash, no query).
fn base_without(url: &url::Url, path: &str) -> String {
    let mut url = url.clone();
    url.set_path(path);
    url.set_query(None);
    url.as_str().trim_end_matches('/').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wrong(agent: Agent, base: &str) -> String {
        match agent.check_base_url(base) {
            Some(BaseUrlProblem::Wrong(text)) => text,
            other => panic!("{base}: expected an error, got {other:?}"),
        }
    }

    #[test]
    fn good_bases_pass() {
        for base in [
            "https://api.anthropic.com",
            "https://api.anthropic.com/",
            "http://host.docker.internal:9090",
            "https://gateway.example.com/anthropic",
        ] {
            assert_eq!(Agent::ClaudeCode.check_base_url(base), None, "{base}");
        }
        for base in [
            "https://api.openai.com/v1",
            "https://api.openai.com/v1/",
            "https://gateway.example.com/openai/v1",
        ] {
            assert_eq!(Agent::Codex.check_base_url(base), None, "{base}");
        }
        assert_eq!(Agent::Script.check_base_url("http://anything:1/v1"), None);
    }

    #[test]
    fn claude_code_with_v1_is_refused_with_the_fix() {
        let text = wrong(Agent::ClaudeCode, "https://api.anthropic.com/v1");
        assert!(
            text.contains("use https://api.anthropic.com (without /v1)"),
            "{text}"
        );
        let text = wrong(Agent::ClaudeCode, "http://gw:8080/anthropic/v1/messages");
        assert!(
            text.contains("use http://gw:8080/anthropic (without /v1)"),
            "{text}"
        );
    }

    #[test]
    fn codex_with_responses_or_without_v1_on_openai_is_refused() {
        let text = wrong(Agent::Codex, "https://api.openai.com/v1/responses");
        assert!(text.contains("use https://api.openai.com/v1"), "{text}");
        let text = wrong(Agent::Codex, "https://api.openai.com");
        assert!(text.contains("use https://api.openai.com/v1"), "{text}");
    }

    #[test]
    fn codex_at_a_bare_host_is_only_doubtful() {
        assert!(matches!(
            Agent::Codex.check_base_url("http://host.docker.internal:9090"),
            Some(BaseUrlProblem::Doubtful(text)) if text.contains("/v1")
        ));
    }

    #[test]
    fn not_a_url_is_refused() {
        let text = wrong(Agent::ClaudeCode, "api.anthropic.com");
        assert!(text.contains("not an http(s) URL"), "{text}");
        assert!(!wrong(Agent::Codex, "ftp://x/v1").is_empty());
    }
}
