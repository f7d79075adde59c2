//! The cross-run pages over the fixture runs plus copies under group-style names
//! (`<model>-<machine>-<timestamp>`): `/task/{task}`, `/compare/{task}` and `/compare-runs`, their
//! JSON (order, ranks, ratings against a hand computation), their refusals, and their pages in
//! Chromium.

use std::path::Path;

use serde_json::Value;

use crate::server::{copy_dir, get, get_json, start_with, Viz, CLAUDE_RUN, CODEX_RUN};
use crate::support::browser::{Browser, Image};
use crate::support::cdp::Tab;

const ALPHA: &str = "alpha-m1-20260101120000";
const BETA: &str = "beta-m2-20260101130000";
const RETRY: &str = "beta-retry-m1-20260101140000";
const GAMMA: &str = "gamma-m1-20260101120000";

/// Copies `from` (a task directory under `runs`) to `to`, changing fields of its final result.
fn copy_task(runs: &Path, from: &str, to: &str, changes: &[(&str, Value)]) {
    copy_dir(&runs.join(from), &runs.join(to));
    let path = runs.join(to).join("final_result.json");
    let mut result: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    for (key, value) in changes {
        result[*key] = value.clone();
    }
    std::fs::write(&path, result.to_string()).unwrap();
}

/// The fixture plus: alpha (codex's `coin_change`, viz-demo's `text_utils` and
/// `tour_planner`), beta (claude's `coin_change` with score 80, `text_utils` at pass rate 0.5),
/// a retry of beta, gamma (a `coin_change` in error), and a run directory that is a symlink out
/// of the runs.
fn start_groups() -> Viz {
    start_with(|runs| {
        let codex = format!("{CODEX_RUN}/coin_change");
        let claude = format!("{CLAUDE_RUN}/coin_change");
        copy_task(runs, &codex, &format!("{ALPHA}/coin_change"), &[]);
        copy_task(
            runs,
            "viz-demo/text_utils",
            &format!("{ALPHA}/text_utils"),
            &[],
        );
        copy_task(
            runs,
            "viz-demo/tour_planner",
            &format!("{ALPHA}/tour_planner"),
            &[],
        );
        let score = ("best_score", Value::from(80.0));
        copy_task(runs, &claude, &format!("{BETA}/coin_change"), &[score]);
        let half = ("best_pass_rate", Value::from(0.5));
        copy_task(
            runs,
            "viz-demo/text_utils",
            &format!("{BETA}/text_utils"),
            std::slice::from_ref(&half),
        );
        copy_task(runs, &codex, &format!("{RETRY}/coin_change"), &[half]);
        let error = ("error", Value::from("the judge was unreachable"));
        copy_task(runs, &codex, &format!("{GAMMA}/coin_change"), &[error]);
        let outside = runs.parent().unwrap().join("outside/coin_change");
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(outside.join("final_result.json"), "{}").unwrap();
        std::os::unix::fs::symlink(outside.parent().unwrap(), runs.join("escape")).unwrap();
    })
}

fn strings(value: &Value, key: &str) -> Vec<String> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v[key].as_str().unwrap().to_owned())
        .collect()
}

fn close(value: &Value, expected: f64) -> bool {
    (value.as_f64().unwrap() - expected).abs() < 1e-3
}

#[test]
fn a_task_lists_every_run_best_first() {
    let viz = start_groups();
    let data = get_json(&viz, "/api/task/coin_change");
    assert_eq!(data["score_direction"], "maximize");
    // Pass rate 1.0 and score 100 tie (run id order), then score 80, then pass rate 0.5.
    assert_eq!(
        strings(&data["runs"], "run_id"),
        [ALPHA, GAMMA, CODEX_RUN, CLAUDE_RUN, BETA, RETRY]
    );
    let codex = &data["timelines"].as_array().unwrap()[2];
    assert_eq!(codex["run_id"], CODEX_RUN);
    assert_eq!(strings(&codex["points"], "label"), ["agent-1", "auto-1"]);
    // agent-1 reached 1.0 at 1796381093.857 - 1796381084.273 (started_at) seconds.
    assert!(close(&codex["time_to_best"], 9.584), "{codex}");
    assert_eq!(codex["points"][0]["is_best"], true);
    assert_eq!(codex["points"][1]["best_pass_rate"], 1.0);
    assert_eq!(data["runs"][1]["status"], "error");
    assert_eq!(data["not_plotted"], 0);
    // The run records the task's direction (run_config.json): tour_planner minimises.
    let tour = get_json(&viz, "/api/task/tour_planner");
    assert_eq!(tour["score_direction"], "minimize", "{tour}");
}

#[test]
fn chosen_runs_are_compared_and_runs_without_the_task_set_apart() {
    let viz = start_groups();
    let path = format!("/api/compare/coin_change?runs={CLAUDE_RUN},viz-demo&runs={CODEX_RUN}");
    let data = get_json(&viz, &path);
    let order: Vec<String> = data["timelines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["run_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        order,
        [CLAUDE_RUN, CODEX_RUN],
        "timelines in the order asked"
    );
    assert_eq!(strings(&data["runs"], "run_id"), [CODEX_RUN, CLAUDE_RUN]);
    assert_eq!(data["missing"], serde_json::json!(["viz-demo"]));
    assert!(close(&data["timelines"][0]["time_to_best"], 15.115));
}

