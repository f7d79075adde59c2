//! Selection policies of docs/compatibility.md#grading over JSON history entries.

use super::super::{select_best, Best};
use crate::task::{ScoreDirection::Maximize, ScoreDirection::Minimize, Selection};
use serde_json::{json, Value};

fn entry(round: &str, pass_rate: f64, score: Value) -> Value {
    let mut entry = json!({"type": "submission", "status": "completed", "round": round,
           "pass_rate": pass_rate, "valid": true});
    entry["score"] = score;
    entry
}

fn best(score: Option<f64>, pass_rate: f64, round: &str, valid: bool) -> Best {
    Best {
        best_score: score,
        best_pass_rate: pass_rate,
        best_round: round.to_owned(),
        best_valid: valid,
    }
}

#[test]
fn nothing_to_select_gives_the_empty_best() {
    for policy in [
        Selection::PassRateFirst,
        Selection::ScoreFirst,
        Selection::ValidThenScore,
    ] {
        assert_eq!(
            select_best::<Value>(&[], policy, Maximize),
            best(None, 0.0, "", true)
        );
    }
}

#[test]
fn pass_rate_first_takes_strictly_higher_pass_rates_and_keeps_ties_early() {
    let h = [
        entry("agent-1", 0.5, json!(9)),
        entry("agent-2", 0.8, json!(3)),
        entry("agent-3", 0.8, json!(10)),
        entry("agent-4", 0.6, json!(99)),
    ];
    assert_eq!(
        select_best(&h, Selection::PassRateFirst, Maximize),
        best(Some(3.0), 0.8, "agent-2", true)
    );
}

#[test]
fn pass_rate_first_reports_the_pass_rate_as_score_when_there_is_none() {
    let h = [
        entry("agent-1", 0.25, Value::Null),
        entry("agent-2", 0.5, Value::Null),
    ];
    assert_eq!(
        select_best(&h, Selection::PassRateFirst, Maximize),
        best(Some(0.5), 0.5, "agent-2", true)
    );
    // pass rate 0 never beats the initial 0
    let zero = [entry("agent-1", 0.0, json!(50))];
    assert_eq!(
        select_best(&zero, Selection::PassRateFirst, Maximize),
        best(None, 0.0, "", true)
    );
}

#[test]
fn pass_rate_first_compares_scores_once_both_are_full() {
    let h = [
        entry("agent-1", 1.0, json!(10)),
        entry("agent-2", 1.0, json!(20)),
        entry("agent-3", 1.0, Value::Null),
        entry("agent-4", 1.0, json!(15)),
        entry("agent-5", 1.0, json!(20)),
    ];
    assert_eq!(
        select_best(&h, Selection::PassRateFirst, Maximize),
        best(Some(20.0), 1.0, "agent-2", true)
    );
    assert_eq!(
        select_best(&h, Selection::PassRateFirst, Minimize),
        best(Some(10.0), 1.0, "agent-1", true)
    );
}

#[test]
fn pass_rate_first_full_pass_without_score_competes_with_its_pass_rate() {
    let h = [
        entry("agent-1", 1.0, Value::Null),
        entry("agent-2", 1.0, json!(0.5)),
    ];
    assert_eq!(
        select_best(&h, Selection::PassRateFirst, Maximize),
        best(Some(1.0), 1.0, "agent-1", true)
    );
    assert_eq!(
        select_best(&h, Selection::PassRateFirst, Minimize),
        best(Some(0.5), 1.0, "agent-2", true)
    );
}

#[test]
fn pass_rate_first_uses_max_score_when_the_score_is_null() {
    let h = [
        json!({"round": "game-1", "type": "game", "pass_rate": 0.5, "score": null, "max_score": 7}),
    ];
    assert_eq!(
        select_best(&h, Selection::PassRateFirst, Maximize),
        best(Some(7.0), 0.5, "game-1", true)
    );
}

#[test]
fn only_completed_submissions_and_games_are_candidates() {
    let h = [
        json!({"type": "submission", "status": "running", "round": "agent-1", "pass_rate": 0.9}),
        json!({"type": "submission", "status": "queued", "round": "agent-2", "pass_rate": 0.9}),
        json!({"type": "submission", "status": "error", "round": "agent-3", "pass_rate": 0.9}),
        json!({"type": "note", "round": "x-1", "pass_rate": 0.9}),
        json!({"round": "agent-4", "pass_rate": 0.2}),
        json!({"type": "game", "round": "game-1", "pass_rate": 0.4, "score": 40, "max_score": 100}),
    ];
    assert_eq!(
        select_best(&h, Selection::PassRateFirst, Maximize),
        best(Some(40.0), 0.4, "game-1", true)
    );
    assert_eq!(
        select_best(&h[..5], Selection::ScoreFirst, Maximize),
        best(None, 0.0, "", true)
    );
}

#[test]
fn missing_pass_rate_counts_as_zero() {
    let h = [
        json!({"round": "agent-1", "score": 5}),
        json!({"round": "agent-2", "pass_rate": 0.1}),
    ];
    assert_eq!(
        select_best(&h, Selection::PassRateFirst, Maximize),
        best(Some(0.1), 0.1, "agent-2", true)
    );
    assert_eq!(
        select_best(&h, Selection::ScoreFirst, Maximize),
        best(Some(5.0), 0.0, "agent-1", true)
    );
}

#[test]
fn score_first_skips_null_scores_and_follows_the_direction() {
    let h = [
        entry("agent-1", 1.0, Value::Null),
        entry("agent-2", 0.2, json!(30)),
        entry("agent-3", 0.9, json!(10)),
        entry("agent-4", 0.5, json!(30)),
        entry("agent-5", 0.5, json!("99")),
        entry("agent-6", 0.7, json!(10)),
    ];
    assert_eq!(
        select_best(&h, Selection::ScoreFirst, Maximize),
        best(Some(30.0), 0.2, "agent-2", true)
    );
    assert_eq!(
        select_best(&h, Selection::ScoreFirst, Minimize),
        best(Some(10.0), 0.9, "agent-3", true)
    );
}

#[test]
fn negative_scores_compete_normally() {
    let h = [
        entry("agent-1", 0.0, json!(-5)),
        entry("agent-2", 0.0, json!(-2)),
    ];
    assert_eq!(
        select_best(&h, Selection::ScoreFirst, Maximize).best_round,
        "agent-2"
    );
    assert_eq!(
        select_best(&h, Selection::ScoreFirst, Minimize).best_round,
        "agent-1"
    );
}

#[test]
fn valid_then_score_drops_invalid_entries() {
    let mut invalid = entry("agent-1", 1.0, json!(100));
    invalid["valid"] = json!(false);
    let h = [invalid.clone(), entry("agent-2", 0.5, json!(40))];
    assert_eq!(
        select_best(&h, Selection::ValidThenScore, Maximize),
        best(Some(40.0), 0.5, "agent-2", true)
    );
    assert_eq!(
        select_best(&h, Selection::ScoreFirst, Maximize),
        best(Some(100.0), 1.0, "agent-1", false)
    );
    assert_eq!(
        select_best(&[invalid.clone()], Selection::ValidThenScore, Maximize),
        best(None, 0.0, "", true)
    );
    // pass_rate_first does not look at validity but reports it
    assert!(!select_best(&[invalid], Selection::PassRateFirst, Maximize).best_valid);
}
