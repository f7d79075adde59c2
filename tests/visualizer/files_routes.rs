//! The file routes: submission diffs of the recorded rounds (hostile archives: archives.rs), the
//! streamed task download, the trace as text and JSON, the auto-eval log, `analysis.md`, and
//! traversal attempts on all of them.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use crate::server::{get, get_json, request, start, CLAUDE_RUN, OUTSIDE_SECRET};
use crate::support::browser::Browser;

/// Paths of the changed files of a diff answer.
pub fn paths(diff: &Value) -> Vec<&str> {
    diff["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect()
}

pub fn file<'a>(diff: &'a Value, path: &str) -> &'a Value {
    diff["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == path)
        .unwrap_or_else(|| panic!("{path} not in {diff}"))
}

pub fn lines(file: &Value, op: &str) -> Vec<String> {
    file["hunks"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|h| h["lines"].as_array().unwrap())
        .filter(|l| l["op"] == op)
        .map(|l| l["text"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn recorded_rounds_diff_against_the_previous_round() {
    let viz = start();
    let d = get_json(&viz, "/api/run/viz-demo/text_utils/submission/agent-2/diff");
    assert_eq!(d["round"], "agent-2");
    assert_eq!(d["previous"], "agent-1");
    assert_eq!(paths(&d), ["textkit.py"]);
    let f = file(&d, "textkit.py");
    assert_eq!(f["status"], "modified");
    assert_eq!(lines(f, "-"), ["    raise NotImplementedError"]);
    assert_eq!(
        lines(f, "+"),
        [
            "    chars = \"\".join(_words(text))",
            "    return chars == chars[::-1]"
        ]
    );
    assert!(f["hunks"][0]["header"]
        .as_str()
        .unwrap()
        .starts_with("@@ -24,4 +24,5 @@"));
    assert!(d["cut"].is_null(), "{d}");

    // The first round has no previous round: everything is added.
    let first = get_json(&viz, "/api/run/viz-demo/text_utils/submission/agent-1/diff");
    assert!(first["previous"].is_null());
    let f = file(&first, "textkit.py");
    assert_eq!(f["status"], "added");
    assert!(lines(f, "-").is_empty());
    assert!(lines(f, "+")
        .iter()
        .any(|l| l.contains("def is_palindrome")));

    // The round's API names the previous round and shows analysis.md as text.
    let analysis = viz
        .runs
        .join("viz-demo/text_utils/submissions/agent-2/analysis.md");
    std::fs::write(&analysis, "# Why\n<b>fixed</b> the palindrome\n").unwrap();
    let sub = get_json(&viz, "/api/run/viz-demo/text_utils/submission/agent-2");
    assert_eq!(sub["previous_round"], "agent-1");
    assert!(sub["analysis"]["text"]
        .as_str()
        .unwrap()
        .contains("<b>fixed</b>"));
    let sub = get_json(&viz, "/api/run/viz-demo/text_utils/submission/agent-1");
    assert!(sub["previous_round"].is_null() && sub["analysis"].is_null());

    let (status, body) = get(&viz, "/api/run/viz-demo/text_utils/submission/agent-9/diff");
    assert_eq!(status, 404, "{body}");
    let (status, body) = get(&viz, "/run/viz-demo/text_utils/submission/agent-9/diff");
    assert_eq!(status, 404, "{body}");

    let Some(browser) = Browser::find() else {
        return;
    };
    let base = format!(
        "http://127.0.0.1:{}/run/viz-demo/text_utils/submission",
        viz.port
    );
    for (path, expected) in [
        (
            "agent-2/diff",
            &[
                "textkit.py",
                "agent-1",
                "class=\"da\"",
                "chars == chars[::-1]",
                "modified",
            ][..],
        ),
        ("agent-1/diff", &["nothing (first round)", "added"][..]),
        (
            "agent-2",
            &[
                "diff against agent-1",
                "Analysis",
                "&lt;b&gt;fixed&lt;/b&gt;",
            ][..],
        ),
    ] {
        browser.check(&format!("{base}/{path}"), expected);
    }
}

/// One GET over HTTP/1.`minor` whose body is read as bytes (un-chunked from an HTTP/1.1
/// answer; an HTTP/1.0 client gets no chunks, the body ends with the connection).
fn get_bytes(port: u16, target: &str, minor: u8) -> (String, Vec<u8>) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    write!(
        stream,
        "GET {target} HTTP/1.{minor}\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let at = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&raw[..at]).to_ascii_lowercase();
    if minor == 0 {
        assert!(!head.contains("transfer-encoding"), "{head}");
        return (head, raw[at + 4..].to_vec());
    }
    assert!(head.contains("transfer-encoding: chunked"), "{head}");
    let mut body = Vec::new();
    chunked_transfer::Decoder::new(&raw[at + 4..])
        .read_to_end(&mut body)
        .unwrap();
    (head, body)
}

/// Relative paths of everything under `dir` but symlinks (directories end with `/`).
fn listing(dir: &Path, prefix: &str, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let kind = entry.file_type().unwrap();
        let name = format!("{prefix}{}", entry.file_name().to_string_lossy());
        if kind.is_dir() {
            out.push(format!("{name}/"));
            listing(&entry.path(), &format!("{name}/"), out);
        } else if kind.is_file() {
            out.push(name);
        }
    }
}

#[test]
fn downloads_stream_the_task_directory_without_symlinks() {
    let viz = start();
    let task = viz.runs.join("viz-demo/text_utils");
    let outside = viz.runs.parent().unwrap().parent().unwrap().join("outside");
    std::os::unix::fs::symlink(outside.join("secret.txt"), task.join("leak.txt")).unwrap();
    std::os::unix::fs::symlink(&outside, task.join("submissions/leak-dir")).unwrap();
    let (head, body) = get_bytes(viz.port, "/run/viz-demo/text_utils/download", 1);
    assert!(
        head.contains("content-disposition: attachment; filename=\"viz-demo-text_utils.tar.gz\""),
        "{head}"
    );
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(&body[..]));
    let mut got = Vec::new();
    let mut log = String::new();
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let path = entry.path().unwrap().to_string_lossy().into_owned();
        assert!(entry.header().entry_type().is_file() || entry.header().entry_type().is_dir());
        if path == "text_utils/run_agent.log" {
            entry.read_to_string(&mut log).unwrap();
        }
        let mut data = Vec::new();
        entry.read_to_end(&mut data).unwrap();
        assert!(!String::from_utf8_lossy(&data).contains(OUTSIDE_SECRET));
        got.push(path.trim_end_matches('/').to_owned());
    }
    let mut expected = vec!["text_utils/".to_owned()];
    listing(&task, "text_utils/", &mut expected);
    expected.push("text_utils/SFORGE-DOWNLOAD-NOTE.txt".to_owned());
    let mut expected: Vec<String> = expected
        .iter()
        .map(|p| p.trim_end_matches('/').to_owned())
        .collect();
    expected.sort();
    got.sort();
    assert_eq!(got, expected);
    assert!(!got.iter().any(|p| p.contains("leak")));
    assert_eq!(
        log,
        std::fs::read_to_string(task.join("run_agent.log")).unwrap()
    );

    // An HTTP/1.0 client gets the same archive, unchunked.
    let (_, old_body) = get_bytes(viz.port, "/run/viz-demo/text_utils/download", 0);
    let mut old = tar::Archive::new(flate2::read::GzDecoder::new(&old_body[..]));
    let mut old_paths: Vec<String> = old
        .entries()
        .unwrap()
        .map(|e| {
            let path = e.unwrap().path().unwrap().to_string_lossy().into_owned();
            path.trim_end_matches('/').to_owned()
        })
        .collect();
    old_paths.sort();
    assert_eq!(old_paths, got);

    let (status, headers, body) =
        request(viz.port, "HEAD", "/run/viz-demo/text_utils/download", None);
    assert_eq!(status, 200);
    assert!(body.is_empty() && headers["content-type"] == "application/gzip");
    let (status, body) = get(&viz, "/run/viz-demo/no_such_task/download");
    assert_eq!(status, 404, "{body}");
}

