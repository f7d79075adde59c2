//! Per-task inputs of a run: the agent plan, the Work container environment, the prompt and
//! in-container tools, and the recorded `run_config.json`.

use anyhow::Context as _;
use serde_json::{json, Value};

use crate::cli::RunArgs;
use crate::config::{redacted_entries, Settings};
use crate::run::{AgentPlan, ContainerFile};
use crate::task::Task;

/// The agent named by the settings.
pub fn agent_plan(settings: &Settings, args: &RunArgs) -> anyhow::Result<AgentPlan> {
    match settings.agent.value.as_deref() {
        None => anyhow::bail!("--agent is required"),
        Some("script") => {
            let path = args
                .agent_script
                .as_ref()
                .context("--agent script needs --agent-script PATH")?;
            let script = std::fs::read(path)
                .with_context(|| format!("cannot read the agent script {}", path.display()))?;
            Ok(AgentPlan::script(script))
        }
        Some(other) => anyhow::bail!("Unknown agent: '{other}'. Available: script"),
    }
}

/// The Work container's environment (without the token, which the agent's exec adds).
#[must_use]
pub fn work_env(settings: &Settings, task: &Task, _run_id: &str) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = Vec::new();
    for (upper, lower, value) in [
        ("HTTP_PROXY", "http_proxy", &settings.http_proxy.value),
        ("HTTPS_PROXY", "https_proxy", &settings.https_proxy.value),
        ("NO_PROXY", "no_proxy", &settings.no_proxy.value),
    ] {
        if let Some(v) = value {
            env.push((upper.into(), v.clone()));
            env.push((lower.into(), v.clone()));
        }
    }
    for (k, v) in &settings.agent_extra_env.value {
        env.retain(|(name, _)| name != k);
        env.push((k.clone(), v.clone()));
    }
    env.push(("SFORGE_JUDGE_URL".into(), settings.judge_url.value.clone()));
    env.push(("SFORGE_PATCH_DIR".into(), task.cwd.clone()));
    env.push(("SFORGE_SUBMIT_PATHS".into(), task.submit_paths.join(" ")));
    let excludes: Vec<String> = task
        .submit_exclude
        .iter()
        .map(|e| format!("--exclude={e}"))
        .collect();
    env.push(("SFORGE_SUBMIT_EXCLUDE_FLAGS".into(), excludes.join(" ")));
    env
}

/// The prompt and the in-container tools.
#[must_use]
pub fn prompt_and_tools(_settings: &Settings, task: &Task) -> (String, Vec<ContainerFile>) {
    (format!("{}\n", task.work.agent_query), Vec::new())
}

/// The per-task `run_config.json`: effective settings (secrets redacted) with their sources.
#[must_use]
pub fn run_config(settings: &Settings, task: &Task) -> Value {
    let entries: serde_json::Map<String, Value> = redacted_entries(settings)
        .into_iter()
        .map(|(name, value, source)| {
            (
                name.to_owned(),
                json!({"value": value, "source": source.to_string()}),
            )
        })
        .collect();
    json!({
        "task_id": task.task_id,
        "agent": settings.agent.value,
        "model": settings.agent_model.value,
        "timeout": settings.agent_timeout.value,
        "eval_interval": settings.eval_interval.value,
        "disable_stop_hook": settings.disable_stop_hook.value,
        "disable_auto_eval": settings.disable_auto_eval.value,
        "disable_auto_resume": settings.disable_auto_resume.value,
        "internet": settings.internet.value,
        "judge_url": settings.judge_url.value,
        "work_cpu_limit": settings.work_cpu_limit.value,
        "work_mem_limit": settings.work_mem_limit.value,
        "judge_cpu_limit": settings.judge_cpu_limit.value,
        "judge_mem_limit": settings.judge_mem_limit.value,
        "max_submissions": settings.max_submissions.value,
        "submission_cooldown": settings.submission_cooldown.value,
        "images": {"work": task.images.work.to_string(), "judge": task.images.judge.to_string()},
        "settings": entries,
    })
}
