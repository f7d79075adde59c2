//! The `sforge` binary as a user runs it: `list`, `config`, global flags, and error output for bad
//! inputs (one `error:` line naming file/variable and field, exit 1, never a panic).

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;
use predicates::str::contains;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/reference")
}

/// `sforge` with an empty environment, so the developer's or CI's variables cannot leak in.
fn sforge() -> Command {
    let mut cmd = Command::cargo_bin("sforge").unwrap();
    cmd.env_clear();
    cmd
}

/// A scratch tasks directory holding the reference fixtures, to be broken by a test.
fn scratch_tasks() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(fixtures()).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, dir.path().join(path.file_name().unwrap())).unwrap();
    }
    dir
}

/// Assert a one-line error containing every fragment, exit status 1 and no panic.
fn assert_error(cmd: &mut Command, fragments: &[&str]) {
    let out = cmd
        .assert()
        .failure()
        .code(1)
        .stdout("")
        .get_output()
        .clone();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert_eq!(
        stderr.trim_end().lines().count(),
        1,
        "one line expected:\n{stderr}"
    );
    assert!(
        !stderr.contains("panicked") && !stderr.contains("backtrace"),
        "{stderr}"
    );
    for f in fragments {
        assert!(stderr.contains(f), "missing {f:?} in:\n{stderr}");
    }
}

#[test]
fn list_prints_the_reference_table() {
    let expected = "\
ID       Name            Base Image   Parser     
-------------------------------------------------
demo     Demo Tâsk       python       pytest_v   
tagged   Released 任务   python       score_sum  
";
    sforge()
        .arg("--tasks-dir")
        .arg(fixtures())
        .arg("list")
        .assert()
        .success()
        .stdout(expected);
}

#[test]
fn tasks_dir_also_comes_from_the_environment_and_after_the_subcommand() {
    sforge()
        .env("SFORGE_TASKS_DIR", fixtures())
        .arg("list")
        .assert()
        .success()
        .stdout(contains("tagged"));
    sforge()
        .arg("list")
        .arg("--tasks-dir")
        .arg(fixtures())
        .assert()
        .success()
        .stdout(contains("demo"));
}

#[test]
fn list_json_has_reference_image_names() {
    let out = sforge()
        .arg("--tasks-dir")
        .arg(fixtures())
        .args(["list", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let items: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let demo = &items[0]["images"];
    assert_eq!(demo["base"], "edgebench.base.python:3aacb6cdfc27");
    assert_eq!(demo["work"], "edgebench.work.demo:f70a04d5574a");
    assert_eq!(demo["judge"], "edgebench.judge.demo:f70a04d5574a");
    let tagged = &items[1]["images"];
    assert_eq!(tagged["work"], "edgebench.work.tagged:0123456789ab");
    assert_eq!(tagged["judge"], "edgebench.judge.tagged:c7e495b992c5");
}

#[test]
fn list_of_an_empty_benchmark() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("BENCHMARK.yaml"), "name: empty\n").unwrap();
    sforge()
        .arg("--tasks-dir")
        .arg(dir.path())
        .arg("list")
        .assert()
        .success()
        .stdout(format!("No tasks found in {}\n", dir.path().display()));
}

#[test]
fn missing_benchmark_yaml() {
    let dir = scratch_tasks();
    std::fs::remove_file(dir.path().join("BENCHMARK.yaml")).unwrap();
    assert_error(
        sforge().arg("--tasks-dir").arg(dir.path()).arg("list"),
        &["BENCHMARK.yaml", "not found", "--tasks-dir"],
    );
}

#[test]
fn unknown_base_image() {
    let dir = scratch_tasks();
    let path = dir.path().join("demo.json");
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("\"base_image\": \"python\"", "\"base_image\": \"rust\"");
    std::fs::write(&path, text).unwrap();
    assert_error(
        sforge().arg("--tasks-dir").arg(dir.path()).arg("list"),
        &["demo.json", "`base_image`", "\"rust\"", "available: python"],
    );
}

#[test]
fn mismatched_image_tag() {
    let dir = scratch_tasks();
    let path = dir.path().join("tagged.json");
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("c7e495b992c5", "ffffffffffff");
    std::fs::write(&path, text).unwrap();
    assert_error(
        sforge().arg("--tasks-dir").arg(dir.path()).arg("list"),
        &[
            "tagged.json",
            "`judge.image_tag`",
            "ffffffffffff",
            "c7e495b992c5",
        ],
    );
}

#[test]
fn malformed_json_and_yaml() {
    let dir = scratch_tasks();
    std::fs::write(dir.path().join("demo.json"), "{\"task_id\": \"demo\",").unwrap();
    assert_error(
        sforge().arg("--tasks-dir").arg(dir.path()).arg("list"),
        &["demo.json", "invalid JSON", "line"],
    );
    let dir = scratch_tasks();
    std::fs::write(dir.path().join("BENCHMARK.yaml"), "name: [unclosed\n").unwrap();
    assert_error(
        sforge().arg("--tasks-dir").arg(dir.path()).arg("list"),
        &["BENCHMARK.yaml", "invalid YAML", "line"],
    );
}

