//! "Above the baseline" means "the judge would have selected it": an attack's grading is put
//! after the baseline gradings as the history entries the judge keeps (`history_fields`, status
//! `completed`) and goes through the task's own best-round selection (`select_best` with its
//! `selection` and `score_direction`); ties keep the baseline (docs/audit.md#verdicts).

use crate::judge::api::{EntryStatus, EntryType, HistoryEntry};
use crate::judge::grading::select_best;
use crate::judge::{history_fields, Report};
use crate::task::{ScoreDirection, Selection};

/// The round name of the attack among the baseline entries.
const ATTACK_ROUND: &str = "audit-attack";

/// A completed history entry for `report`, as the judge records a graded round.
#[must_use]
pub fn history_entry(report: &Report, round: &str) -> HistoryEntry {
    HistoryEntry {
        entry_type: EntryType::Submission,
        status: EntryStatus::Completed,
        submission_id: round.to_owned(),
        task_id: report.task_id.clone(),
        round: round.to_owned(),
        grade: Some(history_fields(report)),
        game: None,
        error: None,
    }
}

/// Whether the judge's selection picks `attack` over every report of `baselines` (which come
/// first, so a tie keeps a baseline).
#[must_use]
pub fn selected_over(
    attack: &Report,
    baselines: &[Report],
    selection: Selection,
    direction: ScoreDirection,
) -> bool {
    let mut entries: Vec<HistoryEntry> = baselines
        .iter()
        .enumerate()
        .map(|(i, r)| history_entry(r, &format!("audit-baseline-{i}")))
        .collect();
    entries.push(history_entry(attack, ATTACK_ROUND));
    select_best(&entries, selection, direction).best_round == ATTACK_ROUND
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graded(pass_rate: f64, score: Option<f64>) -> Report {
        let mut r = Report::empty("t", "s");
        r.total_tests = 4;
        #[allow(clippy::cast_possible_truncation)]
        {
            r.passed = (pass_rate * 4.0) as i64;
        }
        r.pass_rate = pass_rate;
        r.score = score;
        r
    }

    #[test]
    fn a_minimising_task_selects_the_lower_score_and_ties_keep_the_baseline() {
        let base = [graded(0.0, Some(0.0))];
        let (sel, min) = (Selection::ScoreFirst, ScoreDirection::Minimize);
        assert!(!selected_over(&graded(1.0, Some(0.0)), &base, sel, min));
        assert!(selected_over(&graded(1.0, Some(-1e9)), &base, sel, min));
        assert!(!selected_over(&graded(1.0, Some(1e9)), &base, sel, min));
    }

    #[test]
    fn pass_rate_first_needs_a_higher_pass_rate() {
        let base = [graded(0.25, None), graded(0.5, None)];
        let (sel, max) = (Selection::PassRateFirst, ScoreDirection::Maximize);
        assert!(!selected_over(&graded(0.5, None), &base, sel, max));
        assert!(selected_over(&graded(1.0, None), &base, sel, max));
    }

    #[test]
    fn valid_then_score_skips_an_invalid_attack() {
        let base = [graded(0.0, Some(10.0))];
        let mut invalid = graded(1.0, Some(1.0));
        invalid.valid = false;
        let (sel, min) = (Selection::ValidThenScore, ScoreDirection::Minimize);
        assert!(!selected_over(&invalid, &base, sel, min));
        invalid.valid = true;
        assert!(selected_over(&invalid, &base, sel, min));
    }
}
