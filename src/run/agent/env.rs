//! The environment of the Work container (docs/compatibility.md#work-container-environment), in the
//! reference's order, built from plain values, with the names whose values must be shown as `***`.

use std::collections::BTreeSet;

use super::{claude_code, codex, Agent};

/// An ordered list of variables where setting an existing name replaces its value in place.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct EnvList(Vec<(String, String)>);

impl EnvList {
    pub(super) fn set(&mut self, name: impl Into<String>, value: impl Into<String>) {
        let (name, value) = (name.into(), value.into());
        match self.0.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = value,
            None => self.0.push((name, value)),
        }
    }

    pub(super) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Everything the Work container environment is made of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkEnvInput {
    pub agent: Agent,
    pub http_proxy: Option<String>,
    pub https_proxy: Option<String>,
    pub no_proxy: Option<String>,
    pub api_key: Option<String>,
    pub api_base_url: Option<String>,
    /// The effective model (CLI/experiment › `SFORGE_AGENT_MODEL` › agent default).
    pub model: Option<String>,
    pub nodejs_mirror_url: Option<String>,
    pub npm_registry_url: Option<String>,
    /// Extra CA certificates are installed (`SFORGE_CA_FILE`): point every client at them.
    pub extra_ca: bool,
    /// `SFORGE_AGENT_EXTRA_ENV`, in order; it may override the variables above.
    pub agent_extra_env: Vec<(String, String)>,
    /// `SFORGE_CLAUDE_CACHE_OPT` (claude-code only).
    pub cache_opt: bool,
    /// The judge URL as the container sees it.
    pub judge_url: String,
    pub token: String,
    /// The task `cwd`.
    pub patch_dir: String,
    pub submit_paths: Vec<String>,
    pub submit_exclude: Vec<String>,
    /// Game tasks: `<judge>/api/v1/game/<run>/<task>`.
    pub game_server_url: Option<String>,
    /// Epoch seconds at which the agent's time is up (read by the stop hook).
    pub deadline: Option<u64>,
}

/// The Work container environment and which of its names hold secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkEnv {
    pub vars: Vec<(String, String)>,
    pub secret: BTreeSet<String>,
}

/// Build the Work container environment in the order of
/// docs/compatibility.md#work-container-environment, plus `SFORGE_DEADLINE`.
#[must_use]
pub fn work_env(input: &WorkEnvInput) -> WorkEnv {
    let agent = input.agent;
    let mut env = EnvList::default();
    for (upper, lower, value) in [
        ("HTTP_PROXY", "http_proxy", &input.http_proxy),
        ("HTTPS_PROXY", "https_proxy", &input.https_proxy),
        ("NO_PROXY", "no_proxy", &input.no_proxy),
    ] {
        if let Some(value) = value {
            env.set(upper, value.as_str());
            env.set(lower, value.as_str());
        }
    }
    let agent_vars = [
        (agent.api_key_env(), &input.api_key),
        (agent.api_base_env(), &input.api_base_url),
        (agent.model_env(), &input.model),
        (Some("SFORGE_NODEJS_MIRROR_URL"), &input.nodejs_mirror_url),
        (Some("npm_config_registry"), &input.npm_registry_url),
    ];
    for (name, value) in agent_vars {
        if let (Some(name), Some(value)) = (name, value) {
            env.set(name, value.as_str());
        }
    }
    if input.extra_ca {
        for (name, value) in super::ca_env() {
            env.set(name, value);
        }
    }
    for (name, value) in &input.agent_extra_env {
        env.set(name.as_str(), value.as_str());
    }
    match agent {
        Agent::ClaudeCode => claude_code::augment_env(&mut env, input.cache_opt),
        Agent::Codex => codex::augment_env(&mut env),
        Agent::Script => {}
    }
    add_judge_vars(&mut env, input);
    finish(env)
}

fn add_judge_vars(env: &mut EnvList, input: &WorkEnvInput) {
    env.set("SFORGE_JUDGE_URL", input.judge_url.as_str());
    env.set("SFORGE_TOKEN", input.token.as_str());
    env.set("SFORGE_PATCH_DIR", input.patch_dir.as_str());
    env.set("SFORGE_SUBMIT_PATHS", input.submit_paths.join(" "));
    let excludes: Vec<String> = input
        .submit_exclude
        .iter()
        .map(|e| format!("--exclude={e}"))
        .collect();
    env.set("SFORGE_SUBMIT_EXCLUDE_FLAGS", excludes.join(" "));
    if let Some(url) = &input.game_server_url {
        env.set("GAME_SERVER_URL", url.as_str());
    }
    if let Some(deadline) = input.deadline {
        env.set("SFORGE_DEADLINE", deadline.to_string());
    }
    if let Some(host) = judge_host(&input.judge_url) {
        for name in ["NO_PROXY", "no_proxy"] {
            let value = match env.get(name).filter(|v| !v.is_empty()) {
                Some(list) if list.split(',').any(|h| h.trim() == host) => continue,
                Some(list) => format!("{list},{host}"),
                None => host.clone(),
            };
            env.set(name, value);
        }
    }
}

fn finish(env: EnvList) -> WorkEnv {
    let secret = env
        .0
        .iter()
        .filter(|(name, value)| is_secret_name(name) || has_password(value))
        .map(|(name, _)| name.clone())
        .collect();
    WorkEnv {
        vars: env.0,
        secret,
    }
}

/// The host name of a URL such as `http://host.docker.internal:8080/x` (IPv6 without brackets).
#[must_use]
pub fn judge_host(url: &str) -> Option<String> {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next()?;
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if let Some(v6) = host_port.strip_prefix('[') {
        v6.split_once(']')?.0
    } else {
        host_port.split(':').next()?
    };
    (!host.is_empty()).then(|| host.to_owned())
}

/// Whether a variable name suggests a secret (the same rule as the settings redaction).
fn is_secret_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    ["KEY", "TOKEN", "SECRET", "PASSWORD", "PASSWD", "CREDENTIAL"]
        .iter()
        .any(|word| upper.contains(word))
}

/// Whether a value is a URL carrying `user:password@`.
fn has_password(value: &str) -> bool {
    value.split_once("://").is_some_and(|(_, rest)| {
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        authority
            .rsplit_once('@')
            .is_some_and(|(userinfo, _)| userinfo.contains(':'))
    })
}

/// `text` quoted for bash when it needs quoting (NUL bytes, which bash cannot carry, dropped).
pub(super) fn shell_quote(text: &str) -> String {
    let clean: String = text.chars().filter(|c| *c != '\0').collect();
    shlex::try_quote(&clean)
        .expect("no NUL byte is left")
        .into_owned()
}