#[test]
fn bad_names_unknown_runs_and_too_many_runs_are_refused() {
    let viz = start_groups();
    let many: Vec<String> = (0..21).map(|i| format!("r{i}")).collect();
    let too_many = format!("/api/compare/coin_change?runs={}", many.join(","));
    let cases = [
        ("/api/task/no_such_task", 404),
        ("/task/no_such_task", 404),
        ("/api/task/..%2Fescape", 400),
        ("/api/compare/no_such_task?runs=viz-demo", 404),
        ("/api/compare/coin_change?runs=no-such-run", 404),
        ("/compare/coin_change?runs=no-such-run", 404),
        ("/api/compare/coin_change", 400),
        ("/api/compare/coin_change?runs=..%2F..%2Fetc", 400),
        ("/api/compare/coin_change?runs=a%00b", 400),
        ("/api/compare/coin_change?runs=escape", 403),
        (too_many.as_str(), 400),
        ("/api/compare-runs?models=alpha", 400),
        ("/api/compare-runs?models=alpha&models=no-such-group", 404),
        ("/compare-runs?models=alpha&models=no-such-group", 404),
        ("/api/compare-runs?models=alpha&models=beta-retry", 404),
        ("/api/compare-runs?models=alpha&models=..", 400),
        ("/api/compare-runs?runs=escape,viz-demo", 403),
    ];
    for (path, status) in cases {
        let (got, body) = get(&viz, path);
        assert_eq!(got, status, "{path}: {body}");
    }
    let (_, body) = get(&viz, &too_many);
    assert!(body.contains("more than 20"), "{body}");
}

#[test]
fn groups_rank_by_pass_rate_then_time_to_best_with_elo() {
    let viz = start_groups();
    let none = get_json(&viz, "/api/compare-runs");
    let available = strings(&none["available"], "group");
    for group in ["alpha", "beta", "gamma", "viz-demo", CODEX_RUN] {
        assert!(
            available.iter().any(|g| g == group),
            "{group}: {available:?}"
        );
    }
    assert!(
        !available.iter().any(|g| g.contains("retry")),
        "{available:?}"
    );
    assert!(none["groups"].as_array().unwrap().is_empty());

    let data = get_json(&viz, "/api/compare-runs?models=alpha&models=beta");
    // tour_planner is alpha's alone.
    assert_eq!(
        strings(&data["tasks"], "task"),
        ["coin_change", "text_utils"]
    );
    let coin = &data["tasks"][0];
    // Both at 1.0: alpha (codex) reached it after 9.6 s, beta (claude) after 15.1 s.
    assert_eq!(strings(&coin["entries"], "group"), ["alpha", "beta"]);
    assert_eq!(coin["entries"][0]["rank"], 1);
    assert_eq!(coin["entries"][1]["rank"], 2);
    assert_eq!(coin["entries"][1]["run_id"], BETA, "the retry is left out");
    let text = &data["tasks"][1];
    assert_eq!(text["entries"][1]["best_pass_rate"], 0.5);
    assert_eq!(text["entries"][1]["rank"], 2);
    // By hand: coin_change at 1500 each, alpha +16 = 1516, beta 1484. text_utils: alpha wins
    // again, E = 1/(1+10^(-32/400)) = 0.5459219, alpha += 32*(1-E) = 14.5304985.
    let groups = &data["groups"];
    assert_eq!(strings(groups, "group"), ["alpha", "beta"]);
    assert!(close(&groups[0]["elo"], 1530.5305), "{groups}");
    assert!(close(&groups[1]["elo"], 1469.4695), "{groups}");
    assert_eq!(groups[0]["wins"], 2);
    assert_eq!(groups[1]["mean_rank"], 2.0);
    assert_eq!(data["elo"]["k"], 32.0);

    // gamma's only task is in error: nothing is shared, nobody moves.
    let gamma = get_json(&viz, "/api/compare-runs?models=alpha&models=gamma");
    assert!(gamma["tasks"].as_array().unwrap().is_empty());
    assert_eq!(gamma["groups"][1]["elo"], 1500.0);

    // The legacy form: each run its own group.
    let legacy = get_json(
        &viz,
        &format!("/api/compare-runs?runs={CLAUDE_RUN},{CODEX_RUN}"),
    );
    let groups = &legacy["groups"];
    assert_eq!(strings(groups, "group"), [CLAUDE_RUN, CODEX_RUN]);
    assert!(close(&groups[0]["elo"], 1484.0) && close(&groups[1]["elo"], 1516.0));
}