#[test]
fn missing_required_field_says_what_to_add() {
    let dir = scratch_tasks();
    let path = dir.path().join("demo.json");
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("\"cwd\": \"/home/workspace/demo\",", "");
    std::fs::write(&path, text).unwrap();
    assert_error(
        sforge().arg("--tasks-dir").arg(dir.path()).arg("list"),
        &["demo.json", "`cwd`", "missing"],
    );
}

#[test]
fn bad_numbers_in_env() {
    assert_error(
        sforge()
            .env("SFORGE_WORK_CPU_LIMIT", "2.5")
            .arg("--tasks-dir")
            .arg(fixtures())
            .arg("config"),
        &["SFORGE_WORK_CPU_LIMIT", "2.5", "whole number"],
    );
    assert_error(
        sforge().env("SFORGE_AGENT_TIMEOUT", "soon").arg("config"),
        &["SFORGE_AGENT_TIMEOUT", "seconds"],
    );
}

#[test]
fn unknown_task_for_config() {
    assert_error(
        sforge()
            .arg("--tasks-dir")
            .arg(fixtures())
            .args(["config", "--task", "nope"]),
        &["task 'nope' not found at", "nope.json"],
    );
}

#[test]
fn task_ids_that_are_not_plain_names_are_refused_escaped() {
    // A path to an existing task file through `..`: never read.
    assert_error(
        sforge()
            .arg("--tasks-dir")
            .arg(fixtures())
            .args(["config", "--task", "../reference/demo"]),
        &[r#"invalid task id "../reference/demo""#],
    );
    // A newline that would forge a second error line.
    assert_error(
        sforge()
            .arg("--tasks-dir")
            .arg(fixtures())
            .args(["config", "--task", "x\nerror: forged"]),
        &[r#"invalid task id "x\nerror: forged""#],
    );
}

#[test]
fn usage_errors_exit_2() {
    sforge().assert().code(2);
    sforge()
        .args(["config", "--backend", "podman"])
        .assert()
        .code(2);
    sforge()
        .args(["config", "--disable-internet", "--enable-internet"])
        .assert()
        .code(2);
}

#[test]
fn config_shows_winner_and_source_for_every_field() {
    let dir = tempfile::tempdir().unwrap();
    let exp = dir.path().join("exp.yaml");
    std::fs::write(
        &exp,
        "env: {SFORGE_AGENT_MODEL: from-exp-env}\nmodel: {api_base_url: 'https://llm.example'}\n\
         defaults: {work_cpu_limit: 4, agent: codex}\ntasks:\n  tagged: {mem_limit: 6g, internet: 'true'}\n",
    )
    .unwrap();
    let out = sforge()
        .env("SFORGE_WORK_CPU_LIMIT", "2")
        .env("SFORGE_AGENT_API_KEY", "sk-very-secret")
        .env("HTTPS_PROXY", "http://bob:hunter2@proxy:3128")
        .env("SFORGE_LOG_DIR", dir.path().join("logs"))
        .arg("--tasks-dir")
        .arg(fixtures())
        .args([
            "config",
            "--json",
            "--task",
            "tagged",
            "--judge-cpu-limit",
            "3",
            "--experiment",
        ])
        .arg(&exp)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        !stdout.contains("sk-very-secret") && !stdout.contains("hunter2"),
        "{stdout}"
    );
    let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let s = &doc["settings"];
    let check = |name: &str, value: serde_json::Value, source: &str| {
        assert_eq!(s[name]["value"], value, "{name}");
        let got = s[name]["source"].as_str().unwrap();
        assert!(
            got.contains(source),
            "{name}: source {got:?} lacks {source:?}"
        );
    };
    check("work_cpu_limit", 4.into(), "(defaults.work_cpu_limit)");
    check("judge_cpu_limit", 3.into(), "flag --judge-cpu-limit");
    check("work_mem_limit", "6g".into(), "(tasks.tagged.mem_limit)");
    check("judge_mem_limit", "6g".into(), "(tasks.tagged.mem_limit)");
    check("internet", true.into(), "(tasks.tagged.internet)");
    check("agent", "codex".into(), "(defaults.agent)");
    check(
        "agent_model",
        "from-exp-env".into(),
        "(env.SFORGE_AGENT_MODEL)",
    );
    check(
        "agent_api_base_url",
        "https://llm.example".into(),
        "(model.api_base_url)",
    );
    check("agent_api_key", "***".into(), "env SFORGE_AGENT_API_KEY");
    check(
        "https_proxy",
        "http://bob:***@proxy:3128".into(),
        "env HTTPS_PROXY",
    );
    check(
        "log_dir",
        dir.path().join("logs").display().to_string().into(),
        "env SFORGE_LOG_DIR",
    );
    check("eval_interval", 300.into(), "default");
    check("backend", "docker".into(), "default");
}

/// The fields of SForge 1.0's configuration record (docs/compatibility.md#settings).
const RECORD_FIELDS: [&str; 31] = [
    "http_proxy",
    "https_proxy",
    "no_proxy",
    "pypi_index_url",
    "maven_mirror_url",
    "go_proxy",
    "nodejs_mirror_url",
    "npm_registry_url",
    "apt_mirror_url",
    "agent_api_key",
    "agent_api_base_url",
    "agent_model",
    "agent_timeout",
    "agent_extra_env",
    "claude_cache_opt",
    "judge_extra_env",
    "git_user",
    "git_token",
    "work_cpu_limit",
    "work_mem_limit",
    "judge_cpu_limit",
    "judge_mem_limit",
    "extra_hosts",
    "registry",
    "backend",
    "k8s_namespace",
    "k8s_node_selector",
    "k8s_image_registry",
    "k8s_kubeconfig",
    "log_dir",
    "tasks_dir",
];

#[test]
fn config_shows_every_field_of_the_record() {
    let out = sforge().args(["config", "--json"]).output().unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for field in RECORD_FIELDS {
        let entry = &doc["settings"][field];
        assert!(
            entry.get("value").is_some() && entry["source"].is_string(),
            "missing {field}"
        );
    }
}

#[test]
fn config_table_masks_secrets() {
    sforge()
        .env("SFORGE_GIT_TOKEN", "ghp_secret")
        .arg("config")
        .assert()
        .success()
        .stdout(
            contains("git_token")
                .and(contains("***"))
                .and(contains("ghp_secret").not()),
        )
        .stdout(contains("SETTING").and(contains("SOURCE")));
}

#[test]
fn run_dry_run_prints_the_plan_without_docker_or_secrets() {
    let logs = tempfile::tempdir().unwrap();
    let script = logs.path().join("agent.sh");
    std::fs::write(&script, "echo hi\n").unwrap();
    let out = sforge()
        .env("SFORGE_DOCKER", "/nonexistent/docker")
        .env("SFORGE_AGENT_API_KEY", "sk-never-printed")
        .arg("--tasks-dir")
        .arg(fixtures())
        .arg("--log-dir")
        .arg(logs.path())
        .args([
            "run",
            "--dry-run",
            "--task",
            "demo",
            "--agent",
            "script",
            "--run-id",
            "dry",
            "--agent-script",
        ])
        .arg(&script)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.starts_with("#!/bin/sh\n"), "{stdout}");
    for needle in [
        "/nonexistent/docker build",
        "/nonexistent/docker run -d --name sforge.run.demo.dry",
        "bash /tmp/sforge-agent-script",
        "/nonexistent/docker rm -f",
    ] {
        assert!(stdout.contains(needle), "{needle} missing:\n{stdout}");
    }
    assert!(!stdout.contains("sk-never-printed"));
    let dir = logs.path().join("runs/dry/demo");
    for file in ["agent_prompt.md", "_sforge-submit.sh", "run_config.json"] {
        assert!(dir.join(file).is_file(), "{file} not written");
    }
}

