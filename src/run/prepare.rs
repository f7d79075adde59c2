//! Everything one task of a run needs, worked out before anything starts: the agent (install
//! steps, files, command lines, checked inputs), the prompt and in-container tools, what the Work
//! container may reach with internet off, and its environment. Shared by real and dry runs.

use std::path::Path;

use super::agent::{
    agent_script_file, ca_cert_file, ca_trust_step, render_game_prompt, render_prompt,
    submit_script_file, work_env as agent_env, Agent, BaseUrlProblem, GamePromptInput, PromptInput,
    RunOptions, WorkEnvInput, DEFAULT_AGENT_TIMEOUT,
};
use super::agent::{ContainerFile, InstallStep, Required};
use super::error::RunError;
use crate::certs::{read_ca_file, to_pem};
use crate::config::{Settings, Sourced};
use crate::isolation::{is_inherited_proxy, plan_lookup, system_lookup, Egress};
use crate::task::Task;

/// Everything about one agent for one task.
#[derive(Debug, Clone)]
pub struct AgentPlan {
    pub agent: Agent,
    pub name: String,
    /// Programs the Work image must have; checked before anything is installed.
    pub required: Vec<Required>,
    /// Copied in before the install steps, which use them (extra CA certificates).
    pub setup_files: Vec<ContainerFile>,
    pub install: Vec<InstallStep>,
    pub files: Vec<ContainerFile>,
    /// Run after the files are copied in (e.g. enabling hooks).
    pub post_install: Vec<InstallStep>,
    /// Bash command line; the prompt is read from `/tmp/agent_prompt.md` inside the container.
    pub run_cmd: String,
    pub resume_cmd: Option<String>,
    /// Resume also after the agent exits successfully (LLM agents); a script that exits 0 is done.
    pub resume_after_success: bool,
    /// Default budget when none is configured (seconds).
    pub default_timeout: u64,
}

/// One task of a run, with its settings and everything derived from them.
#[derive(Debug, Clone)]
pub struct TaskPlan {
    pub task: Task,
    pub settings: Settings,
    pub agent: AgentPlan,
    pub prompt: String,
    /// Files copied in besides the agent's own (`sforge-submit`).
    pub tools: Vec<ContainerFile>,
    /// What the Work container may reach when internet is off (`None`: internet on).
    pub egress: Option<Egress>,
}

impl TaskPlan {
    /// Work out the task's run from its settings; `agent_script` is `--agent-script`'s file.
    /// For a printed plan (`for_plan`), hosts that cannot be resolved here are resolved when
    /// the plan is replayed.
    pub fn prepare(
        task: Task,
        settings: Settings,
        agent_script: Option<&Path>,
        for_plan: bool,
    ) -> Result<Self, RunError> {
        let agent = agent_plan(&settings, agent_script)?;
        let prompt = prompt(&settings, &task)?;
        let egress = egress(&settings, for_plan)?;
        // Game tasks are played through the game routes: no sforge-submit (only the stop hook,
        // as SForge 1.0 installs in game mode).
        let tools = if task.game_mode {
            Vec::new()
        } else {
            vec![submit_script_file()?]
        };
        Ok(TaskPlan {
            task,
            settings,
            agent,
            prompt,
            tools,
            egress,
        })
    }

