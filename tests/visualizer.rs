//! `sforge visualizer` end to end: the real binary serves a copy of a run directory recorded by
//! `sforge run` (tests/fixtures/visualizer/), plus hostile additions (malformed JSON, a huge
//! agent output, symlinks out of the runs directory, markup in agent-controlled text). The JSON
//! API and path handling are checked over raw HTTP; the pages are rendered in real headless
//! Chromium, which must log no console message (script errors and CSP violations are console
//! messages), and their screenshots are decoded and checked for the chart's colours.

// Tests start the binary and the browser directly, independent of the product's process gateway.
#![allow(clippy::disallowed_methods)]

#[path = "visualizer/archives.rs"]
mod archives;
#[path = "visualizer/compare.rs"]
mod compare;
#[path = "visualizer/files_routes.rs"]
mod files_routes;
#[path = "visualizer/games.rs"]
mod games;
#[path = "visualizer/hostile.rs"]
mod hostile;
#[path = "visualizer/live.rs"]
mod live;
#[path = "visualizer/pages.rs"]
mod pages;
#[path = "visualizer/server.rs"]
mod server;
mod support;

use std::path::Path;
use std::process::Command;

use serde_json::Value;
use server::{get, get_json, launch, request, snapshot, start, CLAUDE_RUN, CODEX_RUN, SECRETS};

#[test]
fn the_api_describes_the_recorded_run() {
    let viz = start();
    let runs = get_json(&viz, "/api/runs");
    let demo = runs["runs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["run_id"] == "viz-demo")
        .expect("viz-demo listed");
    assert_eq!(demo["status"], "done");
    assert_eq!(demo["task_count"], 2);
    assert_eq!(demo["agent"], "script");
    assert_eq!(demo["pass_rate"], 1.0);
    assert!(demo["started_at"].as_f64().unwrap() > 1.7e9);
    assert!(demo["duration_seconds"].as_f64().unwrap() > 1.0);

    let task = get_json(&viz, "/api/run/viz-demo/tour_planner");
    let rounds = task["rounds"].as_array().unwrap();
    let labels: Vec<&str> = rounds
        .iter()
        .map(|r| r["label"].as_str().unwrap())
        .collect();
    assert_eq!(
        labels,
        ["agent-1", "agent-2", "auto-1", "auto-2", "auto-3", "auto-4"]
    );
    let kinds: Vec<&str> = rounds.iter().map(|r| r["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["agent", "agent", "auto", "auto", "auto", "final"]);
    let best: Vec<&str> = rounds
        .iter()
        .filter(|r| r["is_best"] == true)
        .map(|r| r["label"].as_str().unwrap())
        .collect();
    assert_eq!(best, ["agent-2"]);
    assert_eq!(rounds[0]["score"], 140.583);
    assert_eq!(task["summary"]["timeout_seconds"], 150.0);
    assert!(task["summary"]["phase_seconds"]["agent"].as_f64().unwrap() > 0.0);
    assert!(task["prompt"]["text"]
        .as_str()
        .unwrap()
        .contains("sforge-submit"));

    let chart = get_json(&viz, "/run/viz-demo/tour_planner/chart-data");
    for key in [
        "task",
        "best_pass_rate",
        "best_score",
        "best_score_0_100",
        "created_at",
        "submissions",
    ] {
        assert!(chart.get(key).is_some(), "chart-data lacks {key}: {chart}");
    }
    let first = &chart["submissions"][0];
    for key in [
        "label",
        "kind",
        "pass_rate",
        "score",
        "score_0_100",
        "max_score",
        "submitted_at",
        "passed",
        "total",
    ] {
        assert!(
            first.get(key).is_some(),
            "a submission lacks {key}: {first}"
        );
    }

    let sub = get_json(&viz, "/api/run/viz-demo/text_utils/submission/agent-1");
    assert_eq!(sub["report"]["passed"], 5);
    assert_eq!(sub["report"]["total_tests"], 7);
    assert!(sub["test_output"]["text"]
        .as_str()
        .unwrap()
        .contains("test_is_palindrome"));
    let names: Vec<&str> = sub["archive"]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert!(names.iter().any(|n| n.ends_with("textkit.py")), "{names:?}");

    let (status, raw) = get(&viz, "/run/viz-demo/text_utils/submission/agent-1/raw");
    assert_eq!(status, 200);
    assert!(raw.contains("test_is_palindrome"));
    let (status, headers, body) = request(
        viz.port,
        "GET",
        "/run/viz-demo/text_utils/submission/agent-2/archive",
        None,
    );
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "application/gzip");
    assert!(body.len() > 100);
}

/// The real CLIs' output, recorded by `tests/agents_e2e.rs` (claude-code `stream-json`, codex
/// `exec` transcript), becomes tool calls, tool results, messages and errors.
#[test]
fn trajectories_of_both_agent_formats_are_parsed() {
    let viz = start();
    let kinds = |page: &Value| -> Vec<(String, bool)> {
        page["blocks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| {
                (
                    b["kind"].as_str().unwrap().to_owned(),
                    b["is_error"] == true,
                )
            })
            .collect()
    };
    let claude = get_json(
        &viz,
        &format!("/api/run/{CLAUDE_RUN}/coin_change/trajectory"),
    );
    assert_eq!(claude["format"], "claude-stream-json");
    let blocks = &claude["blocks"];
    assert_eq!(
        (&blocks[0]["kind"], &blocks[0]["title"]),
        (&"system".into(), &"init".into())
    );
    assert_eq!(
        (&blocks[1]["kind"], &blocks[1]["title"]),
        (&"tool_call".into(), &"Bash".into())
    );
    assert!(blocks[1]["text"]
        .as_str()
        .unwrap()
        .contains("sforge-submit"));
    let result = blocks
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["kind"] == "tool_result")
        .unwrap();
    assert_eq!(result["title"], "toolu_7");
    assert!(
        result["text"].as_str().unwrap().contains("Round: agent-1"),
        "{result}"
    );
    let claude_kinds = kinds(&claude);
    assert!(claude_kinds.contains(&("assistant".to_owned(), false)));
    // The API errors that ended each resumed session are results marked as errors.
    assert_eq!(
        claude_kinds
            .iter()
            .filter(|k| **k == ("result".to_owned(), true))
            .count(),
        4
    );

    let codex = get_json(
        &viz,
        &format!("/api/run/{CODEX_RUN}/coin_change/trajectory"),
    );
    assert_eq!(codex["format"], "codex-transcript");
    let blocks = codex["blocks"].as_array().unwrap();
    let call = blocks
        .iter()
        .position(|b| b["kind"] == "tool_call")
        .unwrap();
    assert!(blocks[call]["text"]
        .as_str()
        .unwrap()
        .starts_with("/bin/bash -lc"));
    assert!(blocks[call]["text"]
        .as_str()
        .unwrap()
        .ends_with("in /home/workspace/coin_change"));
    assert!(blocks[call]["text"]
        .as_str()
        .unwrap()
        .contains("sforge-submit"));
    assert_eq!(blocks[call + 1]["kind"], "tool_result");
    assert!(blocks[call + 1]["title"]
        .as_str()
        .unwrap()
        .starts_with("succeeded in"));
    assert!(blocks[call + 1]["text"]
        .as_str()
        .unwrap()
        .contains("Score: 100"));
    let codex_kinds = kinds(&codex);
    assert!(codex_kinds.contains(&("user".to_owned(), false)));
    assert!(codex_kinds.contains(&("assistant".to_owned(), false)));
    assert!(
        codex_kinds.contains(&("system".to_owned(), true)),
        "ERROR lines: {codex_kinds:?}"
    );
    assert!(blocks.iter().any(|b| b["title"] == "tokens used"));
}

