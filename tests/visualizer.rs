//! `sforge visualizer` end to end: the real binary serves a copy of a run directory recorded by
//! `sforge run` (tests/fixtures/visualizer/), plus hostile additions (malformed JSON, a huge
//! agent output, symlinks out of the runs directory, markup in agent-controlled text). The JSON
//! API and path handling are checked over raw HTTP; the pages are rendered in real headless
//! Chromium, which must log no console message (script errors and CSP violations are console
//! messages), and their screenshots are decoded and checked for the chart's colours.

// Tests start the binary and the browser directly, independent of the product's process gateway.
#![allow(clippy::disallowed_methods)]

#[path = "visualizer/pages.rs"]
mod pages;
#[path = "visualizer/server.rs"]
mod server;
mod support;

use std::path::Path;
use std::process::Command;

use serde_json::Value;
use server::{
    get, get_json, launch, request, snapshot, start, CLAUDE_RUN, CODEX_RUN, OUTSIDE_SECRET, SECRETS,
};

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
fn paths_outside_the_runs_directory_are_refused() {
    let viz = start();
    let attempts = [
        "/run/../../outside/secret.txt",
        "/run/%2e%2e/%2e%2e/outside/secret.txt",
        "/run/viz-demo/..%2F..%2F..%2Foutside%2Fsecret.txt/log",
        "/run/viz-demo/text_utils/submission/..%2F..%2F..%2F..%2Foutside/raw",
        "/api/run/..%2f..%2foutside",
        "/api/run/%2E%2E/secret.txt",
        "/run/escape",
        "/api/run/escape",
        "/run/escape/secret.txt/log",
        "/run/linked/t/log",
        "/run/linked/t/agent-output",
        "/api/run/linked/t/trajectory",
        "/run/viz-demo/text_utils/submission/agent-1/..%2F..%2F..%2F..%2F..%2Foutside%2Fsecret.txt",
        "/assets/..%2F..%2FCargo.toml",
        "/run/viz-demo%00/text_utils",
    ];
    for target in attempts {
        let (status, _, body) = request(viz.port, "GET", target, None);
        assert!(
            [400, 403, 404].contains(&status),
            "{target} answered {status}: {body}"
        );
        assert!(
            !body.contains(OUTSIDE_SECRET),
            "{target} leaked the file: {body}"
        );
    }
    // A symlinked file inside a task directory is refused with a clear reason.
    let (status, body) = get(&viz, "/api/run/linked/t/trajectory");
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("outside the runs directory"), "{body}");
    // The symlinked run directory is not listed.
    let runs = get_json(&viz, "/api/runs");
    assert!(runs["runs"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["run_id"] != "escape"));
}

#[test]
fn bad_input_gets_clear_errors_and_changes_nothing() {
    let viz = start();
    let before = snapshot(&viz.runs);

    let (status, body) = get(&viz, "/api/run/no-such-run");
    assert_eq!(status, 404);
    assert!(body.contains("not found"), "{body}");
    let (status, body) = get(&viz, "/run/no-such-run");
    assert_eq!(status, 404);
    assert!(
        body.contains("not found") && !body.contains("app.js"),
        "{body}"
    );
    let (status, _) = get(&viz, "/run/viz-demo/no_such_task");
    assert_eq!(status, 404);
    let (status, body) = get(&viz, "/api/run/viz-demo/text_utils/trajectory?offset=abc");
    assert_eq!(status, 400);
    assert!(body.contains("not a whole number"), "{body}");

    // Malformed JSON files: the run is listed with warnings naming the files.
    let runs = get_json(&viz, "/api/runs");
    let broken = runs["runs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["run_id"] == "broken")
        .expect("broken listed");
    let warnings = broken["tasks"][0]["warnings"].to_string();
    assert!(
        warnings.contains("final_result.json is not valid JSON"),
        "{warnings}"
    );
    assert!(warnings.contains("run_history.json"), "{warnings}");
    let task = get_json(&viz, "/api/run/broken/t");
    assert!(
        task["warnings"]
            .to_string()
            .contains("report.json is not valid JSON"),
        "{task}"
    );

    // A 5 GiB agent output is served one bounded window at a time.
    let (status, body) = get(&viz, "/api/run/huge/t/trajectory");
    assert_eq!(status, 200);
    assert!(
        body.len() < 2 << 20,
        "a trajectory page of {} bytes",
        body.len()
    );
    let page: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(page["total_bytes"], 5u64 << 30);
    assert!(page["next_offset"].as_u64().unwrap() <= 1 << 20);
    let (status, body) = get(
        &viz,
        &format!("/api/run/huge/t/trajectory?offset={}", (5u64 << 30) - 100),
    );
    assert_eq!(status, 200);
    assert!(serde_json::from_str::<Value>(&body).unwrap()["next_offset"].is_null());

    // Read-only: other methods are refused; a foreign Host is refused (DNS rebinding).
    for method in ["POST", "PUT", "DELETE"] {
        let (status, _, body) = request(viz.port, method, "/api/runs", None);
        assert_eq!(status, 405, "{method}: {body}");
    }
    let (status, _, _) = request(viz.port, "GET", "/api/runs", Some("attacker.example"));
    assert_eq!(status, 403);

    // Every answer carries the strict policy.
    let (_, headers, _) = request(viz.port, "GET", "/", None);
    let csp = &headers["content-security-policy"];
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert_eq!(headers["x-content-type-options"], "nosniff");

    assert_eq!(
        before,
        snapshot(&viz.runs),
        "the visualizer changed the runs directory"
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
    assert!(banner.contains("Found 4 run folder(s)"), "{banner}");
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
    assert_eq!(ids, [CODEX_RUN, CLAUDE_RUN, "secrets", "viz-demo"]);
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

/// The visualizer sits on the judge's hardened HTTP layer: an oversized head is a 431, a
/// declared body (any, on a read-only server) a 413 before a byte of it is sent, and ambiguous
/// framing a 400.
#[test]
fn the_http_layer_bounds_hold() {
    use std::io::{Read as _, Write as _};
    let viz = start();
    let exchange = |head: String| {
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", viz.port)).unwrap();
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(30)))
            .unwrap();
        let _ = stream.write_all(head.as_bytes());
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer);
        let text = String::from_utf8_lossy(&answer).into_owned();
        text.split(' ').nth(1).unwrap_or("").to_owned()
    };
    let host = format!("127.0.0.1:{}", viz.port);
    let huge = format!(
        "GET / HTTP/1.1\r\nHost: {host}\r\nX-Big: {}\r\n\r\n",
        "a".repeat(70 << 10)
    );
    assert_eq!(exchange(huge), "431");
    let upload =
        format!("GET /api/runs HTTP/1.1\r\nHost: {host}\r\nContent-Length: 1099511627776\r\n\r\n");
    assert_eq!(exchange(upload), "413");
    let smuggle = format!(
        "GET /api/runs HTTP/1.1\r\nHost: {host}\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
    );
    assert_eq!(exchange(smuggle), "400");
}
