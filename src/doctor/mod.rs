//! `sforge doctor`: every precondition of a run on one backend, checked the way a run would
//! meet it, each failure with its fix. The checks run real commands (and, on Docker, a real
//! container); nothing is changed except a probe container that removes itself.

mod check;
mod docker;
mod k8s;
mod probe;

use std::sync::Arc;

pub use check::{Check, Status};

use crate::config::{Backend, Settings};
use crate::process::Runner;
use crate::run::agent::{Agent, BaseUrlProblem};
use crate::task::Task;

/// Every check for `backend`, in the order a run meets them. `tasks` (possibly empty) are the
/// benchmark's, for the image and isolation checks.
#[must_use]
pub fn run_checks(
    settings: &Settings,
    backend: Backend,
    runner: &Arc<dyn Runner>,
    tasks: &[Task],
) -> Vec<Check> {
    let mut checks = match backend {
        Backend::Docker => docker::checks(settings, runner, tasks),
        Backend::K8s => k8s::checks(settings, runner, tasks),
    };
    checks.push(api_base_url(settings));
    checks
}

/// The LLM API base URL as claude-code and codex would use it.
fn api_base_url(settings: &Settings) -> Check {
    let name = "API base URL";
    let Some(base) = settings.agent_api_base_url.value.as_deref() else {
        return Check::pass(name, "not set: each agent uses its vendor's API");
    };
    let problems: Vec<String> = [Agent::ClaudeCode, Agent::Codex]
        .into_iter()
        .filter_map(|agent| match agent.check_base_url(base) {
            Some(BaseUrlProblem::Wrong(text) | BaseUrlProblem::Doubtful(text)) => Some(text),
            None => None,
        })
        .collect();
    let host = url::Url::parse(base)
        .ok()
        .and_then(|u| Some((u.host_str()?.to_owned(), u.port_or_known_default()?)));
    let resolves = host.as_ref().is_some_and(|(h, p)| {
        std::net::ToSocketAddrs::to_socket_addrs(&(h.as_str(), *p))
            .is_ok_and(|mut a| a.next().is_some())
    });
    if !resolves {
        return Check::fail(
            name,
            format!("{base}: its host does not resolve here"),
            "fix SFORGE_AGENT_API_BASE_URL (isolated runs must resolve it on the host)",
        );
    }
    if problems.len() == 2 {
        return Check::warn(name, problems.join("; "), "see README, LLM agents");
    }
    match problems.first() {
        Some(p) => Check::pass(name, format!("{base} (for one agent only: {p})")),
        None => Check::pass(name, base),
    }
}