#[test]
fn secrets_in_run_config_are_masked() {
    let viz = start();
    for target in ["/api/run/secrets/t", "/api/run/secrets", "/api/runs"] {
        let (status, body) = get(&viz, target);
        assert_eq!(status, 200, "{target}: {body}");
        for secret in SECRETS {
            assert!(!body.contains(secret), "{target} shows {secret}");
        }
    }
    let task = get_json(&viz, "/api/run/secrets/t");
    assert_eq!(task["config"]["settings"]["agent_api_key"]["value"], "***");
    assert_eq!(
        task["config"]["settings"]["https_proxy"]["value"],
        "http://user:***@proxy.example:3128"
    );
}

#[test]
fn help_documents_the_command() {
    let out = Command::new(assert_cmd::cargo::cargo_bin("sforge"))
        .args(["visualizer", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for text in [
        "--runs-dir",
        "--host",
        "127.0.0.1",
        "--port",
        "8000",
        "authentication",
        "/compare-runs",
        "/task/TASK",
    ] {
        assert!(help.contains(text), "help lacks {text}:\n{help}");
    }
}

/// `--runs-dir` names the runs directory itself (here the recorded fixture, served read-only).
#[test]
fn runs_dir_flag_serves_another_directory() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join(server::FIXTURE);
    let before = snapshot(&fixture);
    let (mut child, port, banner) = launch(&[
        "visualizer".as_ref(),
        "--runs-dir".as_ref(),
        fixture.as_os_str(),
    ]);
    assert!(banner.contains("Found 5 run folder(s)"), "{banner}");
    let (status, _, body) = request(port, "GET", "/api/runs", None);
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(status, 200, "{body}");
    let runs: Value = serde_json::from_str(&body).unwrap();
    let mut ids: Vec<&str> = runs["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["run_id"].as_str().unwrap())
        .collect();
    ids.sort_unstable();
    assert_eq!(
        ids,
        [CODEX_RUN, CLAUDE_RUN, "secrets", "viz-demo", "viz-game"]
    );
    assert_eq!(before, snapshot(&fixture));
}

/// The trajectory of a running task is read up to its last complete line, and polling from
/// `end_offset` returns what was appended since, the completed line included.
#[test]
fn a_growing_trajectory_is_read_line_by_line() {
    let viz = start();
    let output = viz.runs.join("live/t/agent_output.txt");
    std::fs::write(&output, "first line\nsecond li").unwrap();
    let page = get_json(&viz, "/api/run/live/t/trajectory");
    assert_eq!(page["running"], true);
    assert_eq!(page["blocks"][0]["text"], "first line\n");
    assert_eq!(page["end_offset"], 11);
    assert!(page["next_offset"].is_null());
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&output)
        .unwrap();
    std::io::Write::write_all(&mut file, b"ne\nthird line\n").unwrap();
    let page = get_json(&viz, "/api/run/live/t/trajectory?offset=11");
    assert_eq!(page["blocks"][0]["text"], "second line\nthird line\n");
    assert_eq!(page["end_offset"], 34);
    let page = get_json(&viz, "/api/run/live/t/trajectory?offset=34");
    assert!(page["blocks"].as_array().unwrap().is_empty(), "{page}");
    // A finished task shows its last line even without a line end.
    let done = get_json(
        &viz,
        &format!("/api/run/{CODEX_RUN}/coin_change/trajectory"),
    );
    assert_eq!(done["running"], false);
}
