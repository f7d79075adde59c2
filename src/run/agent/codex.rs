//! codex (`@openai/codex`): install, command lines and stop hook (docs/compatibility.md#agents).

use minijinja::context;
use serde_json::json;

use super::env::EnvList;
use super::{claude_code, hook, templates, AgentError, ContainerFile, InstallStep, RunOptions};
use super::{StopHook, User, PROMPT_FILE};

const PACKAGE: &str = "@openai/codex@0.130.0";
/// The model written to `~/.codex/config.toml` when `CODEX_MODEL` is unset.
const DEFAULT_MODEL: &str = "gpt-5.5";
const HOOK_SCRIPT: &str = "/tmp/sforge-codex-stop-hook.sh";
const HOOKS_FILE: &str = "/etc/codex/hooks.json";
const APPEND_FILE: &str = "/tmp/sforge-codex-config-append.toml";
const CONFIG_FILE: &str = "/home/agent/.codex/config.toml";
const ENABLE_SCRIPT: &str = "/tmp/sforge-codex-hooks-enable.sh";

pub(super) fn install_steps() -> Vec<InstallStep> {
    let config = templates::render(
        "codex-config.sh",
        context! { default_model => DEFAULT_MODEL },
    )
    .expect("the codex config template renders with its one variable");
    vec![
        claude_code::node_step(),
        InstallStep::new(format!("sudo -E npm install -g {PACKAGE}"), User::Agent),
        InstallStep::new(config, User::Agent),
    ]
}

/// Without a base URL, codex reads its key from `CODEX_API_KEY`.
pub(super) fn augment_env(env: &mut EnvList) {
    if env.get("OPENAI_BASE_URL").is_none() {
        if let Some(key) = env.get("OPENAI_API_KEY") {
            let key = key.to_owned();
            env.set("CODEX_API_KEY", key);
        }
    }
}

fn exec(options: &RunOptions) -> &'static str {
    if options.internet {
        "codex exec"
    } else {
        "codex exec -c web_search=\"disabled\""
    }
}

pub(super) fn run_command(options: &RunOptions) -> String {
    format!(
        "{} --dangerously-bypass-approvals-and-sandbox \"$(cat {PROMPT_FILE})\"",
        exec(options)
    )
}

pub(super) fn resume_command(options: &RunOptions) -> String {
    format!(
        "{} resume --last --dangerously-bypass-approvals-and-sandbox \"Continue working.\"",
        exec(options)
    )
}

pub(super) fn stop_hook() -> Result<StopHook, AgentError> {
    let hooks = hook::stop_hooks_json(
        HOOK_SCRIPT,
        &[
            ("timeout", json!(30)),
            ("statusMessage", json!("SForge stop hook")),
        ],
    );
    let enable = templates::render(
        "codex-hooks-enable.sh",
        context! {
            hooks_file => HOOKS_FILE,
            append_file => APPEND_FILE,
            config_file => CONFIG_FILE,
        },
    )?;
    let file = |path: &str, content: String, mode: u32, local: &str| ContainerFile {
        path: path.to_owned(),
        content,
        mode,
        root: true,
        local_copy: Some(local.to_owned()),
    };
    Ok(StopHook {
        files: vec![
            hook::script_file("codex", HOOK_SCRIPT, "_codex-stop-hook.sh")?,
            file(HOOKS_FILE, hooks, 0o644, "_codex_hooks.json"),
            file(
                APPEND_FILE,
                "[features]\nhooks = true\n".to_owned(),
                0o644,
                "_codex_config_append.toml",
            ),
            file(ENABLE_SCRIPT, enable, 0o755, "_codex-hooks-enable.sh"),
        ],
        steps: vec![InstallStep::new(
            format!("chmod a+x {HOOK_SCRIPT} && bash {ENABLE_SCRIPT}"),
            User::Root,
        )],
    })
}