#[test]
fn cross_run_pages_render_in_chromium() {
    let Some(browser) = Browser::find() else {
        return;
    };
    let viz = start_groups();
    let base = format!("http://127.0.0.1:{}", viz.port);
    let compare = format!("/compare/coin_change?runs={CODEX_RUN},{CLAUDE_RUN},viz-demo");
    let pages: [(&str, &[&str]); 5] = [
        (
            "/",
            &[
                "Compare runs",
                "Compare groups",
                "href=\"/task/coin_change\"",
                "type=\"checkbox\"",
            ],
        ),
        (
            "/task/coin_change",
            &[
                ALPHA,
                RETRY,
                "Best so far over time",
                "<svg",
                "best-ring",
                "Compare picked runs",
            ],
        ),
        (
            &compare,
            &[
                "Without this task (left out): viz-demo",
                CODEX_RUN,
                CLAUDE_RUN,
                "<svg",
                "best-ring",
            ],
        ),
        (
            "/compare-runs",
            &[
                "Compare groups",
                "alpha",
                "beta",
                "gamma",
                "type=\"checkbox\"",
            ],
        ),
        (
            "/compare-runs?models=alpha&models=beta",
            &[
                "Standings",
                "1530.5",
                "1469.5",
                "coin_change",
                "text_utils",
                "<svg",
                "Time to best",
            ],
        ),
    ];
    for (path, expected) in pages {
        browser.check(&format!("{base}{path}"), expected);
    }
    // Two runs' lines: the first colour (blue) and the second (red) are drawn.
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("visualizer-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    for (name, path) in [
        ("compare", compare.as_str()),
        ("compare-runs", "/compare-runs?models=alpha&models=beta"),
        ("task-runs", "/task/coin_change"),
    ] {
        let file = dir.join(format!("{name}.png"));
        browser.screenshot(&format!("{base}{path}"), &file);
        let image = Image::read(&file);
        let blue = image.count_near([0x1f, 0x6f, 0xeb], 24);
        let red = image.count_near([0xd1, 0x24, 0x2f], 24);
        assert!(
            blue > 100 && red > 100,
            "{}: blue {blue}, red {red}",
            file.display()
        );
    }
    let task_page = browser.load(&format!("{base}/run/{CODEX_RUN}/coin_change"));
    assert!(
        task_page.dom.contains("href=\"/task/coin_change\""),
        "{}",
        task_page.dom
    );
}

/// Clicks the element matching `selector` in the open page.
fn click(tab: &mut Tab, selector: &str) {
    let js = format!(
        "(() => {{ const e = document.querySelector({}); if (!e) return false; e.click(); return true; }})()",
        serde_json::json!(selector)
    );
    assert_eq!(
        tab.eval(&js),
        Value::Bool(true),
        "no {selector} on the page"
    );
}

/// The buttons, clicked in Chromium over the `DevTools` protocol: picking runs on the runs list
/// and pressing "Compare runs" leads to their one shared task compared (or to their shared tasks
/// as groups), and picking groups leads to their standings.
#[test]
fn compare_buttons_lead_to_the_comparisons() {
    let Some(browser) = Browser::find() else {
        return;
    };
    let viz = start_groups();
    let limit = std::time::Duration::from_secs(30);
    let base = format!("http://127.0.0.1:{}", viz.port);
    let pick = |run: &str| format!("input.pick[data-run=\"{run}\"]");

    let mut tab = Tab::open(&browser, &format!("{base}/"));
    tab.wait_for_text("Compare runs", limit);
    click(&mut tab, &pick(CODEX_RUN));
    click(&mut tab, "#compare-runs");
    tab.wait_for_text("Pick at least two runs", limit);
    click(&mut tab, &pick(CLAUDE_RUN));
    click(&mut tab, "#compare-runs");
    let text = tab.wait_for_text("2 run(s) compared", limit);
    assert!(text.contains("coin_change"), "{text}");
    let url = tab.eval("location.pathname + location.search");
    assert_eq!(
        url,
        format!("/compare/coin_change?runs={CODEX_RUN},{CLAUDE_RUN}")
    );
    assert!(tab.console().is_empty(), "{:?}", tab.console());

    // alpha and beta share two tasks: the comparison of groups, each run its own.
    let mut tab = Tab::open(&browser, &format!("{base}/"));
    tab.wait_for_text("Compare runs", limit);
    click(&mut tab, &pick(ALPHA));
    click(&mut tab, &pick(BETA));
    click(&mut tab, "#compare-runs");
    let text = tab.wait_for_text("Standings", limit);
    assert!(
        text.contains("text_utils") && text.contains("1530.5"),
        "{text}"
    );

    let mut tab = Tab::open(&browser, &format!("{base}/compare-runs"));
    tab.wait_for_text("Compare groups", limit);
    click(&mut tab, &pick("alpha"));
    click(&mut tab, &pick("beta"));
    click(&mut tab, "#compare-groups");
    let text = tab.wait_for_text("Standings", limit);
    assert!(text.contains("2 groups compared"), "{text}");
    let url = tab.eval("location.search");
    assert_eq!(url, "?models=alpha&models=beta");
    assert!(tab.console().is_empty(), "{:?}", tab.console());
}
