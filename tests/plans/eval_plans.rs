//! `eval --dry-run` and `serve --dry-run`: complete without a daemon; a replayed eval plan grades
//! the archive as `sforge eval` does and leaves no container.

use std::process::Command;

use serde_json::Value;

use crate::require_docker;
use crate::support;
use crate::{plan_of, sforge};

/// The example solution `tasks/solutions/coin_change/full` as an archive under `dir`.
fn full_solution(dir: &std::path::Path) -> std::path::PathBuf {
    let src =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tasks/solutions/coin_change/full");
    let path = dir.join("full.tar.gz");
    std::fs::write(&path, support::tar_gz_of_dir(&src)).unwrap();
    path
}

#[test]
fn eval_and_serve_plans_are_complete_without_a_daemon() {
    let logs = tempfile::tempdir().unwrap();
    let archive = full_solution(logs.path());
    let mut cmd = sforge(logs.path());
    cmd.env("SFORGE_DOCKER", "/nonexistent/docker")
        .args([
            "eval",
            "--dry-run",
            "--task",
            "coin_change",
            "--run-id",
            "offline",
        ])
        .arg("--archive")
        .arg(&archive);
    let (plan, stderr) = plan_of(&mut cmd, logs.path());
    for needle in [
        "# warning: cannot list the local images",
        "/nonexistent/docker build",
        "/nonexistent/docker run -d --name ",
        ".judge.coin_change.offline ",
        "--network sforge-walled",
        "# warning: cannot check the network sforge-walled here",
        "/nonexistent/docker exec -i --user root",
        "sforge-deliver",
        "/bin/bash /tmp/eval.sh <",
        "/nonexistent/docker rm -f -v ",
    ] {
        assert!(plan.contains(needle), "{needle:?} not in:\n{plan}");
    }
    assert!(stderr.contains("cannot list the local images"), "{stderr}");
    // Every file the plan reads is there.
    for line in plan.lines().filter(|l| l.contains(" < ")) {
        let file = line.rsplit(" < ").next().unwrap().trim_matches('\'');
        assert!(std::path::Path::new(file).is_file(), "{file} is missing");
    }
    let mut cmd = sforge(logs.path());
    cmd.env("SFORGE_DOCKER", "/nonexistent/docker").args([
        "serve",
        "--dry-run",
        "--judge-pool",
        "2",
    ]);
    let (plan, _) = plan_of(&mut cmd, logs.path());
    assert!(plan.contains("/nonexistent/docker build"), "{plan}");
    assert!(
        plan.contains("would now listen on 0.0.0.0:8080") && plan.contains("with 2 warm"),
        "{plan}"
    );
    // A refused archive: said so, exit 2, nothing to replay.
    let bad = logs.path().join("bad.tar.gz");
    std::fs::write(&bad, b"not an archive").unwrap();
    let out = sforge(logs.path())
        .env("SFORGE_DOCKER", "/nonexistent/docker")
        .args(["eval", "--dry-run", "--task", "coin_change", "--archive"])
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("would reject the archive"));
}

#[test]
fn a_replayed_eval_plan_grades_like_eval() {
    require_docker!();
    let fixture = crate::fixture();
    let bench = &fixture.bench;
    let dir = tempfile::tempdir().unwrap();
    let archive = full_solution(dir.path());
    let run_id = support::unique_name("plan-eval");
    let out = bench
        .sforge()
        .args([
            "--silent",
            "eval",
            "--json",
            "--task",
            "coin_change",
            "--run-id",
            &run_id,
        ])
        .arg("--archive")
        .arg(&archive)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let score = report["score"].as_f64().unwrap();
    assert!(score > 0.0, "{report}");

    let planned = support::unique_name("plan-eval");
    let out = bench
        .sforge()
        .args([
            "eval",
            "--dry-run",
            "--task",
            "coin_change",
            "--run-id",
            &planned,
        ])
        .arg("--archive")
        .arg(&archive)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let script = dir.path().join("plan.sh");
    std::fs::write(&script, &out.stdout).unwrap();
    let replay = Command::new("sh").arg(&script).output().unwrap();
    let output = String::from_utf8_lossy(&replay.stdout);
    assert!(
        replay.status.success(),
        "{output}\n{}",
        String::from_utf8_lossy(&replay.stderr)
    );
    assert!(output.contains(">>>>> Start Test Output"), "{output}");
    // coin_change is graded by `score_sum`: the replay prints the score eval reported.
    let replayed: f64 = output
        .lines()
        .find_map(|l| l.strip_prefix("TOTAL_SCORE "))
        .unwrap_or_else(|| panic!("no TOTAL_SCORE in:\n{output}"))
        .trim()
        .parse()
        .unwrap();
    assert!(
        (replayed - score).abs() < 1e-6,
        "{replayed} != {score}\n{output}"
    );
    let left = support::containers_matching(&[&format!("label=sforge.run-id={planned}")]);
    assert!(left.is_empty(), "the replayed plan left {left:?}");
}
