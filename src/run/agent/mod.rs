//! The agents `sforge run` can drive (claude-code, codex, script) as plain data: install steps,
//! environment, run/resume command lines, stop hooks, plus the in-container texts they rely on
//! (`sforge-submit`, the prompt). Nothing here starts a process.

mod base_url;
mod ca;
mod claude_code;
mod codex;
mod env;
mod env_list;
mod error;
mod hook;
mod parts;
mod prompt;
mod requirements;
mod script;
mod submit;
mod templates;

#[cfg(test)]
mod env_tests;
#[cfg(test)]
mod fake_judge;
#[cfg(test)]
mod golden_tests;
#[cfg(test)]
mod script_tests;
#[cfg(test)]
mod submit_tests;

use std::str::FromStr;
use std::time::Duration;

pub use base_url::BaseUrlProblem;
pub use ca::{ca_cert_file, ca_env, ca_trust_step, CA_BUNDLE_PATH, CA_CERT_PATH};
pub use env::{judge_host, work_env, WorkEnv, WorkEnvInput};
pub use error::AgentError;
pub use parts::{
    ContainerFile, InstallStep, RunOptions, StopHook, User, NODE_VERSION, PROMPT_FILE,
};
pub use prompt::{render_game_prompt, render_prompt, GamePromptInput, PromptInput};
pub use requirements::{describe_missing, missing_programs_check, Required};
pub use script::{agent_script_file, AGENT_SCRIPT_PATH};
pub use submit::{render_submit_script, submit_script_file, STATE_FILE, SUBMIT_SCRIPT_PATH};

/// Time limit of each install step.
pub const INSTALL_STEP_TIMEOUT: Duration = Duration::from_secs(600);
/// The agent timeout when neither the CLI nor the configuration gives one.
pub const DEFAULT_AGENT_TIMEOUT: Duration = Duration::from_secs(3600);
/// An agent CLI that runs inside the Work container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Agent {
    ClaudeCode,
    Codex,
    /// A user-supplied bash script run as the agent (no LLM).
    Script,
}

impl FromStr for Agent {
    type Err = AgentError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|agent| agent.name() == name)
            .ok_or_else(|| AgentError::Unknown(name.to_owned()))
    }
}

impl std::fmt::Display for Agent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl Agent {
    /// Every agent, in the order help texts list them.
    pub const ALL: [Agent; 3] = [Agent::ClaudeCode, Agent::Codex, Agent::Script];

    /// The `--agent` name.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Agent::ClaudeCode => "claude-code",
            Agent::Codex => "codex",
            Agent::Script => "script",
        }
    }

    /// Check that `--agent-script` is given exactly when the agent is `script`.
    pub fn check_script_flag(self, has_script: bool) -> Result<(), AgentError> {
        match (self, has_script) {
            (Agent::Script, false) => Err(AgentError::ScriptMissing),
            (Agent::ClaudeCode | Agent::Codex, true) => {
                Err(AgentError::ScriptUnused(self.name().to_owned()))
            }
            _ => Ok(()),
        }
    }

    /// The install commands, in order (docs/compatibility.md#agents).
    #[must_use]
    pub fn install_steps(self) -> Vec<InstallStep> {
        match self {
            Agent::ClaudeCode => claude_code::install_steps(),
            Agent::Codex => codex::install_steps(),
            Agent::Script => Vec::new(),
        }
    }

    /// The variable that receives the API key, if the agent takes one.
    #[must_use]
    pub fn api_key_env(self) -> Option<&'static str> {
        match self {
            Agent::ClaudeCode => Some("ANTHROPIC_AUTH_TOKEN"),
            Agent::Codex => Some("OPENAI_API_KEY"),
            // Scripted agents that call an LLM find the key and base URL under sforge's names.
            Agent::Script => Some("SFORGE_AGENT_API_KEY"),
        }
    }

    /// The variable that receives the API base URL.
    #[must_use]
    pub fn api_base_env(self) -> Option<&'static str> {
        match self {
            Agent::ClaudeCode => Some("ANTHROPIC_BASE_URL"),
            Agent::Codex => Some("OPENAI_BASE_URL"),
            Agent::Script => Some("SFORGE_AGENT_API_BASE_URL"),
        }
    }

    /// The variable that receives the model.
    #[must_use]
    pub fn model_env(self) -> Option<&'static str> {
        match self {
            Agent::ClaudeCode => Some("ANTHROPIC_MODEL"),
            Agent::Codex => Some("CODEX_MODEL"),
            Agent::Script => None,
        }
    }

    /// The API the agent talks to when no base URL is configured (for the isolation allow-list).
    #[must_use]
    pub fn default_api_base_url(self) -> Option<&'static str> {
        match self {
            Agent::ClaudeCode => Some("https://api.anthropic.com"),
            Agent::Codex => Some("https://api.openai.com"),
            Agent::Script => None,
        }
    }

    /// The command line that starts the agent, for `/bin/bash -c` in the task `cwd`.
    #[must_use]
    pub fn run_command(self, options: &RunOptions) -> String {
        match self {
            Agent::ClaudeCode => claude_code::run_command(options),
            Agent::Codex => codex::run_command(options),
            Agent::Script => script::command(),
        }
    }

    /// The command line that continues a stopped agent.
    #[must_use]
    pub fn resume_command(self, options: &RunOptions) -> String {
        match self {
            Agent::ClaudeCode => claude_code::resume_command(options),
            Agent::Codex => codex::resume_command(options),
            Agent::Script => script::command(),
        }
    }

    /// The stop hook that keeps the agent working until its deadline, if the agent has one.
    pub fn stop_hook(self) -> Result<Option<StopHook>, AgentError> {
        match self {
            Agent::ClaudeCode => claude_code::stop_hook().map(Some),
            Agent::Codex => codex::stop_hook().map(Some),
            Agent::Script => Ok(None),
        }
    }
}
