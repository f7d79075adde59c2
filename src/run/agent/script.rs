//! The `script` agent: a user-supplied bash script run as the agent, for task authors, smoke
//! tests and offline end-to-end tests. No install steps, no API key, no stop hook.

use super::parts::ContainerFile;

/// Where the script is copied inside the Work container.
pub const AGENT_SCRIPT_PATH: &str = "/tmp/sforge-agent-script";

/// The run (and resume) command: the script starts over on resume.
pub(super) fn command() -> String {
    format!("bash {AGENT_SCRIPT_PATH}")
}

/// The `--agent-script` contents as a file to copy into the container (mode 0755).
#[must_use]
pub fn agent_script_file(content: impl Into<String>) -> ContainerFile {
    ContainerFile {
        path: AGENT_SCRIPT_PATH.to_owned(),
        content: content.into(),
        mode: 0o755,
        root: true,
        local_copy: Some("_agent-script.sh".to_owned()),
    }
}
