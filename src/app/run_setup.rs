//! Per-task inputs of a run: the agent plan, the Work container environment, the prompt and
//! in-container tools, and the recorded `run_config.json`.

use anyhow::Context as _;
use serde_json::{json, Value};

use crate::certs::{read_ca_file, to_pem};
use crate::cli::RunArgs;
use crate::config::{redacted_entries, Settings};
use crate::isolation::is_inherited_proxy;
use crate::run::agent::{
    agent_script_file, ca_cert_file, ca_trust_step, render_prompt, submit_script_file,
    work_env as agent_env, Agent, BaseUrlProblem, PromptInput, RunOptions, WorkEnvInput,
    DEFAULT_AGENT_TIMEOUT,
};
use crate::run::{AgentPlan, ContainerFile};
use crate::task::Task;

/// The agent named by the settings, with everything it needs for this task.
pub fn agent_plan(settings: &Settings, args: &RunArgs) -> anyhow::Result<AgentPlan> {
    let name = settings
        .agent
        .value
        .as_deref()
        .context("--agent is required")?;
    let agent: Agent = name.parse()?;
    agent.check_script_flag(args.agent_script.is_some())?;
    match base_url_problem(settings, agent) {
        Some(BaseUrlProblem::Wrong(text)) => anyhow::bail!("{text}"),
        Some(BaseUrlProblem::Doubtful(text)) => log::warn!("{text}"),
        None => {}
    }
    let options = RunOptions {
        model: settings.agent_model.value.clone(),
        internet: settings.internet.value,
        cache_opt: settings.claude_cache_opt.value,
    };
    let mut files = Vec::new();
    let mut post_install = Vec::new();
    if let Some(path) = &args.agent_script {
        let script = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the agent script {}", path.display()))?;
        files.push(agent_script_file(script));
    }
    if !settings.disable_stop_hook.value {
        if let Some(hook) = agent.stop_hook()? {
            files.extend(hook.files);
            post_install.extend(hook.steps);
        }
    }
    let mut install = agent.install_steps();
    let mut setup_files = Vec::new();
    if let Some(path) = &settings.ca_file.value {
        let certs = read_ca_file(path)
            .map_err(|e| anyhow::anyhow!("{e} (set by {})", settings.ca_file.source))?;
        setup_files.push(ca_cert_file(to_pem(&certs)));
        install.insert(0, ca_trust_step()?);
    }
    Ok(AgentPlan {
        name: agent.name().to_owned(),
        required: agent.required_programs(),
        setup_files,
        install,
        files,
        post_install,
        run_cmd: agent.run_command(&options),
        resume_cmd: Some(agent.resume_command(&options)),
        // A script that exits 0 is done; one that fails is retried under the crash guard.
        resume_after_success: agent != Agent::Script,
        default_timeout: DEFAULT_AGENT_TIMEOUT.as_secs(),
    })
}

/// What is wrong with the configured API base URL for `agent`, naming where it was set.
#[must_use]
pub fn base_url_problem(settings: &Settings, agent: Agent) -> Option<BaseUrlProblem> {
    let base = settings.agent_api_base_url.value.as_deref()?;
    let source = &settings.agent_api_base_url.source;
    Some(match agent.check_base_url(base)? {
        BaseUrlProblem::Wrong(text) => BaseUrlProblem::Wrong(format!("{text} (set by {source})")),
        BaseUrlProblem::Doubtful(text) => {
            BaseUrlProblem::Doubtful(format!("{text} (set by {source})"))
        }
    })
}

/// Warnings about settings that look wrong for a run: the API base URL for the agent, and an
/// extra CA file that cannot be used (`sforge run` refuses both).
#[must_use]
pub fn setting_warnings(settings: &Settings) -> Vec<String> {
    let mut warnings = Vec::new();
    if let Some(agent) = settings
        .agent
        .value
        .as_deref()
        .and_then(|a| a.parse::<Agent>().ok())
    {
        match base_url_problem(settings, agent) {
            Some(BaseUrlProblem::Wrong(t) | BaseUrlProblem::Doubtful(t)) => warnings.push(t),
            None => {}
        }
    }
    if let Some(path) = &settings.ca_file.value {
        if let Err(e) = read_ca_file(path) {
            warnings.push(format!("{e} (set by {})", settings.ca_file.source));
        }
    }
    warnings
}

/// The Work container's environment (the token and deadline are added when the agent starts).
/// `api_key` replaces the configured key (keyless agents get a run token of `sforge proxy`).
pub fn work_env(
    settings: &Settings,
    task: &Task,
    api_key: Option<&str>,
) -> anyhow::Result<Vec<(String, String)>> {
    let name = settings
        .agent
        .value
        .as_deref()
        .context("--agent is required")?;
    // An isolated container cannot use a proxy; one inherited from the shell is left out.
    let proxy = |v: &crate::config::Sourced<Option<String>>| {
        if !settings.internet.value && is_inherited_proxy(&v.source) {
            None
        } else {
            v.value.clone()
        }
    };
    let input = WorkEnvInput {
        agent: name.parse()?,
        http_proxy: proxy(&settings.http_proxy),
        https_proxy: proxy(&settings.https_proxy),
        no_proxy: proxy(&settings.no_proxy),
        api_key: api_key
            .map(str::to_owned)
            .or_else(|| settings.agent_api_key.value.clone()),
        api_base_url: settings.agent_api_base_url.value.clone(),
        model: settings.agent_model.value.clone(),
        nodejs_mirror_url: settings.nodejs_mirror_url.value.clone(),
        npm_registry_url: settings.npm_registry_url.value.clone(),
        extra_ca: settings.ca_file.value.is_some(),
        agent_extra_env: settings.agent_extra_env.value.clone().into_iter().collect(),
        cache_opt: settings.claude_cache_opt.value,
        judge_url: settings.judge_url.value.clone(),
        token: String::new(),
        patch_dir: task.cwd.clone(),
        submit_paths: task.submit_paths.clone(),
        submit_exclude: task.submit_exclude.clone(),
        game_server_url: None,
        deadline: None,
    };
    Ok(agent_env(&input).vars)
}

/// The prompt and the in-container tools (`sforge-submit`).
pub fn prompt_and_tools(
    settings: &Settings,
    task: &Task,
) -> anyhow::Result<(String, Vec<ContainerFile>)> {
    let prompt = render_prompt(&PromptInput {
        agent_query: task.work.agent_query.clone(),
        submit_paths: task.submit_paths.clone(),
        auto_eval: settings.eval_interval.value > 0 && !settings.disable_auto_eval.value,
        max_submissions: settings.max_submissions.value,
        cooldown_seconds: settings.submission_cooldown.value,
        internet: settings.internet.value,
        time_budget_minutes: Some(
            settings
                .agent_timeout
                .value
                .unwrap_or(DEFAULT_AGENT_TIMEOUT.as_secs())
                / 60,
        ),
    })?;
    Ok((prompt, vec![submit_script_file()?]))
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