/// `sforge <args>` with its stdout closed before it writes: it must end quietly (no error line,
/// no panic) with the status of a program killed by SIGPIPE.
#[allow(
    clippy::disallowed_methods,
    reason = "the test needs the child's stdout pipe to close it"
)]
fn assert_quiet_on_closed_stdout(args: &[&str]) {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_sforge"))
        .env_clear()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start sforge");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("wait for sforge");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(141), "{args:?}: {stderr}");
    assert!(
        !stderr.contains("error") && !stderr.contains("panicked"),
        "{args:?}: {stderr}"
    );
}

#[test]
fn a_closed_stdout_ends_commands_quietly() {
    let scratch = tempfile::tempdir().unwrap();
    let out = scratch.path().join("rendered");
    assert_quiet_on_closed_stdout(&["config"]);
    assert_quiet_on_closed_stdout(&["list"]);
    assert_quiet_on_closed_stdout(&["list", "--json"]);
    assert_quiet_on_closed_stdout(&[
        "render",
        "--task",
        "coin_change",
        "-o",
        out.to_str().unwrap(),
    ]);
}

#[test]
fn eval_refuses_a_game_task_before_touching_anything() {
    let games = Path::new(env!("CARGO_MANIFEST_DIR")).join("tasks/games");
    let logs = tempfile::tempdir().unwrap();
    assert_error(
        sforge()
            .arg("--tasks-dir")
            .arg(&games)
            .arg("--log-dir")
            .arg(logs.path())
            .args(["eval", "--task", "lantern_cave", "--archive", "-"]),
        &["lantern_cave is a game task", "sforge run"],
    );
    assert_eq!(std::fs::read_dir(logs.path()).unwrap().count(), 0);
}
