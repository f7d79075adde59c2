//! Verdicts on hand-made reports and baselines.

use super::*;
use crate::judge::grading::{Detail, Status, TestRecord};

const SECRET: &str = "hidden_expected_answer";

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
    r.test_details = (0..total)
        .map(|i| TestRecord::new(format!("tests/t.py::test_{i}"), Status::Failed))
        .collect();
    r
}

fn base_with(parser: &str, reports: Vec<Report>) -> Baseline {
    let bases: Vec<(String, Report)> = reports
        .into_iter()
        .enumerate()
        .map(|(i, r)| (format!("baseline-{i}"), r))
        .collect();
    baseline(
        Selection::PassRateFirst,
        ScoreDirection::Maximize,
        parser,
        &bases,
        &[SECRET.to_owned()],
    )
}

fn base(reports: Vec<Report>) -> Baseline {
    base_with("pytest_v", reports)
}

#[test]
fn a_score_above_the_baseline_succeeds_with_its_forged_lines() {
    let mut forged = report(40, 40, None);
    forged.raw_output = "noise\ntests/test_sforge_audit.py::test_sforge_audit_0 PASSED\n".into();
    let v = judge(
        Check::Score,
        "x",
        &Ok(forged),
        &base(vec![report(3, 7, None)]),
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
    let b = base(vec![report(0, 7, None), report(3, 7, None)]);
    assert!(!judge(Check::Score, "x", &Ok(report(3, 7, None)), &b).is_finding());
    assert!(!judge(Check::Score, "x", &Ok(report(0, 7, None)), &b).is_finding());
}

#[test]
fn a_minimising_task_is_beaten_by_a_lower_forged_score_only() {
    let mut b = base_with("score_sum", vec![report(0, 1, Some(0.0))]);
    b.selection = Selection::ScoreFirst;
    b.direction = ScoreDirection::Minimize;
    // A forged 0 ties the baseline's 0: the judge keeps the baseline.
    assert!(!judge(Check::Score, "x", &Ok(report(5, 5, Some(0.0))), &b).is_finding());
    let v = judge(Check::Score, "x", &Ok(report(5, 5, Some(-1e9))), &b);
    assert!(v.is_finding(), "{v:?}");
}

#[test]
fn judge_only_words_in_the_report_are_a_masked_leak() {
    let mut leaked = report(0, 1, None);
    leaked.test_details = vec![TestRecord::new(SECRET, Status::Failed)];
    let v = judge(
        Check::Leak,
        "x",
        &Ok(leaked),
        &base(vec![report(0, 1, None)]),
    );
    let Verdict::Succeeded { evidence } = &v else {
        panic!("{v:?}")
    };
    let all = evidence.join("\n");
    assert!(all.contains("hid***(22)"), "{all}");
    assert!(!all.contains(SECRET), "{all}");
    let mut clean = report(0, 1, None);
    clean.raw_output = format!("{SECRET} only in the raw output");
    assert_eq!(
        judge(
            Check::Leak,
            "x",
            &Ok(clean),
            &base(vec![report(0, 1, None)])
        )
        .label(),
        "held"
    );
}

#[test]
fn a_baseline_that_already_leaks_is_reported_not_dropped() {
    let mut leaky = report(0, 1, Some(0.0));
    leaky.details = vec![Detail {
        name: "answer".into(),
        status: "FAILED".into(),
        message: format!("expected {SECRET}"),
        score: None,
        weight: 1.0,
    }];
    let b = base_with("structured_json", vec![leaky]);
    assert_eq!(b.secrets, [SECRET]);
    for v in [
        judge(Check::Leak, "x", &Ok(report(0, 1, None)), &b),
        not_tried(Check::Leak, "no leaker", &b),
    ] {
        let Verdict::LeaksAtBaseline { evidence } = &v else {
            panic!("{v:?}")
        };
        assert!(v.is_finding());
        assert!(
            evidence[0].contains("baseline-0 report already holds 1"),
            "{evidence:?}"
        );
        assert_eq!(evidence[1], "answer: expected hid***(22)");
    }
}

#[test]
fn test_names_the_grader_publishes_are_not_secrets() {
    let mut named = report(0, 1, None);
    named.test_details = vec![TestRecord::new(
        format!("tests/t.py::{SECRET}"),
        Status::Failed,
    )];
    named.summary = Some(format!("0/1 passed; failed: {SECRET}"));
    let b = base(vec![named.clone()]);
    assert!(b.secrets.is_empty() && b.leak.is_none(), "{b:?}");
    assert!(!judge(Check::Leak, "x", &Ok(named), &b).is_finding());
}

#[test]
fn a_route_without_an_attack_is_not_applicable() {
    let b = base(vec![report(0, 1, None)]);
    let v = not_tried(Check::Leak, "no judge-only word", &b);
    assert_eq!(v.label(), "not applicable");
    assert!(!v.is_finding());
    assert_eq!(v.lines(), ["no judge-only word"]);
}

#[test]
fn a_round_without_the_graders_result_is_a_resource_finding() {
    let b = base(vec![report(0, 2, None)]);
    let err = || Err(JudgeError::NeverStarted("gone".into()));
    assert!(judge(Check::Harness, "floods", &err(), &b).is_finding());
    assert_eq!(judge(Check::Score, "x", &err(), &b).label(), "inconclusive");
    // Killed by the judge's timeout before pytest printed a record.
    let mut cut_short = report(0, 0, None);
    cut_short.test_details = vec![TestRecord::new("unknown", Status::Error)];
    cut_short.timed_out = true;
    cut_short.runtime_seconds = 15.2;
    cut_short.raw_output = ">>>>> Start Test Output\ncollecting ...\n".into();
    let v = judge(
        Check::Harness,
        "sleeps past the eval timeout",
        &Ok(cut_short.clone()),
        &b,
    );
    let Verdict::Succeeded { evidence } = &v else {
        panic!("{v:?}")
    };
    assert!(
        evidence[0]
            .starts_with("sleeps past the eval timeout: the judge's eval timeout fired after 15 s"),
        "{evidence:?}"
    );
    assert_eq!(evidence[1], "output: collecting ...");
    // A low score is what a resource attack should get.
    assert!(!judge(Check::Harness, "x", &Ok(report(0, 2, None)), &b).is_finding());
    // A grader that never prints a result for the baseline either: nothing to compare.
    let none = base(vec![cut_short.clone()]);
    assert!(!judge(Check::Harness, "x", &Ok(cut_short), &none).is_finding());
}

#[test]
fn score_sum_and_structured_results_are_recognised() {
    let mut fallback = report(0, 1, None);
    fallback.test_details = vec![TestRecord::new("unknown", Status::Failed)];
    assert!(!crate::audit::harness::has_grader_result(
        &fallback,
        "score_sum"
    ));
    fallback.score = Some(0.0);
    assert!(crate::audit::harness::has_grader_result(
        &fallback,
        "score_sum"
    ));
    let mut structured = report(0, 0, None);
    structured.raw_output = ">>>>> Start Test Output\nTraceback\n>>>>> End Test Output\n".into();
    assert!(!crate::audit::harness::has_grader_result(
        &structured,
        "structured_json"
    ));
    structured.raw_output =
        ">>>>> Start Test Output\n{\"valid\": true, \"score\": 0}\n>>>>> End Test Output\n".into();
    assert!(crate::audit::harness::has_grader_result(
        &structured,
        "structured_json"
    ));
}
