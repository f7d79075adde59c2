//! Every generated script passes `bash -n` (and `shellcheck` when installed), and the stop hook
//! blocks before `SFORGE_DEADLINE` and allows stopping after it.
#![allow(
    clippy::disallowed_methods,
    reason = "these tests run bash and shellcheck on the generated scripts"
)]

use std::process::{Command, Stdio};

use serde_json::Value;

use super::*;

/// Every generated bash text, with a name for messages.
fn scripts() -> Vec<(String, String)> {
    let mut all = vec![("sforge-submit".to_owned(), render_submit_script().unwrap())];
    for agent in Agent::ALL {
        let steps = agent.install_steps().into_iter().chain(
            agent
                .stop_hook()
                .unwrap()
                .map(|hook| hook.steps)
                .unwrap_or_default(),
        );
        for (i, step) in steps.enumerate() {
            all.push((
                format!("{agent} step {i}"),
                format!("#!/bin/bash\n{}\n", step.script),
            ));
        }
        let options = RunOptions {
            model: Some("m 'x'".into()),
            internet: false,
            cache_opt: true,
        };
        for line in [agent.run_command(&options), agent.resume_command(&options)] {
            all.push((format!("{agent} command"), format!("#!/bin/bash\n{line}\n")));
        }
        let files = agent
            .stop_hook()
            .unwrap()
            .map(|h| h.files)
            .unwrap_or_default();
        for file in files.into_iter().filter(|f| f.content.starts_with("#!")) {
            all.push((file.path, file.content));
        }
    }
    all
}

fn check_with(program: &str, args: &[&str], name: &str, text: &str) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("script.sh");
    std::fs::write(&path, text).unwrap();
    let out = Command::new(program)
        .args(args)
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{program} rejects {name}:\n{}{}\n{text}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn every_script_parses_with_bash() {
    for (name, text) in scripts() {
        check_with("bash", &["-n"], &name, &text);
    }
}

#[test]
fn every_script_passes_shellcheck() {
    if which::which("shellcheck").is_err() {
        eprintln!("NOTICE: shellcheck is not installed; skipping the lint of generated scripts");
        return;
    }
    for (name, text) in scripts() {
        check_with("shellcheck", &["-s", "bash"], &name, &text);
    }
}

/// Run the claude-code hook with `deadline` (relative to now) and return its JSON answer.
fn hook_answer(deadline: Option<i64>) -> Value {
    let hook = Agent::ClaudeCode.stop_hook().unwrap().unwrap();
    let mut cmd = Command::new("bash");
    cmd.arg("-c")
        .arg(&hook.files[0].content)
        .env_remove("SFORGE_DEADLINE");
    if let Some(offset) = deadline {
        let now = crate::clock::epoch_secs();
        let at = i64::try_from(now).unwrap() + offset;
        cmd.env("SFORGE_DEADLINE", at.to_string());
    }
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(
        child.stdin.as_mut().unwrap(),
        br#"{"session_id":"s","stop_hook_active":true}"#,
    )
    .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn the_stop_hook_blocks_until_the_deadline() {
    let blocked = hook_answer(Some(600));
    assert_eq!(blocked["decision"], "block");
    let reason = blocked["reason"].as_str().unwrap();
    assert!(
        reason.contains("10 minute(s)") && reason.contains("sforge-submit"),
        "{reason}"
    );

    let unbounded = hook_answer(None);
    assert_eq!(unbounded["decision"], "block");
    assert!(!unbounded["reason"].as_str().unwrap().contains("minute"));

    assert_eq!(hook_answer(Some(-5)), serde_json::json!({}));
}

#[test]
fn hook_documents_are_valid_json() {
    for agent in [Agent::ClaudeCode, Agent::Codex] {
        let hook = agent.stop_hook().unwrap().unwrap();
        let doc = hook
            .files
            .iter()
            .find(|f| f.content.starts_with('{'))
            .unwrap();
        let value: Value = serde_json::from_str(&doc.content).unwrap();
        let command = &value["hooks"]["Stop"][0]["hooks"][0];
        assert_eq!(command["type"], "command");
        assert_eq!(
            command["command"].as_str(),
            Some(hook.files[0].path.as_str())
        );
    }
}
