//! claude-code (`@anthropic-ai/claude-code`): install, command lines and stop hook
//! (docs/compatibility.md#agents).

use super::env::EnvList;
use super::{hook, AgentError, ContainerFile, InstallStep, RunOptions, StopHook, User};
use super::{NODE_VERSION, PROMPT_FILE};

const PACKAGE: &str = "@anthropic-ai/claude-code@2.1.159";
const HOOK_SCRIPT: &str = "/tmp/sforge-stop-hook.sh";
const SETTINGS_FILE: &str = "/home/agent/.claude/settings.json";

/// The Node.js step shared by the npm-based agents: the official x64 tarball (or the mirror in
/// `SFORGE_NODEJS_MIRROR_URL`) unpacked into `/usr/local`, as root. The gzip tarball, not the
/// xz one: `tar -z` needs only gzip, which every image with tar has (xz often is missing).
pub(super) fn node_step() -> InstallStep {
    InstallStep::new(
        format!(
            "set -o pipefail; curl -fsSL \
             \"${{SFORGE_NODEJS_MIRROR_URL:-https://nodejs.org/dist}}/{NODE_VERSION}/node-{NODE_VERSION}-linux-x64.tar.gz\" \
             | tar -xz -C /usr/local --strip-components=1"
        ),
        User::Root,
    )
}

pub(super) fn install_steps() -> Vec<InstallStep> {
    vec![
        node_step(),
        InstallStep::new(format!("sudo -E npm install -g {PACKAGE}"), User::Agent),
    ]
}

/// `ANTHROPIC_API_KEY` mirrors the key when no base URL is set; the cache option turns off the
/// attribution header.
pub(super) fn augment_env(env: &mut EnvList, cache_opt: bool) {
    if cache_opt {
        env.set("CLAUDE_CODE_ATTRIBUTION_HEADER", "0");
    }
    if env.get("ANTHROPIC_BASE_URL").is_none() {
        if let Some(key) = env.get("ANTHROPIC_AUTH_TOKEN").filter(|k| !k.is_empty()) {
            let key = key.to_owned();
            env.set("ANTHROPIC_API_KEY", key);
        }
    }
}

fn additions(options: &RunOptions) -> String {
    let mut line = String::new();
    if let Some(model) = &options.model {
        line.push_str(" --model ");
        line.push_str(&super::env::shell_quote(model));
    }
    if !options.internet {
        line.push_str(" --disallowedTools WebSearch,WebFetch");
    }
    if options.cache_opt {
        line.push_str(
            " --exclude-dynamic-system-prompt-sections --settings '{\"includeGitInstructions\":false}'",
        );
    }
    line
}

const COMMON_FLAGS: &str = "--output-format stream-json --verbose --dangerously-skip-permissions";

pub(super) fn run_command(options: &RunOptions) -> String {
    format!(
        "claude -p \"$(cat {PROMPT_FILE})\" {COMMON_FLAGS}{}",
        additions(options)
    )
}

pub(super) fn resume_command(options: &RunOptions) -> String {
    format!(
        "claude --continue -p \"Continue working.\" {COMMON_FLAGS}{}",
        additions(options)
    )
}

pub(super) fn stop_hook() -> Result<StopHook, AgentError> {
    Ok(StopHook {
        files: vec![
            hook::script_file("claude-code", HOOK_SCRIPT, "_stop-hook.sh")?,
            ContainerFile {
                path: SETTINGS_FILE.to_owned(),
                content: hook::stop_hooks_json(HOOK_SCRIPT, &[]),
                mode: 0o644,
                root: false,
                local_copy: Some("_claude_settings.json".to_owned()),
            },
        ],
        steps: vec![InstallStep::new(
            format!("chmod a+x {HOOK_SCRIPT} && chown -R agent:agent /home/agent/.claude"),
            User::Root,
        )],
    })
}
