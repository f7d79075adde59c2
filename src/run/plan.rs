//! What an agent needs in the Work container, as plain data: install steps, files, the run and
//! resume command lines, and environment additions.

/// A file to place in the Work container.
#[derive(Debug, Clone)]
pub struct ContainerFile {
    pub path: String,
    pub content: Vec<u8>,
    pub mode: u32,
    /// Owned by root (else by the agent user).
    pub root: bool,
    /// Name of the local copy in the task's log directory, if one is kept.
    pub local_copy: Option<String>,
}

/// One install step: a bash script run in the Work container.
#[derive(Debug, Clone)]
pub struct InstallStep {
    pub script: String,
    pub as_root: bool,
}

/// Everything about one agent for one task.
#[derive(Debug, Clone)]
pub struct AgentPlan {
    pub name: String,
    pub install: Vec<InstallStep>,
    pub files: Vec<ContainerFile>,
    /// Bash command line; the prompt is read from `/tmp/agent_prompt.md` inside the container.
    pub run_cmd: String,
    pub resume_cmd: Option<String>,
    /// Agent-specific environment (API key variables and the like).
    pub env: Vec<(String, String)>,
    /// Default budget when none is configured (seconds).
    pub default_timeout: u64,
}

impl AgentPlan {
    /// The `script` agent: runs a user's shell script as the agent (offline, no LLM).
    #[must_use]
    pub fn script(script: Vec<u8>) -> Self {
        AgentPlan {
            name: "script".into(),
            install: Vec::new(),
            files: vec![ContainerFile {
                path: "/tmp/sforge-agent-script".into(),
                content: script,
                mode: 0o755,
                root: true,
                local_copy: Some("_agent-script.sh".into()),
            }],
            run_cmd: "bash /tmp/sforge-agent-script".into(),
            // A script is run once: when it exits, the agent is done.
            resume_cmd: None,
            env: Vec::new(),
            default_timeout: 3600,
        }
    }
}
