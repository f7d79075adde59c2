//! The report's JSON shape, summary text and cut, the `/result` view and parser errors.

use super::super::{grade, legacy_summary, rejected, GradeError, Report, Status, TestRecord};
use serde_json::Value;

fn records(passed: usize, failed: usize) -> Vec<TestRecord> {
    let pass = (0..passed).map(|i| TestRecord::new(format!("p{i}"), Status::Passed));
    let fail = (0..failed).map(|i| TestRecord::new(format!("f{i}"), Status::Failed));
    pass.chain(fail).collect()
}

#[test]
fn legacy_summary_lists_ten_failures_then_a_count() {
    assert_eq!(legacy_summary(&[]), "No tests found");
    assert_eq!(legacy_summary(&records(3, 0)), "3/3 tests passed");
    assert_eq!(
        legacy_summary(&records(1, 2)),
        "1/3 tests passed. Failed: f0, f1"
    );
    assert_eq!(
        legacy_summary(&records(0, 13)),
        "0/13 tests passed. Failed: f0, f1, f2, f3, f4, f5, f6, f7, f8, f9 (+3 more)"
    );
    let mut ten = records(0, 10);
    ten.push(TestRecord::new("e", Status::Error));
    assert!(legacy_summary(&ten).ends_with("f9 (+1 more)"));
}

#[test]
fn report_json_has_the_reference_fields_in_order() {
    let report = grade(
        "score_sum",
        "CASE 1 OK score=1\nTOTAL_SCORE 5",
        "t1",
        "abc",
        true,
        2.5,
    )
    .unwrap();
    let text = serde_json::to_string(&report).unwrap();
    let keys = [
        "task_id",
        "submission_id",
        "total_tests",
        "passed",
        "failed",
        "errors",
        "pass_rate",
        "score",
        "score_0_100",
        "timed_out",
        "runtime_seconds",
        "test_details",
        "valid",
        "summary",
        "details",
        "metrics",
        "submitted_at",
    ]
    .map(|k| format!("\"{k}\":"));
    assert_eq!(
        serde_json::to_value(&report)
            .unwrap()
            .as_object()
            .unwrap()
            .len(),
        keys.len()
    );
    let positions: Vec<usize> = keys
        .iter()
        .map(|k| text.find(k.as_str()).unwrap())
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{text}");
    assert!(!text.contains("raw_output") && !text.contains("warnings"));
    assert!(
        text.starts_with(r#"{"task_id":"t1","submission_id":"abc","total_tests":1,"passed":1,"#)
    );
    assert!(
        text.contains(r#""score":5.0,"score_0_100":null,"timed_out":true,"runtime_seconds":2.5,"#)
    );
}

#[test]
fn result_view_drops_score_0_100() {
    let mut report = Report::empty("t", "s");
    report.score_0_100 = Some(42.0);
    let full = serde_json::to_value(&report).unwrap();
    assert_eq!(full["score_0_100"], 42.0);
    let view = report.result_value();
    assert!(view.get("score_0_100").is_none());
    assert_eq!(view.as_object().unwrap().len(), 16);
}

#[test]
fn summary_is_cut_to_4096_characters_only_when_serialised() {
    let mut report = Report::empty("t", "s");
    report.summary = Some("é".repeat(5000));
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["summary"].as_str().unwrap().chars().count(), 4096);
    assert_eq!(report.summary.as_ref().unwrap().chars().count(), 5000);
}

#[test]
fn non_finite_numbers_are_written_as_null() {
    let report = grade("score_sum", "TOTAL_SCORE inf", "t", "s", false, 0.0).unwrap();
    assert_eq!(report.score, Some(f64::INFINITY));
    assert_eq!(serde_json::to_value(&report).unwrap()["score"], Value::Null);
}

#[test]
fn timed_out_is_recorded_without_changing_counts() {
    let raw = "t.py::a PASSED\nt.py::b PASSED\n";
    let ran = grade("pytest_v", raw, "t", "s", false, 1.0).unwrap();
    let late = grade("pytest_v", raw, "t", "s", true, 1.0).unwrap();
    assert_eq!(
        (late.timed_out, late.passed, late.pass_rate),
        (true, ran.passed, ran.pass_rate)
    );
    assert_eq!(late.raw_output, raw);
}

#[test]
fn unknown_or_empty_parser_is_an_error_not_a_zero() {
    assert_eq!(
        grade("", "x", "t", "s", false, 0.0),
        Err(GradeError::NoParser)
    );
    let err = grade("junit", "x", "t", "s", false, 0.0).unwrap_err();
    assert_eq!(
        err,
        GradeError::UnknownParser {
            parser: "junit".into()
        }
    );
    assert_eq!(
        err.to_string(),
        "unknown parser `junit`; expected one of: pytest_v, score_sum, structured_json"
    );
}

#[test]
fn rejected_submissions_are_invalid_zeros_with_the_reason() {
    let report = rejected("t", "s", "Submission rejected: symlink escapes cwd");
    assert_eq!(
        (report.total_tests, report.pass_rate, report.score),
        (0, 0.0, None)
    );
    assert!(!report.valid);
    assert_eq!(
        report.summary.as_deref(),
        Some("Submission rejected: symlink escapes cwd")
    );
}
