//! What an agent needs in the Work container for one task, as plain data: install steps, files
//! (tools, hooks, scripts), steps to run once the files are in place, the run and resume command
//! lines and the default time budget.

pub use super::agent::{ContainerFile, InstallStep, Required, User};

/// Everything about one agent for one task.
#[derive(Debug, Clone)]
pub struct AgentPlan {
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