#[test]
fn trace_and_daemon_log_are_bounded_text_and_json() {
    let viz = start();
    let trace = get_json(&viz, &format!("/run/{CLAUDE_RUN}/coin_change/trace/json"));
    assert_eq!(trace["run_id"], CLAUDE_RUN);
    assert_eq!(trace["task"], "coin_change");
    let events = trace["events"].as_array().unwrap();
    assert!(events.len() > 5, "{trace}");
    assert_eq!(trace["total_events"], events.len());
    assert_eq!(events[0]["type"], "system");
    assert!(events.iter().any(|e| e["type"] == "assistant"));
    assert_eq!(trace["cut"], false);
    let (status, text) = get(&viz, &format!("/run/{CLAUDE_RUN}/coin_change/trace"));
    assert_eq!(status, 200);
    assert!(text.contains("\"type\":\"system\""));

    // 5 GiB of agent output: one window, cut, with where to go on.
    let huge = get_json(&viz, "/run/huge/t/trace/json");
    assert_eq!(huge["cut"], true);
    assert!(huge["next_offset"].as_u64().unwrap() <= 1 << 20);
    assert_eq!(huge["total_bytes"].as_u64().unwrap(), 5 << 30);
    let (status, text) = get(&viz, "/run/huge/t/trace");
    assert_eq!(status, 200);
    assert_eq!(text.len(), 1 << 20);

    let (status, text) = get(&viz, "/run/viz-demo/text_utils/daemon-log");
    assert_eq!(status, 200);
    let ticks =
        std::fs::read_to_string(viz.runs.join("viz-demo/text_utils/auto_eval_ticks.log")).unwrap();
    assert_eq!(text, ticks);
    let (status, body) = get(&viz, "/run/broken/t/daemon-log");
    assert_eq!(status, 404);
    assert!(body.contains("has no auto_eval_ticks.log"), "{body}");
    let (status, body) = get(&viz, "/run/broken/t/trace/json");
    assert_eq!(status, 404);
    assert!(body.starts_with("{\"error\""), "{body}");
}

