//! `sforge visualizer` end to end: the real binary serves a copy of a run directory recorded by
//! `sforge run` (tests/fixtures/visualizer/), plus hostile additions (malformed JSON, a huge
//! agent output, symlinks out of the runs directory, markup in agent-controlled text). The JSON
//! API and path handling are checked over raw HTTP; the pages are rendered in real headless
//! Chromium, which must log no console message (script errors and CSP violations are console
//! messages), and their screenshots are decoded and checked for the chart's colours.

// Tests start the binary and the browser directly, independent of the product's process gateway.
#![allow(clippy::disallowed_methods)]

mod support;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, SystemTime};

use serde_json::Value;
use support::browser::{Browser, Image};

const FIXTURE: &str = "tests/fixtures/visualizer/runs";
const SECRETS: [&str; 2] = [
    "sk-fixture-secret-must-not-show",
    "proxy-pass-must-not-show",
];
const OUTSIDE_SECRET: &str = "outside-the-runs-directory-secret";

/// A `sforge visualizer` process over a temporary copy of the fixture runs.
struct Viz {
    _dir: tempfile::TempDir,
    runs: PathBuf,
    child: Child,
    port: u16,
}

impl Drop for Viz {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// The hostile additions: a run with malformed JSON, one with a 5 GiB (sparse) agent output,
/// symlinks leaving the runs directory, and markup in every agent-controlled text field.
fn add_hostile_runs(root: &Path, runs: &Path) {
    write(&root.join("outside/secret.txt"), OUTSIDE_SECRET);
    let broken = runs.join("broken/t");
    write(
        &broken.join("final_result.json"),
        "{\"agent\": \"script\", ",
    );
    write(&broken.join("run_history.json"), "[1, 2");
    write(
        &broken.join("submissions/agent-1/report.json"),
        "not json at all",
    );
    let huge = runs.join("huge/t");
    write(&huge.join("final_result.json"), "{\"agent\": \"script\"}");
    let file = std::fs::File::create(huge.join("agent_output.txt")).unwrap();
    file.set_len(5 << 30).unwrap();
    let linked = runs.join("linked/t");
    write(&linked.join("final_result.json"), "{}");
    std::os::unix::fs::symlink(
        root.join("outside/secret.txt"),
        linked.join("run_agent.log"),
    )
    .unwrap();
    std::os::unix::fs::symlink(
        root.join("outside/secret.txt"),
        linked.join("agent_output.txt"),
    )
    .unwrap();
    std::os::unix::fs::symlink(root.join("outside"), runs.join("escape")).unwrap();
    // A run still going: no final result, files changed just now.
    let live = runs.join("live/t");
    let now = SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    write(&live.join("started_at"), &format!("now\n{}\n", now - 30.0));
    write(
        &live.join("run_agent.log"),
        "agent started with 600s budget\n",
    );
    write(
        &live.join("run_config.json"),
        "{\"agent\": \"script\", \"timeout\": 600}",
    );
    write(
        &live.join("submissions/agent-1/report.json"),
        &serde_json::json!({"pass_rate": 0.5, "passed": 1, "total_tests": 2, "submitted_at": now - 10.0}).to_string(),
    );
    let xss = runs.join("xss/t");
    let markup =
        "<img src=x onerror=\"console.error('xss')\"><script>console.error('xss')</script>";
    write(
        &xss.join("final_result.json"),
        &serde_json::json!({"agent": markup, "model": markup, "error": markup, "best_round": "agent-1"}).to_string(),
    );
    write(
        &xss.join("submissions/agent-1/report.json"),
        &serde_json::json!({"summary": markup, "passed": 1, "total_tests": 2, "pass_rate": 0.5,
            "submitted_at": 1.0e9, "details": [{"name": markup, "status": "FAILED", "message": markup}]})
        .to_string(),
    );
    write(&xss.join("submissions/agent-1/test_output.txt"), markup);
    write(&xss.join("agent_output.txt"), &format!("{{\"type\":\"assistant\",\"message\":{{\"content\":[{{\"type\":\"text\",\"text\":{}}}]}}}}\n", serde_json::json!(markup)));
}

fn start() -> Viz {
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs");
    copy_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join(FIXTURE), &runs);
    add_hostile_runs(dir.path(), &runs);
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("sforge"))
        .args(["visualizer", "--port", "0", "--runs-dir"])
        .arg(&runs)
        .env("SFORGE_LOG_DIR", dir.path().join("logs"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start sforge visualizer");
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut banner = String::new();
    let port = loop {
        let mut line = String::new();
        assert!(
            stderr.read_line(&mut line).unwrap() > 0,
            "the visualizer exited:\n{banner}"
        );
        banner.push_str(&line);
        if let Some(url) = line.trim().strip_prefix("Open: http://127.0.0.1:") {
            break url.trim_end_matches('/').parse().unwrap();
        }
    };
    assert!(banner.contains("Found 9 run folder(s)"), "{banner}");
    // Keep draining stderr so the server never blocks on a full pipe.
    std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
    Viz {
        _dir: dir,
        runs,
        child,
        port,
    }
}

/// One raw HTTP/1.1 exchange (the target is sent exactly as given, unnormalised).
fn request(
    port: u16,
    method: &str,
    target: &str,
    host: Option<&str>,
) -> (u16, BTreeMap<String, String>, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let host = host.map_or_else(|| format!("127.0.0.1:{port}"), str::to_owned);
    write!(
        stream,
        "{method} {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").expect("a response head");
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.to_ascii_lowercase(), v.to_owned()))
        .collect();
    (status, headers, body.to_owned())
}

