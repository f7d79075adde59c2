//! The stop-hook script shared by claude-code and codex: it blocks the agent from ending its
//! session while `SFORGE_DEADLINE` (epoch seconds) lies ahead — always, when that is unset — and
//! prints `{}` (allow) once the deadline has passed.

use minijinja::context;
use serde_json::{json, Value};

use super::error::AgentError;
use super::parts::ContainerFile;
use super::templates;

/// The hook script for `agent`, installed at `path` with mode 0755 (local copy `local_copy`).
pub(super) fn script_file(
    agent: &str,
    path: &str,
    local_copy: &str,
) -> Result<ContainerFile, AgentError> {
    Ok(ContainerFile {
        path: path.to_owned(),
        content: templates::render("stop-hook.sh", context! { agent })?,
        mode: 0o755,
        root: true,
        local_copy: Some(local_copy.to_owned()),
    })
}

/// A hooks document with one Stop hook of type command (the shape claude-code's
/// `settings.json` and codex's `hooks.json` share); `extra` fields go on the command entry.
pub(super) fn stop_hooks_json(command: &str, extra: &[(&str, Value)]) -> String {
    let mut entry = json!({ "type": "command", "command": command });
    for (key, value) in extra {
        entry[*key] = value.clone();
    }
    let document = json!({ "hooks": { "Stop": [ { "hooks": [entry] } ] } });
    let mut text = serde_json::to_string_pretty(&document).expect("a JSON value always serialises");
    text.push('\n');
    text
}
