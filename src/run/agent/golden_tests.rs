//! Golden tests for every agent text and command line. `UPDATE_GOLDEN=1 cargo test` rewrites the
//! files in `tests/golden/agent/`; review the diff before committing.

use std::fmt::Write as _;

use super::*;

pub(super) fn assert_golden(name: &str, actual: &str) {
    crate::golden::assert_golden(&format!("agent/{name}"), actual);
}

/// The command-line variants every agent is checked with.
fn variants() -> Vec<(&'static str, RunOptions)> {
    let base = RunOptions {
        model: None,
        internet: true,
        cache_opt: false,
    };
    vec![
        ("default", base.clone()),
        (
            "model with a space and a quote",
            RunOptions {
                model: Some("claude it's 4".into()),
                ..base.clone()
            },
        ),
        (
            "offline",
            RunOptions {
                internet: false,
                ..base.clone()
            },
        ),
        (
            "cache-opt",
            RunOptions {
                cache_opt: true,
                ..base.clone()
            },
        ),
        (
            "model + offline + cache-opt",
            RunOptions {
                model: Some("opus".into()),
                internet: false,
                cache_opt: true,
            },
        ),
    ]
}

fn user(user: User) -> &'static str {
    match user {
        User::Root => "root",
        User::Agent => "agent",
    }
}

/// Install steps, run/resume lines per variant and the stop-hook steps, as one text.
fn commands_text(agent: Agent) -> String {
    let mut out = String::new();
    writeln!(out, "## install").unwrap();
    for step in agent.install_steps() {
        writeln!(out, "[{}] {}", user(step.user), step.script.trim_end()).unwrap();
    }
    for (label, options) in variants() {
        writeln!(out, "## {label}").unwrap();
        writeln!(out, "run:    {}", agent.run_command(&options)).unwrap();
        writeln!(out, "resume: {}", agent.resume_command(&options)).unwrap();
    }
    writeln!(out, "## stop hook").unwrap();
    match agent.stop_hook().unwrap() {
        None => writeln!(out, "(none)").unwrap(),
        Some(hook) => {
            for file in &hook.files {
                writeln!(out, "file {} (mode {:o})", file.path, file.mode).unwrap();
            }
            for step in &hook.steps {
                writeln!(out, "[{}] {}", user(step.user), step.script).unwrap();
            }
        }
    }
    out
}

#[test]
fn claude_code_commands() {
    assert_golden(
        "claude-code.commands.txt",
        &commands_text(Agent::ClaudeCode),
    );
}

#[test]
fn codex_commands() {
    assert_golden("codex.commands.txt", &commands_text(Agent::Codex));
}

#[test]
fn script_commands() {
    assert_golden("script.commands.txt", &commands_text(Agent::Script));
}

#[test]
fn hook_files() {
    for agent in [Agent::ClaudeCode, Agent::Codex] {
        for file in agent.stop_hook().unwrap().unwrap().files {
            let base = file.path.rsplit('/').next().unwrap();
            assert_golden(&format!("{agent}.{base}"), &file.content);
        }
    }
}

#[test]
fn submit_script() {
    assert_golden("sforge-submit.sh", &render_submit_script().unwrap());
}

fn prompt_input() -> PromptInput {
    PromptInput {
        agent_query: "Implement `solve()` in src/solver.py.\n\nKeep the public API.".into(),
        submit_paths: vec!["src".into(), "README.md".into()],
        auto_eval: true,
        max_submissions: None,
        cooldown_seconds: None,
        internet: true,
        time_budget_minutes: None,
    }
}

#[test]
fn prompt_plain() {
    assert_golden("prompt.plain.md", &render_prompt(&prompt_input()).unwrap());
}

#[test]
fn prompt_with_limits_offline_and_time_budget() {
    let input = PromptInput {
        max_submissions: Some(5),
        cooldown_seconds: Some(60),
        internet: false,
        time_budget_minutes: Some(90),
        ..prompt_input()
    };
    assert_golden("prompt.limits-offline.md", &render_prompt(&input).unwrap());
}

#[test]
fn prompt_without_auto_eval_or_cooldown() {
    let input = PromptInput {
        auto_eval: false,
        max_submissions: Some(3),
        cooldown_seconds: Some(0),
        ..prompt_input()
    };
    let text = render_prompt(&input).unwrap();
    assert!(!text.contains("background"), "{text}");
    assert!(
        !text.contains("apart"),
        "a zero cooldown is not mentioned: {text}"
    );
    assert_golden("prompt.no-auto-eval.md", &text);
}

#[test]
fn prompt_without_submit_paths_or_limits() {
    let input = PromptInput {
        submit_paths: Vec::new(),
        ..prompt_input()
    };
    let text = render_prompt(&input).unwrap();
    assert!(!text.contains("### Submitted Files") && !text.contains("### Submission Limits"));
    assert!(
        text.ends_with("\n---\n\nImplement `solve()` in src/solver.py.\n\nKeep the public API.\n")
    );
}

#[test]
fn game_prompt_online_and_offline() {
    use super::{render_game_prompt, GamePromptInput};
    let online = GamePromptInput {
        agent_query: "Reach the highest score in Lantern Cave.".into(),
        internet: true,
    };
    let text = render_game_prompt(&online).unwrap();
    assert!(!text.contains("Network Environment"), "{text}");
    assert_golden("game_prompt.online.md", &text);
    let offline = GamePromptInput {
        internet: false,
        ..online
    };
    assert_golden(
        "game_prompt.offline.md",
        &render_game_prompt(&offline).unwrap(),
    );
}
