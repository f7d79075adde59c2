//! `sforge-submit`, the in-container command that sends the agent's code to the judge and prints
//! the grade (contract: docs/compatibility.md#sforge-submit; text: ours).

use minijinja::context;

use super::{templates, AgentError, ContainerFile};

/// Where the script is installed in the Work container (mode 0755, copied as root).
pub const SUBMIT_SCRIPT_PATH: &str = "/usr/local/bin/sforge-submit";
/// Default location of the agent-side progress record (`SFORGE_STATE_FILE` overrides it).
pub const STATE_FILE: &str = "/tmp/sforge_state.json";
/// Default seconds between two result checks (`SFORGE_SUBMIT_POLL_INTERVAL`).
pub const POLL_INTERVAL_SECS: u32 = 10;
/// Default number of result checks before giving up (`SFORGE_SUBMIT_POLL_MAX`): about 2 hours.
pub const POLL_MAX: u32 = 720;

/// The text of `sforge-submit`.
pub fn render_submit_script() -> Result<String, AgentError> {
    templates::render(
        "sforge-submit.sh",
        context! {
            install_path => SUBMIT_SCRIPT_PATH,
            state_file => STATE_FILE,
            poll_interval => POLL_INTERVAL_SECS,
            poll_max => POLL_MAX,
        },
    )
}

/// `sforge-submit` as a file to copy into the Work container.
pub fn submit_script_file() -> Result<ContainerFile, AgentError> {
    Ok(ContainerFile {
        path: SUBMIT_SCRIPT_PATH.to_owned(),
        content: render_submit_script()?,
        mode: 0o755,
        root: true,
        local_copy: Some("_sforge-submit.sh".to_owned()),
    })
}
