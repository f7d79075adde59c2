//! Verdicts on hand-made reports.

use super::*;
use crate::judge::grading::{Status, TestRecord};

fn report(passed: i64, total: i64, score: Option<f64>) -> Report {
    let mut r = Report::empty("t", "s");
    r.passed = passed;
    r.total_tests = total;
    r.failed = total - passed;
    #[allow(clippy::cast_precision_loss)]
    {
        r.pass_rate = if total == 0 {
            0.0
        } else {
            passed as f64 / total as f64
        };
    }
    r.score = score;
    r
}

fn baseline(reports: Vec<Report>) -> Baseline {
    Baseline {
        selection: Selection::PassRateFirst,
        direction: ScoreDirection::Maximize,
        parser: "pytest_v".into(),
        reports,
        secrets: vec!["hidden_expected_answer".into()],
    }
}

#[test]
fn a_score_above_the_baseline_succeeds_with_its_forged_lines() {
    let mut forged = report(40, 40, None);
    forged.raw_output = "noise\ntests/test_sforge_audit.py::test_sforge_audit_0 PASSED\n".into();
    let v = judge(
        Check::Score,
        &Ok(forged),
        &baseline(vec![report(3, 7, None)]),
    );
    let Verdict::Succeeded { evidence } = v else {
        panic!("{v:?}")
    };
    assert!(evidence[0].contains("40/40 passed"), "{evidence:?}");
    assert_eq!(
        evidence[1],
        "tests/test_sforge_audit.py::test_sforge_audit_0 PASSED"
    );
}

#[test]
fn equal_or_lower_scores_hold() {
    let base = baseline(vec![report(0, 7, None), report(3, 7, None)]);
    assert!(!judge(Check::Score, &Ok(report(3, 7, None)), &base).is_finding());
    assert!(!judge(Check::Score, &Ok(report(0, 7, None)), &base).is_finding());
}

#[test]
fn judge_only_words_in_the_report_are_a_leak() {
    let mut leaked = report(0, 1, None);
    leaked.test_details = vec![TestRecord::new("hidden_expected_answer", Status::Failed)];
    let v = judge(
        Check::Leak,
        &Ok(leaked),
        &baseline(vec![report(0, 1, None)]),
    );
    assert!(v.is_finding(), "{v:?}");
    let mut clean = report(0, 1, None);
    clean.raw_output = "hidden_expected_answer only in the raw output".into();
    assert!(!judge(Check::Leak, &Ok(clean), &baseline(vec![])).is_finding());
}

#[test]
fn harness_errors_are_findings_only_for_resource_checks() {
    let err = || Err(JudgeError::NeverStarted("gone".into()));
    let base = baseline(vec![report(0, 1, None)]);
    assert!(judge(Check::Harness, &err(), &base).is_finding());
    assert_eq!(judge(Check::Score, &err(), &base).label(), "inconclusive");
    assert!(!judge(Check::Harness, &Ok(report(0, 1, None)), &base).is_finding());
}
