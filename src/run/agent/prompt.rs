//! The agent prompt (our own wording of the information in docs/compatibility.md#the-prompt):
//! standard tasks, and game tasks.

use serde::Serialize;

use super::error::AgentError;
use super::templates;

/// What the prompt says about the run, besides the task's own query.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PromptInput {
    /// The task's `agent_query`, appended after a `---` rule.
    pub agent_query: String,
    pub submit_paths: Vec<String>,
    /// Whether the host grades the code periodically (`--eval-interval` > 0); only then does
    /// the prompt warn that the submitted files must stay runnable.
    pub auto_eval: bool,
    pub max_submissions: Option<u32>,
    /// Seconds between agent submissions; 0 (no cooldown) is not mentioned.
    pub cooldown_seconds: Option<u64>,
    pub internet: bool,
    /// The agent's time budget, when it has one.
    pub time_budget_minutes: Option<u64>,
}

/// The prompt text written to `agent_prompt.md` and copied to [`super::PROMPT_FILE`].
pub fn render_prompt(input: &PromptInput) -> Result<String, AgentError> {
    templates::render("prompt.md", input)
}

/// What the prompt of a game task says besides the task's own query.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct GamePromptInput {
    pub agent_query: String,
    pub internet: bool,
}

/// The prompt of a game task.
pub fn render_game_prompt(input: &GamePromptInput) -> Result<String, AgentError> {
    templates::render("game_prompt.md", input)
}
