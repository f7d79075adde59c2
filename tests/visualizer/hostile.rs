//! Hostile and bad input: paths that try to leave the runs directory, unknown names, malformed
//! and huge files, other methods, foreign hosts, and the HTTP layer's bounds; nothing changes on
//! disk.

use serde_json::Value;

use crate::server::{get, get_json, request, snapshot, start, OUTSIDE_SECRET};

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
