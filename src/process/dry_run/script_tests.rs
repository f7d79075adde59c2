//! Tests of the plan printer: scripts run as printed, secrets come from the replaying shell's
//! environment and are never printed, binary stdin is replayed from files, and hosts resolved
//! at replay time fill the lines and YAML items that stood for them.

use std::path::Path;

use super::*;
use crate::process::{RealRunner, Runner};

/// Runs `script` (a plan's lines after the header) with `sh` in `dir` and `env`.
fn replay(dir: &Path, script: &str, env: &[(&str, &str)]) -> crate::process::Output {
    let path = dir.join("plan.sh");
    std::fs::write(&path, format!("#!/bin/sh\nset -eu\n{script}")).expect("write");
    let mut cmd = Cmd::new("sh").arg(path.display().to_string()).cwd(dir);
    for (k, v) in env {
        cmd = cmd.env(*k, *v);
    }
    RealRunner::new().run_unchecked(&cmd).expect("sh runs")
}

fn localhost() -> ReplayLookup {
    ReplayLookup::new("API", 1, "localhost", "not resolved here")
}

#[test]
fn secret_env_is_read_when_replayed_and_never_printed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cmd = Cmd::new("sh")
        .args(["-c", "printf %s \"$API_KEY\" > key"])
        .secret_env("API_KEY", "sk-printed-never");
    let text = render(&cmd, Context::default()).expect("render");
    assert!(!text.contains("sk-printed-never"), "{text}");
    let missing = replay(dir.path(), &text, &[]);
    assert!(!missing.success(), "an unset secret must stop the plan");
    assert!(missing.stderr_str().contains("API_KEY"));
    assert!(replay(dir.path(), &text, &[("API_KEY", "it's $x")]).success());
    let key = std::fs::read_to_string(dir.path().join("key")).expect("key");
    assert_eq!(key, "it's $x");
}

#[test]
fn binary_stdin_is_replayed_from_a_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let files = StdinFiles::new(dir.path().join("stdin"));
    let bytes = vec![0x1f, 0x8b, 0, 0xff, b'\n', 0];
    let cmd = Cmd::new("sh")
        .args(["-c", "cat > copy"])
        .stdin_bytes(bytes.clone());
    let ctx = Context {
        lookups: &[],
        files: Some(&files),
    };
    let text = render(&cmd, ctx).expect("render");
    assert!(text.contains("stdin-001.bin"), "{text}");
    assert!(replay(dir.path(), &text, &[]).success());
    assert_eq!(std::fs::read(dir.path().join("copy")).expect("copy"), bytes);
}

#[test]
fn replay_stdin_is_an_expanded_heredoc_after_its_prelude() {
    let dir = tempfile::tempdir().expect("tempdir");
    let replay_in = ReplayStdin {
        prelude: format!(": \"{}\"\n", secret_ref("PASS")),
        body: format!("{}pass=${{PASS}}\n", heredoc_escape("literal $HOME `x`\n")),
    };
    let cmd = Cmd::new("sh")
        .args(["-c", "cat > out"])
        .secret_stdin_bytes("pass=hunter2\n")
        .replay_stdin(replay_in);
    let text = render(&cmd, Context::default()).expect("render");
    assert!(!text.contains("hunter2"), "{text}");
    assert!(replay(dir.path(), &text, &[("PASS", "p w")]).success());
    let out = std::fs::read_to_string(dir.path().join("out")).expect("out");
    assert_eq!(out, "literal $HOME `x`\npass=p w\n");
}

#[test]
fn hosts_resolved_at_replay_fill_add_hosts_lines_and_yaml_items() {
    let dir = tempfile::tempdir().expect("tempdir");
    let lookup = localhost();
    let lookups = [lookup.clone()];
    let ctx = Context {
        lookups: &lookups,
        files: None,
    };
    let args = Cmd::new("sh")
        .args(["-c", "printf '%s\\n' \"$@\" >> args", "sh", "--add-host"])
        .arg(lookup.pin())
        .arg("--keep");
    let rule = Cmd::new("sh")
        .args(["-c", "printf '%s\\n' \"$1\" >> rules", "sh"])
        .arg(format!("{}/32", lookup.sentinel));
    let yaml = format!(
        "spec:\n  egress:\n  - ports:\n    - port: 443\n    to:\n    - ipBlock:\n        cidr: {}/32\n  - ports:\n    - port: 53\n  podSelector: {{}}\n",
        lookup.sentinel
    );
    let apply = Cmd::new("sh")
        .args(["-c", "cat > policy.yaml"])
        .stdin_bytes(yaml.clone());
    let mut text = lookup.prelude();
    for cmd in [&args, &rule, &apply] {
        text.push_str(&render(cmd, ctx).expect("render"));
    }
    let out = replay(dir.path(), &text, &[]);
    assert!(out.success(), "{}\n{text}", out.stderr_str());
    let read = |f: &str| std::fs::read_to_string(dir.path().join(f)).expect(f);
    assert_eq!(read("args"), "--add-host\nlocalhost:127.0.0.1\n--keep\n");
    assert_eq!(read("rules"), "127.0.0.1/32\n");
    assert_eq!(
        read("policy.yaml"),
        yaml.replace(&lookup.sentinel.to_string(), "127.0.0.1")
    );
}

#[test]
fn item_span_finds_the_outermost_list_item() {
    let lines: Vec<String> =
        "spec:\n  hostAliases:\n  - hostnames:\n    - a.example\n    ip: X\n  restartPolicy: Never"
            .lines()
            .map(str::to_owned)
            .collect();
    assert_eq!(item_span(&lines, 4), (2, 5));
    assert_eq!(item_span(&lines, 5), (5, 6));
}