#[test]
fn traversal_on_the_file_routes_is_refused() {
    let viz = start();
    let attempts = [
        "/run/viz-demo/text_utils/submission/..%2F..%2F..%2F..%2Foutside/diff",
        "/api/run/viz-demo/text_utils/submission/%2e%2e/diff",
        "/api/run/viz-demo/text_utils/submission/agent-1%2F..%2F..%2F..%2F..%2F..%2Foutside/diff",
        "/run/..%2F..%2Foutside/t/download",
        "/run/escape/secret.txt/download",
        "/run/linked/t/trace",
        "/run/linked/t/trace/json",
        "/run/escape/x/trace/json",
        "/run/viz-demo/..%2F..%2Foutside/daemon-log",
        "/run/%2e%2e/%2e%2e/daemon-log",
        "/run/linked/t/daemon-log",
    ];
    for target in attempts {
        let (status, _, body) = request(viz.port, "GET", target, None);
        assert!(
            [400, 403, 404].contains(&status),
            "{target} answered {status}: {body}"
        );
        assert!(!body.contains(OUTSIDE_SECRET), "{target} leaked: {body}");
    }
    // A symlinked daemon log is refused as such.
    std::os::unix::fs::symlink(
        viz.runs
            .parent()
            .unwrap()
            .parent()
            .unwrap()
            .join("outside/secret.txt"),
        viz.runs.join("linked/t/auto_eval_ticks.log"),
    )
    .unwrap();
    let (status, body) = get(&viz, "/run/linked/t/daemon-log");
    assert_eq!(status, 403, "{body}");
}
