//! Choosing the best submission of a run from its history entries (docs/compatibility.md#grading) under
//! the task's selection policy and score direction.
//!
//! History entries are JSON objects on the wire (docs/compatibility.md#the-judge-api) and differ between
//! submissions and games, so selection reads them through [`SelectionEntry`], implemented
//! for `serde_json::Value`; a typed history entry can implement it too.

use crate::task::{ScoreDirection, Selection};
use serde::Serialize;
use serde_json::Value;

/// What selection reads from a history entry.
pub trait SelectionEntry {
    /// `type`; `None` counts as `"submission"`.
    fn entry_type(&self) -> Option<&str>;
    /// `status`; `None` counts as completed.
    fn status(&self) -> Option<&str>;
    /// `pass_rate`; `None` counts as 0.
    fn pass_rate(&self) -> Option<f64>;
    fn score(&self) -> Option<f64>;
    fn max_score(&self) -> Option<f64>;
    /// `valid`; `None` counts as true.
    fn valid(&self) -> Option<bool>;
    fn round(&self) -> Option<&str>;
}

/// Reads the fields of a JSON history entry; a field of the wrong JSON type counts as missing
/// (so a string score is null).
impl SelectionEntry for Value {
    fn entry_type(&self) -> Option<&str> {
        self.get("type").and_then(Value::as_str)
    }
    fn status(&self) -> Option<&str> {
        self.get("status").and_then(Value::as_str)
    }
    fn pass_rate(&self) -> Option<f64> {
        self.get("pass_rate").and_then(Value::as_f64)
    }
    fn score(&self) -> Option<f64> {
        self.get("score").and_then(Value::as_f64)
    }
    fn max_score(&self) -> Option<f64> {
        self.get("max_score").and_then(Value::as_f64)
    }
    fn valid(&self) -> Option<bool> {
        self.get("valid").and_then(Value::as_bool)
    }
    fn round(&self) -> Option<&str> {
        self.get("round").and_then(Value::as_str)
    }
}

/// The best submission: `{best_score, best_pass_rate, best_round, best_valid}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Best {
    pub best_score: Option<f64>,
    pub best_pass_rate: f64,
    /// `""` when nothing was selected.
    pub best_round: String,
    pub best_valid: bool,
}

impl Default for Best {
    /// Nothing selected: score null, pass rate 0, round `""`, valid.
    fn default() -> Self {
        Self {
            best_score: None,
            best_pass_rate: 0.0,
            best_round: String::new(),
            best_valid: true,
        }
    }
}

impl Best {
    fn take<E: SelectionEntry>(entry: &E, score: Option<f64>, pass_rate: f64) -> Self {
        Self {
            best_score: score,
            best_pass_rate: pass_rate,
            best_round: entry.round().unwrap_or_default().to_owned(),
            best_valid: entry.valid().unwrap_or(true),
        }
    }
}

/// The best of `entries` under `selection`. Candidates are entries of type `submission`
/// (the default) or `game` whose status is missing or `completed`; ties keep the earlier one.
#[must_use]
pub fn select_best<E: SelectionEntry>(
    entries: &[E],
    selection: Selection,
    direction: ScoreDirection,
) -> Best {
    let candidates = entries.iter().filter(|e| is_candidate(*e));
    match selection {
        Selection::PassRateFirst => pass_rate_first(candidates, direction),
        Selection::ScoreFirst => score_first(candidates, direction),
        Selection::ValidThenScore => {
            score_first(candidates.filter(|e| e.valid() != Some(false)), direction)
        }
    }
}

fn is_candidate<E: SelectionEntry>(entry: &E) -> bool {
    matches!(
        entry.entry_type().unwrap_or("submission"),
        "submission" | "game"
    ) && matches!(entry.status(), None | Some("completed"))
}

/// Higher pass rate wins; the score (or `max_score` when it is null) breaks ties only once both
/// are at 1. The best score becomes the pass rate itself when the entry has neither. The walk
/// starts from pass rate 0, so entries with pass rate 0 are never selected by this policy.
fn pass_rate_first<'a, E: SelectionEntry + 'a>(
    candidates: impl Iterator<Item = &'a E>,
    direction: ScoreDirection,
) -> Best {
    let mut best = Best::default();
    for entry in candidates {
        let pr = entry.pass_rate().unwrap_or(0.0);
        let s = entry.score().or_else(|| entry.max_score());
        if pr < 1.0 || best.best_pass_rate < 1.0 {
            if pr > best.best_pass_rate {
                best = Best::take(entry, Some(s.unwrap_or(pr)), pr);
            }
        } else if let Some(s) = s {
            if best.best_score.is_none_or(|b| is_better(s, b, direction)) {
                best = Best::take(entry, Some(s), pr);
            }
        }
    }
    best
}

/// Strictly better score wins; entries without a score are skipped.
fn score_first<'a, E: SelectionEntry + 'a>(
    candidates: impl Iterator<Item = &'a E>,
    direction: ScoreDirection,
) -> Best {
    let mut best = Best::default();
    for entry in candidates {
        let Some(s) = entry.score() else { continue };
        if best.best_score.is_none_or(|b| is_better(s, b, direction)) {
            best = Best::take(entry, Some(s), entry.pass_rate().unwrap_or(0.0));
        }
    }
    best
}

fn is_better(score: f64, best: f64, direction: ScoreDirection) -> bool {
    match direction {
        ScoreDirection::Minimize => score < best,
        ScoreDirection::Maximize => score > best,
    }
}
