//! Why an agent cannot be chosen or its texts cannot be generated.

/// Errors of agent selection and text generation.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error("Unknown agent: '{0}'. Available: claude-code, codex, script")]
    Unknown(String),
    #[error("--agent script needs --agent-script PATH (the script to run as the agent)")]
    ScriptMissing,
    #[error("--agent-script is only used with --agent script (the agent is '{0}')")]
    ScriptUnused(String),
    #[error("cannot render the agent template {name}: {source}")]
    Template {
        name: &'static str,
        #[source]
        source: minijinja::Error,
    },
}
