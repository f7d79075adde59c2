//! The visualizer under test: a temporary copy of the recorded fixture runs with hostile
//! additions, the real `sforge visualizer` serving it on a free port, and a raw HTTP client that
//! sends request targets exactly as given.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, SystemTime};

use serde_json::Value;

pub const FIXTURE: &str = "tests/fixtures/visualizer/runs";
/// The fixture's run of the real claude-code CLI (recorded by `tests/agents_e2e.rs`).
pub const CLAUDE_RUN: &str = "run-20906-11-480497500";
/// The fixture's run of the real codex CLI (recorded by `tests/agents_e2e.rs`).
pub const CODEX_RUN: &str = "run-20906-10-470464552";
pub const SECRETS: [&str; 2] = [
    "sk-fixture-secret-must-not-show",
    "proxy-pass-must-not-show",
];
pub const OUTSIDE_SECRET: &str = "outside-the-runs-directory-secret";

/// A `sforge visualizer` process over a temporary copy of the fixture runs.
pub struct Viz {
    _dir: tempfile::TempDir,
    pub runs: PathBuf,
    child: Child,
    pub port: u16,
}

impl Drop for Viz {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn copy_dir(from: &Path, to: &Path) {
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

/// The visualizer over a copy of the fixture with the hostile additions, found through the
/// global `--log-dir` (its runs are `<log-dir>/runs`).
pub fn start() -> Viz {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    let runs = logs.join("runs");
    copy_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join(FIXTURE), &runs);
    add_hostile_runs(dir.path(), &runs);
    let (child, port, banner) = launch(&[
        "--log-dir".as_ref(),
        logs.as_os_str(),
        "visualizer".as_ref(),
    ]);
    let expected = format!("Found 11 run folder(s) in {}", runs.display());
    assert!(banner.contains(&expected), "{banner}");
    Viz {
        _dir: dir,
        runs,
        child,
        port,
    }
}

/// Starts `sforge <args> --port 0`; returns it, its port and its banner.
pub fn launch(args: &[&std::ffi::OsStr]) -> (Child, u16, String) {
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("sforge"))
        .args(args)
        .args(["--port", "0"])
        .env_remove("SFORGE_LOG_DIR")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start sforge visualizer");
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut banner = String::new();
    let port = loop {
        let mut line = String::new();
        if stderr.read_line(&mut line).unwrap_or(0) == 0 {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the visualizer exited:\n{banner}");
        }
        banner.push_str(&line);
        if let Some(url) = line.trim().strip_prefix("Open: http://127.0.0.1:") {
            break url.trim_end_matches('/').parse().unwrap();
        }
    };
    // Keep draining stderr so the server never blocks on a full pipe.
    std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
    (child, port, banner)
}

/// One raw HTTP/1.1 exchange (the target is sent exactly as given, unnormalised).
pub fn request(
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

pub fn get(viz: &Viz, target: &str) -> (u16, String) {
    let (status, _, body) = request(viz.port, "GET", target, None);
    (status, body)
}

pub fn get_json(viz: &Viz, target: &str) -> Value {
    let (status, body) = get(viz, target);
    assert_eq!(status, 200, "{target}: {body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("{target}: {e}: {body}"))
}

/// Names, sizes and modification times of every file under `dir`.
pub fn snapshot(dir: &Path) -> Vec<(PathBuf, u64, SystemTime)> {
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

/// The visualizer over a copy of the fixture runs (without the hostile additions) to which
/// `extra` adds runs; `extra` gets the runs directory.
pub fn start_with(extra: impl FnOnce(&Path)) -> Viz {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    let runs = logs.join("runs");
    copy_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join(FIXTURE), &runs);
    extra(&runs);
    let (child, port, _) = launch(&[
        "--log-dir".as_ref(),
        logs.as_os_str(),
        "visualizer".as_ref(),
    ]);
    Viz {
        _dir: dir,
        runs,
        child,
        port,
    }
}
