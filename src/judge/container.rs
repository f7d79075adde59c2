//! The judge container of one submission: its name, labels, environment and limits.
//! Judge containers get `SFORGE_JUDGE_EXTRA_ENV`, the judge URL and, when grading may use the
//! network, the proxies — never the agent's API key (SForge 1.0 leaked it into every judge
//! container).

use crate::config::Settings;
use crate::sandbox::{labels, ContainerSpec, Role};
use crate::task::Task;

/// Judge URL given to judge containers that do not set one through the extra env.
const DEFAULT_JUDGE_URL: &str = "http://host.docker.internal:8080";

/// Label naming the process that grades in a judge container.
pub const GRADER_LABEL: &str = "sforge.grader-pid";

/// Limits for one grading: registration/flag values first, then the task's own.
#[derive(Debug, Clone, Default)]
pub struct JudgeLimits {
    pub cpu: Option<u32>,
    pub mem: Option<String>,
}

/// `<benchmark>.judge.<task>.<submission>`.
#[must_use]
pub fn container_name(benchmark: &str, task_id: &str, submission_id: &str) -> String {
    format!("{benchmark}.judge.{task_id}.{submission_id}")
}

/// Whether grading `task` may use the network, and so gets the proxies (with their
/// credentials): only tasks with internet on. A task without internet grades offline, and
/// submitted code in its judge container must not learn the proxy password.
#[must_use]
pub fn grading_uses_network(task: &Task) -> bool {
    task.internet
}

/// The environment of judge containers; the proxies only when `network` (see
/// [`grading_uses_network`]).
#[must_use]
pub fn judge_env(settings: &Settings, network: bool) -> Vec<(String, String)> {
    let mut env = Vec::new();
    let proxies = [
        ("HTTP_PROXY", "http_proxy", &settings.http_proxy.value),
        ("HTTPS_PROXY", "https_proxy", &settings.https_proxy.value),
        ("NO_PROXY", "no_proxy", &settings.no_proxy.value),
    ];
    for (upper, lower, value) in proxies.into_iter().filter(|_| network) {
        if let Some(v) = value {
            env.push((upper.to_owned(), v.clone()));
            env.push((lower.to_owned(), v.clone()));
        }
    }
    for (k, v) in &settings.judge_extra_env.value {
        env.retain(|(name, _)| name != k);
        env.push((k.clone(), v.clone()));
    }
    if !env.iter().any(|(k, _)| k == "SFORGE_JUDGE_URL") {
        env.push(("SFORGE_JUDGE_URL".to_owned(), DEFAULT_JUDGE_URL.to_owned()));
    }
    env
}

/// The container for grading `submission_id` of `task`.
#[must_use]
pub fn judge_container(
    settings: &Settings,
    benchmark: &str,
    task: &Task,
    run_id: &str,
    submission_id: &str,
    limits: &JudgeLimits,
    owner: &str,
) -> ContainerSpec {
    ContainerSpec {
        name: container_name(benchmark, &task.task_id, submission_id),
        image: task.images.judge.to_string(),
        labels: {
            let mut labels = labels(run_id, &task.task_id, Role::Judge, owner);
            // Lets the grading process remove its own containers when it stops mid-grading.
            labels.insert(GRADER_LABEL.to_owned(), std::process::id().to_string());
            labels
        },
        env: judge_env(settings, grading_uses_network(task)),
        user: Some("root".to_owned()),
        workdir: Some(task.cwd.clone()),
        cpu_limit: limits.cpu.or(task.judge.cpu_limit),
        mem_limit: limits.mem.clone().or_else(|| task.judge.mem_limit.clone()),
        pids_limit: Some(4096),
        add_hosts: vec!["host.docker.internal:host-gateway".to_owned()],
        cap_drop: Vec::new(),
        sysctls: Vec::new(),
        lifetime: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Layer, Source, Sourced};

    #[test]
    fn judge_env_has_no_agent_key_and_extra_env_wins() {
        let extra = [
            ("SFORGE_JUDGE_API_KEY", "jk"),
            ("HTTP_PROXY", "http://judge-proxy"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let layer = Layer {
            agent_api_key: Some(Sourced::new(Some("sk-agent".into()), Source::Default)),
            http_proxy: Some(Sourced::new(Some("http://p".into()), Source::Default)),
            judge_extra_env: Some(Sourced::new(extra, Source::Default)),
            ..Layer::default()
        };
        let settings = Settings::merge(&[&layer]);
        let offline = judge_env(&settings, false);
        assert!(
            !offline.iter().any(|(k, _)| k == "http_proxy"),
            "{offline:?}"
        );
        let env = judge_env(&settings, true);
        assert!(!env.iter().any(|(_, v)| v == "sk-agent"));
        assert!(!env.iter().any(|(k, _)| k == "ANTHROPIC_API_KEY"));
        let get = |name: &str| env.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
        assert_eq!(get("HTTP_PROXY"), Some("http://judge-proxy"));
        assert_eq!(get("http_proxy"), Some("http://p"));
        assert_eq!(get("SFORGE_JUDGE_API_KEY"), Some("jk"));
        assert_eq!(get("SFORGE_JUDGE_URL"), Some(DEFAULT_JUDGE_URL));
    }
}
