//! The pages in real headless Chromium: rendered with the recorded run's content and no console
//! message, agent-controlled markup shown as text, and screenshots whose pixels show the charts.

use std::path::{Path, PathBuf};

use crate::server::start;
use crate::support::browser::{Browser, Image};

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
        (
            "/",
            &["viz-demo", "claude-code", "codex", "done", "Pass rate"],
        ),
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
            &[
                "Step 1: a partial solution",
                "Round: agent-1",
                "href=\"/run/viz-demo/text_utils/submission/agent-2\"",
            ],
        ),
        (
            "/run/run-20906-11-480497500/coin_change/trajectory",
            &[
                "tool call",
                "Bash",
                "sforge-submit",
                "tool result",
                "Stop hook feedback",
                "API Error",
            ],
        ),
        (
            "/run/run-20906-10-470464552/coin_change/trajectory",
            &[
                "exec",
                "succeeded in",
                "Score: 100",
                "tokens used",
                "codex-transcript",
                "Continue working.",
            ],
        ),
        ("/run/broken/t", &["final_result.json is not valid JSON"]),
        ("/run/live/t", &["running", "● live", "agent-1", "<svg"]),
    ];
    for (path, expected) in pages {
        browser.check(&format!("{base}{path}"), expected);
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
        "/task/t",
        "/compare/t?runs=xss,live",
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
