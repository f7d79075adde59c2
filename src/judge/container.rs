//! The judge container of one submission: its name, labels, environment, limits and walls.
//! Judge containers get `SFORGE_JUDGE_EXTRA_ENV`, the judge URL and, when grading may use the
//! network, the proxies — never the agent's API key (SForge 1.0 leaked it into every judge
//! container). They run the agent's code, so they keep only the capabilities grading needs,
//! gain no privileges, and have no network when the run's internet is off
//! (docs/security.md#judge-containers).

use crate::config::Settings;
use crate::sandbox::{labels, ContainerSpec, Network, Role};
use crate::task::Task;

/// Judge URL given to judge containers that do not set one through the extra env.
const DEFAULT_JUDGE_URL: &str = "http://host.docker.internal:8080";

/// Label naming the process that grades in a judge container.
pub const GRADER_LABEL: &str = "sforge.grader-pid";

/// The capabilities a judge container keeps (all others are dropped): root's file access in the
/// task directory (`CHOWN`, `DAC_OVERRIDE`, `FOWNER`, `FSETID`), switching the submission's
/// processes to an unprivileged user (`SETUID`, `SETGID`, as `setpriv` does) and killing them
/// (`KILL`). `NET_RAW`, `MKNOD`, `SYS_CHROOT`, `SETPCAP`, `SETFCAP`, `AUDIT_WRITE` and
/// `NET_BIND_SERVICE` are gone (Docker lets containers bind low ports without it).
pub const JUDGE_CAPABILITIES: [&str; 7] = [
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "SETGID",
    "SETUID",
];

/// Processes a judge container may hold at once.
pub const JUDGE_PIDS_LIMIT: u32 = 4096;

/// Limits for one grading: registration/flag values first, then the task's own.
#[derive(Debug, Clone, Default)]
pub struct JudgeLimits {
    pub cpu: Option<u32>,
    pub mem: Option<String>,
    /// The internet setting of the run being graded, as it registered (`None`: the task's own).
    pub internet: Option<bool>,
}

/// `<benchmark>.judge.<task>.<submission>`.
#[must_use]
pub fn container_name(benchmark: &str, task_id: &str, submission_id: &str) -> String {
    format!("{benchmark}.judge.{task_id}.{submission_id}")
}

/// Whether grading `task` may use the network, and so gets a network and the proxies (with
/// their credentials): when the run it grades has internet (`run_internet`, as registered; else
/// the task's `internet`), or when the task asks for it (`judge.internet`, for graders that call
/// a model API). Otherwise the judge container has no network, and submitted code in it must not
/// learn the proxy password either.
#[must_use]
pub fn grading_uses_network(task: &Task, run_internet: Option<bool>) -> bool {
    task.judge.internet || run_internet.unwrap_or(task.internet)
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
    let network = grading_uses_network(task, limits.internet);
    ContainerSpec {
        name: container_name(benchmark, &task.task_id, submission_id),
        image: task.images.judge.to_string(),
        labels: {
            let mut labels = labels(run_id, &task.task_id, Role::Judge, owner);
            // Lets the grading process remove its own containers when it stops mid-grading.
            labels.insert(GRADER_LABEL.to_owned(), std::process::id().to_string());
            labels
        },
        env: judge_env(settings, network),
        user: Some("root".to_owned()),
        workdir: Some(task.cwd.clone()),
        cpu_limit: limits.cpu.or(task.judge.cpu_limit),
        mem_limit: limits.mem.clone().or_else(|| task.judge.mem_limit.clone()),
        pids_limit: Some(JUDGE_PIDS_LIMIT),
        add_hosts: vec!["host.docker.internal:host-gateway".to_owned()],
        cap_drop: vec!["ALL".to_owned()],
        cap_add: JUDGE_CAPABILITIES.map(str::to_owned).to_vec(),
        no_new_privileges: true,
        network: if network {
            Network::NoIngress
        } else {
            Network::None
        },
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

    fn task() -> Task {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/reference");
        crate::task::Catalog::open(&dir)
            .unwrap()
            .task("demo")
            .unwrap()
    }

    fn spec_for(task: &Task, run_internet: Option<bool>) -> ContainerSpec {
        let limits = JudgeLimits {
            internet: run_internet,
            ..JudgeLimits::default()
        };
        let settings = Settings::merge(&[]);
        judge_container(&settings, "b", task, "r", "s", &limits, "me")
    }

    #[test]
    fn judge_containers_keep_only_what_grading_needs() {
        let spec = spec_for(&task(), None);
        assert_eq!(spec.cap_drop, ["ALL"]);
        assert!(!spec
            .cap_add
            .iter()
            .any(|c| c == "NET_RAW" || c == "SYS_ADMIN"));
        for needed in ["SETUID", "SETGID", "KILL"] {
            assert!(spec.cap_add.iter().any(|c| c == needed), "{needed}");
        }
        assert!(spec.no_new_privileges);
        assert_eq!(spec.pids_limit, Some(JUDGE_PIDS_LIMIT));
    }

    #[test]
    fn the_judge_network_follows_the_run_unless_the_task_opts_in() {
        let mut task = task();
        task.internet = true;
        assert_eq!(spec_for(&task, None).network, Network::NoIngress);
        assert_eq!(spec_for(&task, Some(false)).network, Network::None);
        task.internet = false;
        assert_eq!(spec_for(&task, None).network, Network::None);
        assert_eq!(spec_for(&task, Some(true)).network, Network::NoIngress);
        task.judge.internet = true;
        assert_eq!(spec_for(&task, Some(false)).network, Network::NoIngress);
    }

    #[test]
    fn proxies_reach_only_judges_with_a_network() {
        let layer = Layer {
            https_proxy: Some(Sourced::new(
                Some("http://u:pw@proxy:3128".into()),
                Source::Default,
            )),
            ..Layer::default()
        };
        let settings = Settings::merge(&[&layer]);
        let mut task = task();
        task.internet = true;
        let has_proxy = |run_internet| {
            let limits = JudgeLimits {
                internet: run_internet,
                ..JudgeLimits::default()
            };
            judge_container(&settings, "b", &task, "r", "s", &limits, "me")
                .env
                .iter()
                .any(|(k, _)| k == "HTTPS_PROXY")
        };
        assert!(has_proxy(None));
        assert!(!has_proxy(Some(false)), "an offline judge gets no proxy");
    }
}
