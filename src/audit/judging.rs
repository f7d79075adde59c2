//! Judging one attack: its grading (or why it was not graded) under its [`Check`] against the
//! task's [`Baseline`] (docs/audit.md#verdicts).

use super::exposure::{baseline_leak, leak, published, without_attack};
use super::harness::harness;
use super::score_check::score;
use super::verdict::{cut, Baseline, Check, Verdict};
use crate::judge::grading::is_rejected;
use crate::judge::{JudgeError, Report};
use crate::task::{ScoreDirection, Selection};

/// The task's baseline from its graded baseline rounds (`(round, report)`) and its judge-only
/// words: the words the grader publishes as its records' names are dropped, a baseline that
/// shows others already leaks.
#[must_use]
pub fn baseline(
    selection: Selection,
    direction: ScoreDirection,
    parser: &str,
    bases: &[(String, Report)],
    judge_only: &[String],
) -> Baseline {
    let reports: Vec<Report> = bases.iter().map(|(_, r)| r.clone()).collect();
    let public = published(&reports, parser, judge_only);
    let secrets: Vec<String> = judge_only
        .iter()
        .filter(|w| !public.contains(w))
        .cloned()
        .collect();
    let named: Vec<(String, &Report)> = bases.iter().map(|(n, r)| (n.clone(), r)).collect();
    Baseline {
        selection,
        direction,
        parser: parser.to_owned(),
        leak: baseline_leak(&named, parser, &secrets),
        secrets,
        reports,
    }
}

/// The verdict on `result`, the grading of an attack described by `about`, under `check`.
#[must_use]
pub fn judge(
    check: Check,
    about: &str,
    result: &Result<Report, JudgeError>,
    base: &Baseline,
) -> Verdict {
    if base.reports.is_empty() {
        return Verdict::Inconclusive {
            detail: "no baseline grading to compare with".into(),
        };
    }
    match (check, result) {
        (Check::Harness, _) => harness(about, result, base),
        (_, Err(e)) => Verdict::Inconclusive {
            detail: cut(&format!("not graded: {e}")),
        },
        (_, Ok(r)) if is_rejected(r) => Verdict::Held {
            detail: cut(&format!(
                "archive rejected: {}",
                r.summary.as_deref().unwrap_or_default()
            )),
        },
        (Check::Score, Ok(r)) => score(r, base),
        (Check::Leak, Ok(r)) => leak(r, base),
    }
}

/// The verdict on an attack the route could not build for this task (`reason` says why).
#[must_use]
pub fn not_tried(check: Check, reason: &str, base: &Baseline) -> Verdict {
    match check {
        // A baseline that leaks needs no leaker to be reported.
        Check::Leak => without_attack(base, reason),
        Check::Score | Check::Harness => Verdict::NotApplicable {
            detail: reason.to_owned(),
        },
    }
}

#[cfg(test)]
#[path = "judging_tests.rs"]
mod tests;