    /// The Work container's environment (the token and deadline are added when the agent
    /// starts). `api_key` replaces the configured key (keyless agents get a run token). Game
    /// tasks get `GAME_SERVER_URL`, the judge's game routes of `run_id` and the task.
    #[must_use]
    pub fn work_env(&self, run_id: &str, api_key: Option<&str>) -> Vec<(String, String)> {
        let s = &self.settings;
        // An isolated container cannot use a proxy; one inherited from the shell is left out.
        let proxy = |v: &Sourced<Option<String>>| {
            if !s.internet.value && is_inherited_proxy(&v.source) {
                None
            } else {
                v.value.clone()
            }
        };
        let input = WorkEnvInput {
            agent: self.agent.agent,
            http_proxy: proxy(&s.http_proxy),
            https_proxy: proxy(&s.https_proxy),
            no_proxy: proxy(&s.no_proxy),
            api_key: api_key
                .map(str::to_owned)
                .or_else(|| s.agent_api_key.value.clone()),
            api_base_url: s.agent_api_base_url.value.clone(),
            model: s.agent_model.value.clone(),
            nodejs_mirror_url: s.nodejs_mirror_url.value.clone(),
            npm_registry_url: s.npm_registry_url.value.clone(),
            extra_ca: s.ca_file.value.is_some(),
            agent_extra_env: s.agent_extra_env.value.clone().into_iter().collect(),
            cache_opt: s.claude_cache_opt.value,
            judge_url: s.judge_url.value.clone(),
            token: String::new(),
            patch_dir: self.task.cwd.clone(),
            submit_paths: self.task.submit_paths.clone(),
            submit_exclude: self.task.submit_exclude.clone(),
            game_server_url: self.task.game_mode.then(|| {
                format!(
                    "{}/api/v1/game/{run_id}/{}",
                    s.judge_url.value.trim_end_matches('/'),
                    self.task.task_id
                )
            }),
            deadline: None,
        };
        agent_env(&input).vars
    }

    /// The agent's time budget.
    #[must_use]
    pub fn budget_seconds(&self) -> u64 {
        self.settings
            .agent_timeout
            .value
            .unwrap_or(self.agent.default_timeout)
    }
}

/// The agent the settings name.
pub fn agent_of(settings: &Settings) -> Result<Agent, RunError> {
    Ok(settings
        .agent
        .value
        .as_deref()
        .ok_or(RunError::NoAgent)?
        .parse()?)
}

/// The agent named by the settings, with everything it needs for this task.
fn agent_plan(settings: &Settings, agent_script: Option<&Path>) -> Result<AgentPlan, RunError> {
    let agent = agent_of(settings)?;
    agent.check_script_flag(agent_script.is_some())?;
    match base_url_problem(settings, agent) {
        Some(BaseUrlProblem::Wrong(text)) => return Err(RunError::BaseUrl(text)),
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
    if let Some(path) = agent_script {
        let script = std::fs::read_to_string(path).map_err(|source| RunError::AgentScript {
            path: path.to_owned(),
            source,
        })?;
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
        let certs = read_ca_file(path).map_err(|source| RunError::CaFile {
            setting: settings.ca_file.source.to_string(),
            source,
        })?;
        setup_files.push(ca_cert_file(to_pem(&certs)));
        install.insert(0, ca_trust_step()?);
    }
    Ok(AgentPlan {
        agent,
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
    if let Ok(agent) = agent_of(settings) {
        if let Some(BaseUrlProblem::Wrong(t) | BaseUrlProblem::Doubtful(t)) =
            base_url_problem(settings, agent)
        {
            warnings.push(t);
        }
    }
    if let Some(path) = &settings.ca_file.value {
        if let Err(e) = read_ca_file(path) {
            warnings.push(format!("{e} (set by {})", settings.ca_file.source));
        }
    }
    warnings
}

/// The prompt for this task.
fn prompt(settings: &Settings, task: &Task) -> Result<String, RunError> {
    if task.game_mode {
        return Ok(render_game_prompt(&GamePromptInput {
            agent_query: task.work.agent_query.clone(),
            internet: settings.internet.value,
        })?);
    }
    Ok(render_prompt(&PromptInput {
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
    })?)
}

/// What the Work container of a task may reach (`None` when its internet is on): the judge, and
/// the API (the agent's default one when no base URL is set).
fn egress(settings: &Settings, for_plan: bool) -> Result<Option<Egress>, RunError> {
    if settings.internet.value {
        return Ok(None);
    }
    let agent = agent_of(settings).ok();
    let api = settings.agent_api_base_url.value.clone().or_else(|| {
        agent
            .and_then(Agent::default_api_base_url)
            .map(str::to_owned)
    });
    let judge = &settings.judge_url.value;
    Ok(Some(if for_plan {
        Egress::resolve_for_plan(judge, api.as_deref(), &plan_lookup)?
    } else {
        Egress::resolve(judge, api.as_deref(), &system_lookup)?
    }))
}
