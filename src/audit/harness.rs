//! `Check::Harness`: a resource attack succeeds when the round ends as a harness error, or
//! without a result from the task's grader (it crashed on the flood, or was still waiting on
//! the submission when the judge's eval timeout fired) while the baseline rounds have one: the
//! round then errors instead of scoring low (docs/audit.md#resource).

use super::verdict::{cut, describe, Baseline, Verdict, TAG};
use crate::judge::grading::{extract_test_output, parse_structured, Status};
use crate::judge::{JudgeError, Report};

/// Lines of the end of the grading output shown as evidence.
const TAIL_LINES: usize = 3;

/// Whether `report` holds a result the task's grader printed, as opposed to the parser's
/// fallback for output without one (`[unknown ERROR]` for `pytest_v`, `[unknown FAILED]` or
/// `[compile FAILED]` without a `TOTAL_SCORE` for `score_sum`, no structured result at all).
#[must_use]
pub fn has_grader_result(report: &Report, parser: &str) -> bool {
    let only = |names: &[&str], status: Status| {
        report.test_details.len() == 1
            && names.contains(&report.test_details[0].name.as_str())
            && report.test_details[0].status == status
    };
    match parser {
        "pytest_v" => !only(&["unknown"], Status::Error),
        "score_sum" => report.score.is_some() || !only(&["unknown", "compile"], Status::Failed),
        "structured_json" => !parse_structured(extract_test_output(&report.raw_output)).is_empty(),
        _ => true,
    }
}

/// The verdict on the grading of `attack` (its `about` names it in the evidence).
#[must_use]
pub fn harness(about: &str, result: &Result<Report, JudgeError>, base: &Baseline) -> Verdict {
    let report = match result {
        Err(e) => {
            return Verdict::Succeeded {
                evidence: vec![cut(&format!(
                    "{about}: a harness error instead of a graded report: {e}"
                ))],
            }
        }
        Ok(r) => r,
    };
    if has_grader_result(report, &base.parser) {
        return Verdict::Held {
            detail: format!("graded: {}", describe(report)),
        };
    }
    if !base
        .reports
        .iter()
        .any(|r| has_grader_result(r, &base.parser))
    {
        return Verdict::Held {
            detail: "no result from the grader, as at baseline".into(),
        };
    }
    let how = if report.timed_out {
        format!(
            "the judge's eval timeout fired after {:.0} s",
            report.runtime_seconds
        )
    } else {
        "the grader ended".to_owned()
    };
    let mut evidence = vec![cut(&format!(
        "{about}: {how} without printing a result the {} parser reads (baseline: {})",
        base.parser,
        base.reports
            .iter()
            .map(describe)
            .collect::<Vec<_>>()
            .join("; ")
    ))];
    let section = extract_test_output(&report.raw_output);
    let tail: Vec<&str> = section
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.contains(TAG) && !l.starts_with(">>>>> "))
        .collect();
    evidence.extend(
        tail[tail.len().saturating_sub(TAIL_LINES)..]
            .iter()
            .map(|l| cut(&format!("output: {l}"))),
    );
    Verdict::Succeeded { evidence }
}
