//! Game runs in the visualizer: the recorded `viz-game` run (two sessions of the `lantern_cave`
//! example, the second won) shows its `game-N` rounds from `game_result.json`, its best from
//! `game_history.json`, and each session's moves from `steps.jsonl`.

use crate::server::{get_json, start};
use crate::support::browser::Browser;

#[test]
fn game_rounds_are_read_from_the_sessions() {
    let viz = start();
    let runs = get_json(&viz, "/api/runs");
    let game = runs["runs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["run_id"] == "viz-game")
        .expect("viz-game listed");
    assert_eq!(game["status"], "done");
    assert_eq!(game["pass_rate"], 1.0);

    let task = get_json(&viz, "/api/run/viz-game/lantern_cave");
    let rounds = task["rounds"].as_array().unwrap();
    let view: Vec<(&str, &str, f64, bool)> = rounds
        .iter()
        .map(|r| {
            (
                r["label"].as_str().unwrap(),
                r["kind"].as_str().unwrap(),
                r["score"].as_f64().unwrap(),
                r["is_best"] == true,
            )
        })
        .collect();
    assert_eq!(
        view,
        [
            ("game-1", "game", 1.0, false),
            ("game-2", "game", 3.0, true)
        ]
    );
    for r in rounds {
        assert!(r["submitted_at"].as_f64().unwrap() > 1.7e9, "{r}");
        assert!(r["total"].is_null(), "a game has no tests: {r}");
    }
    assert!(task["warnings"].as_array().unwrap().is_empty(), "{task}");
    assert_eq!(
        task["has_daemon_log"], false,
        "a game task has no auto-eval"
    );
    let demo = get_json(&viz, "/api/run/viz-demo/tour_planner");
    assert_eq!(demo["has_daemon_log"], true);

    let chart = get_json(&viz, "/run/viz-game/lantern_cave/chart-data");
    assert_eq!(chart["submissions"][1]["pass_rate"], 1.0);

    let round = get_json(&viz, "/api/run/viz-game/lantern_cave/submission/game-2");
    assert_eq!(round["game"]["result"]["final_score"], 3);
    assert!(
        round["game"]["result"].get("steps").is_none(),
        "steps come from steps.jsonl only"
    );
    let steps = round["game"]["steps"]["entries"].as_array().unwrap();
    assert_eq!(steps.len(), 6);
    assert_eq!(steps[5]["action"], "take treasure");
    assert_eq!(steps[5]["done"], true);
}

#[test]
fn game_pages_render_in_chromium() {
    let Some(browser) = Browser::find() else {
        return;
    };
    let viz = start();
    let base = format!("http://127.0.0.1:{}", viz.port);
    for (path, expected) in [
        (
            "/run/viz-game/lantern_cave",
            &["game-1", "game-2", "game round", "<svg", "kind-game"][..],
        ),
        (
            "/run/viz-game/lantern_cave/submission/game-1",
            &["Game session", "Moves (3)", "dance", "score 1 of 3"][..],
        ),
        (
            "/run/viz-game/lantern_cave/submission/game-2",
            &["Moves (6)", "take treasure", "You have won!"][..],
        ),
    ] {
        let page = browser.check(&format!("{base}{path}"), expected);
        if path == "/run/viz-game/lantern_cave" {
            // No budget was set and no auto-eval ran: neither is offered.
            assert!(
                !page.dom.contains("of a —") && !page.dom.contains("Auto-eval log"),
                "{}",
                page.dom
            );
        }
    }
}