fn get(viz: &Viz, target: &str) -> (u16, String) {
    let (status, _, body) = request(viz.port, "GET", target, None);
    (status, body)
}

fn get_json(viz: &Viz, target: &str) -> Value {
    let (status, body) = get(viz, target);
    assert_eq!(status, 200, "{target}: {body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("{target}: {e}: {body}"))
}

/// Names, sizes and modification times of every file under `dir`.
fn snapshot(dir: &Path) -> Vec<(PathBuf, u64, SystemTime)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let meta = std::fs::symlink_metadata(entry.path()).unwrap();
        if meta.is_dir() {
            out.extend(snapshot(&entry.path()));
        } else {
            out.push((entry.path(), meta.len(), meta.modified().unwrap()));
        }
    }
    out.sort();
    out
}

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

#[test]
fn trajectories_of_both_agent_formats_are_parsed() {
    let viz = start();
    let claude = get_json(&viz, "/api/run/claude-sample/coin_change/trajectory");
    assert_eq!(claude["format"], "claude-stream-json");
    let kinds: Vec<&str> = claude["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds[0], "system");
    assert_eq!(
        kinds.iter().filter(|k| **k == "tool_call").count(),
        3,
        "{kinds:?}"
    );
    assert_eq!(
        kinds.iter().filter(|k| **k == "tool_result").count(),
        3,
        "{kinds:?}"
    );
    assert_eq!(kinds.last(), Some(&"result"));
    assert_eq!(claude["blocks"][2]["title"], "Bash");

    let codex = get_json(&viz, "/api/run/codex-sample/coin_change/trajectory");
    assert_eq!(codex["format"], "codex-transcript");
    let blocks = codex["blocks"].as_array().unwrap();
    let failed: Vec<&Value> = blocks.iter().filter(|b| b["is_error"] == true).collect();
    assert_eq!(
        failed.len(),
        1,
        "the exec that exited 1 is an error: {blocks:?}"
    );
    assert!(failed[0]["text"]
        .as_str()
        .unwrap()
        .contains("NotImplementedError"));
    assert!(blocks
        .iter()
        .any(|b| b["kind"] == "assistant"
            && b["text"].as_str().unwrap().contains("passes all 6 tests")));
}

#[test]
fn secrets_in_run_config_are_masked() {
    let viz = start();
    for target in [
        "/api/run/claude-sample/coin_change",
        "/api/run/codex-sample",
        "/api/runs",
    ] {
        let (status, body) = get(&viz, target);
        assert_eq!(status, 200, "{target}: {body}");
        for secret in SECRETS {
            assert!(!body.contains(secret), "{target} shows {secret}");
        }
    }
    let task = get_json(&viz, "/api/run/claude-sample/coin_change");
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

/// Where the screenshots are kept for a human to look at.
fn screenshot_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("visualizer-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn pages_render_in_chromium_without_console_messages() {
    let Some(browser) = Browser::find() else {
        return;
    };
    let viz = start();
    let base = format!("http://127.0.0.1:{}", viz.port);
    let pages: [(&str, &[&str]); 9] = [
        ("/", &["viz-demo", "claude-sample", "done", "Pass rate"]),
        (
            "/run/viz-demo",
            &[
                "text_utils",
                "tour_planner",
                "Pass rate across tasks",
                "<svg",
                "time budget",
            ],
        ),
        (
            "/run/viz-demo/tour_planner",
            &[
                "agent-2",
                "auto-4",
                "final",
                "Score over time",
                "<svg",
                "best-ring",
                "run_config.json",
                "agent",
            ],
        ),
        (
            "/run/viz-demo/text_utils/submission/agent-1",
            &[
                "test_is_palindrome_true",
                "FAILED",
                "textkit.py",
                "download submission.tar.gz",
            ],
        ),
        (
            "/run/viz-demo/text_utils/trajectory",
            &["Step 1: a partial solution", "Round: agent-1"],
        ),
        (
            "/run/claude-sample/coin_change/trajectory",
            &[
                "tool call",
                "Bash",
                "sforge-submit",
                "tool result",
                "passes all 6 tests",
            ],
        ),
        (
            "/run/codex-sample/coin_change/trajectory",
            &[
                "exec",
                "exited 1",
                "NotImplementedError",
                "tokens used",
                "codex-transcript",
            ],
        ),
        ("/run/broken/t", &["final_result.json is not valid JSON"]),
        ("/run/live/t", &["running", "● live", "agent-1", "<svg"]),
    ];
    for (path, expected) in pages {
        let page = browser.load(&format!("{base}{path}"));
        assert!(
            page.console.is_empty(),
            "{path}: console messages:\n{}",
            page.console.join("\n")
        );
        assert!(
            !page.dom.contains("Loading…"),
            "{path} never finished loading:\n{}",
            page.dom
        );
        for text in expected {
            assert!(
                page.dom.contains(text),
                "{path} lacks {text:?}:\n{}",
                page.dom
            );
        }
    }
}

#[test]
fn markup_in_run_files_is_shown_as_text() {
    let Some(browser) = Browser::find() else {
        return;
    };
    let viz = start();
    let base = format!("http://127.0.0.1:{}", viz.port);
    for path in [
        "/",
        "/run/xss",
        "/run/xss/t",
        "/run/xss/t/submission/agent-1",
        "/run/xss/t/trajectory",
    ] {
        let page = browser.load(&format!("{base}{path}"));
        assert!(
            page.console.is_empty(),
            "{path}: the markup ran:\n{}",
            page.console.join("\n")
        );
        assert!(
            !page.dom.contains("<img src=\"x\""),
            "{path}: markup became an element"
        );
        assert!(
            page.dom.contains("&lt;img src=x"),
            "{path} does not show the text:\n{}",
            page.dom
        );
    }
}

#[test]
fn screenshots_show_the_charts() {
    let Some(browser) = Browser::find() else {
        return;
    };
    let viz = start();
    let base = format!("http://127.0.0.1:{}", viz.port);
    for (name, path) in [
        ("task", "/run/viz-demo/tour_planner"),
        ("run", "/run/viz-demo"),
        ("runs", "/"),
    ] {
        let file = screenshot_dir().join(format!("{name}.png"));
        browser.screenshot(&format!("{base}{path}"), &file);
        let image = Image::read(&file);
        assert_eq!(
            (image.width, image.height),
            (1280, 1400),
            "{}",
            file.display()
        );
        assert!(
            image.ink() > 0.03,
            "{} is nearly blank ({:.3})",
            file.display(),
            image.ink()
        );
        if name != "runs" {
            // The chart's markers (accent blue) and the best round's ring (amber) are drawn.
            let blue = image.count_near([0x1f, 0x6f, 0xeb], 24);
            let amber = image.count_near([0xbf, 0x87, 0x00], 24);
            assert!(
                blue > 200 && amber > 30,
                "{}: blue {blue}, amber {amber}",
                file.display()
            );
        }
    }
}
