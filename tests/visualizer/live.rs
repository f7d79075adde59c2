//! Live update in real Chromium: a page of a task that is still running re-reads the run while
//! it stays open — a round graded meanwhile appears, and once the task ends the page says so and
//! stops polling. The page is kept open and read over the `DevTools` protocol
//! (`tests/support/cdp.rs`).

use std::path::Path;
use std::time::Duration;

use crate::server::start;
use crate::support::browser::Browser;
use crate::support::cdp::Tab;

/// How long a change may take to show (the page polls every 5 s).
const SHOWS_WITHIN: Duration = Duration::from_secs(30);

fn write(path: &Path, value: &serde_json::Value) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, value.to_string()).unwrap();
}

fn now() -> f64 {
    sforge::clock::epoch_seconds()
}

#[test]
fn a_running_task_page_follows_the_run() {
    let Some(browser) = Browser::find() else {
        return;
    };
    let viz = start();
    let task = viz.runs.join("live/t");
    let mut tab = Tab::open(
        &browser,
        &format!("http://127.0.0.1:{}/run/live/t", viz.port),
    );
    let first = tab.wait_for_text("agent-1", SHOWS_WITHIN);
    assert!(first.contains("● live"), "{first}");
    assert!(!first.contains("agent-2"), "{first}");

    write(
        &task.join("submissions/agent-2/report.json"),
        &serde_json::json!({"pass_rate": 1.0, "passed": 2, "total_tests": 2,
                            "submitted_at": now(), "summary": "all tests pass now"}),
    );
    let text = tab.wait_for_text("all tests pass now", SHOWS_WITHIN);
    assert!(text.contains("Rounds (2)"), "{text}");

    write(
        &task.join("final_result.json"),
        &serde_json::json!({"agent": "script", "best_pass_rate": 1.0, "best_round": "agent-2",
                            "timed_out": false, "runtime_seconds": 40.0}),
    );
    let done = tab.wait_for_text("done", SHOWS_WITHIN);
    assert!(
        !done.contains("● live"),
        "an ended task is not polled:\n{done}"
    );
    assert!(tab.console().is_empty(), "{:?}", tab.console());
}
