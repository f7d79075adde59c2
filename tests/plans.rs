//! Printed plans (issue 18, docs/architecture.md#plans): `run --dry-run` prints a complete,
//! runnable script where DNS, the registry, the Docker daemon and the cluster cannot answer;
//! replaying the script creates the same containers, rules, pods, secrets and policies as a real
//! run (compared field by field, run-specific ids aside); no secret value is in any plan.

// Tests observe the system directly (docker, iptables, sh).
#![allow(clippy::disallowed_methods)]

#[path = "support/k8s_double/mod.rs"]
mod k8s_double;
mod support;

#[path = "plans/docker_replay.rs"]
mod docker_replay;
#[path = "plans/eval_plans.rs"]
mod eval_plans;
#[path = "plans/k8s_replay.rs"]
mod k8s_replay;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex, Weak};

use support::BenchFixture;

static FIXTURE: Mutex<Weak<BenchFixture>> = Mutex::new(Weak::new());

/// The example benchmark with the images of the replayed task built once.
fn fixture() -> Arc<BenchFixture> {
    support::built_benchmark(&FIXTURE, "sforge-test-plans", &["coin_change"])
}

/// A key that must never appear in a plan, its files or sforge's output.
const KEY: &str = "sk-plan-never-printed-4d1e";

/// `sforge` over the repository's example tasks, logs in `logs`, a minimal environment.
fn sforge(logs: &Path) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("sforge").unwrap();
    cmd.env_clear();
    for var in ["PATH", "HOME"] {
        if let Some(value) = std::env::var_os(var) {
            cmd.env(var, value);
        }
    }
    cmd.timeout(std::time::Duration::from_secs(120))
        .env("SFORGE_AGENT_API_KEY", KEY)
        .arg("--tasks-dir")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tasks"))
        .arg("--log-dir")
        .arg(logs);
    cmd
}

/// Every file under `dir` (recursively).
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                todo.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out
}

/// The plan printed by `cmd`: exit 0, a script `sh -n` accepts, no secret anywhere.
fn plan_of(cmd: &mut assert_cmd::Command, logs: &Path) -> (String, String) {
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}\n{stdout}");
    assert!(stdout.starts_with("#!/bin/sh\nset -eu\n"), "{stdout}");
    let script = logs.join("plan.sh");
    std::fs::write(&script, &stdout).unwrap();
    let check = Command::new("sh").arg("-n").arg(&script).output().unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    assert!(
        !stdout.contains(KEY) && !stderr.contains(KEY),
        "the key was printed"
    );
    for file in files_under(logs) {
        let bytes = std::fs::read(&file).unwrap();
        let found = bytes.windows(KEY.len()).any(|w| w == KEY.as_bytes());
        assert!(!found, "the key is in {}", file.display());
    }
    (stdout, stderr)
}

#[test]
fn a_docker_plan_is_complete_without_dns_or_daemon() {
    let logs = tempfile::tempdir().unwrap();
    let mut cmd = sforge(logs.path());
    cmd.env("SFORGE_DOCKER", "/nonexistent/docker")
        .env(
            "SFORGE_AGENT_API_BASE_URL",
            "https://api.sforge-plan.invalid",
        )
        .args([
            "run",
            "--dry-run",
            "--disable-internet",
            "--run-id",
            "offline",
        ])
        .args(["--task", "coin_change", "--agent", "claude-code"]);
    let (plan, stderr) = plan_of(&mut cmd, logs.path());
    for needle in [
        "# warning: cannot list local images",
        "# warning: cannot resolve api.sforge-plan.invalid here",
        "SFORGE_API_IPV4=$(getent ahostsv4 api.sforge-plan.invalid",
        "/nonexistent/docker build",
        " $SFORGE_API_ADD_HOSTS ",
        "ANTHROPIC_AUTH_TOKEN=\"${ANTHROPIC_AUTH_TOKEN:?",
        "for ip in $SFORGE_API_IPV4; do",
        "-d \"$ip/32\" -p tcp --dport 443",
        "< ",
        "# remove the iptables rules of sforge.run.coin_change.offline",
        "/nonexistent/docker rm -f -v sforge.run.coin_change.offline",
    ] {
        assert!(plan.contains(needle), "{needle:?} not in:\n{plan}");
    }
    assert!(
        !plan.contains("not shown"),
        "some stdin cannot be replayed:\n{plan}"
    );
    assert!(
        stderr.contains("cannot resolve api.sforge-plan.invalid"),
        "{stderr}"
    );
    assert!(stderr.contains("cannot list local images"), "{stderr}");
}

#[test]
fn a_k8s_plan_is_complete_without_dns_registry_or_cluster() {
    let logs = tempfile::tempdir().unwrap();
    let kubeconfig = logs.path().join("dead.kubeconfig");
    std::fs::write(
        &kubeconfig,
        "apiVersion: v1\nkind: Config\nclusters:\n- name: dead\n  cluster:\n    server: https://127.0.0.1:1\ncontexts:\n- name: dead\n  context:\n    cluster: dead\n    user: u\ncurrent-context: dead\nusers:\n- name: u\n  user: {}\n",
    )
    .unwrap();
    let mut cmd = sforge(logs.path());
    cmd.env("SFORGE_K8S_KUBECONFIG", &kubeconfig)
        .env(
            "SFORGE_K8S_IMAGE_REGISTRY",
            "registry.sforge-plan.invalid/sf",
        )
        .env(
            "SFORGE_AGENT_API_BASE_URL",
            "https://api.sforge-plan.invalid",
        )
        .args(["run", "--dry-run", "--disable-internet", "--backend", "k8s"])
        .args([
            "--judge-url",
            "http://10.0.0.12:8080",
            "--run-id",
            "offline",
        ])
        .args(["--task", "coin_change", "--agent", "claude-code"]);
    let (plan, stderr) = plan_of(&mut cmd, logs.path());
    for needle in [
        "# warning: the cluster did not answer",
        "# warning: cannot check that image registry.sforge-plan.invalid/sf/",
        "SFORGE_API_IPV4=$(getent ahostsv4 api.sforge-plan.invalid",
        "kind: Secret",
        "  ANTHROPIC_AUTH_TOKEN: ${SFORGE_SECRET_B64_1}",
        "kind: Pod",
        "hostAliases:\n${SFORGE_API_YAML_",
        "kind: NetworkPolicy",
        "cidr: ${ip}/32",
        "export ANTHROPIC_AUTH_TOKEN='${SFORGE_SECRET_Q_1}'",
        "delete networkpolicy",
    ] {
        assert!(plan.contains(needle), "{needle:?} not in:\n{plan}");
    }
    assert!(
        !plan.contains("not shown"),
        "some stdin cannot be replayed:\n{plan}"
    );
    for warning in [
        "cluster did not answer",
        "cannot check that image",
        "cannot resolve",
    ] {
        assert!(stderr.contains(warning), "{warning:?} not in {stderr}");
    }
}
