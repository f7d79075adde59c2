//! Test-section extraction, `pytest_v` and `score_sum` on captured and hand-made outputs.

use super::super::{extract_score, extract_test_output, parse_pytest_v, parse_score_sum};
use super::super::{Status, TestRecord};
use super::fixture;

fn names(records: &[TestRecord]) -> Vec<(&str, Status)> {
    records
        .iter()
        .map(|r| (r.name.as_str(), r.status))
        .collect()
}

#[test]
fn section_is_between_first_start_and_last_end_and_keeps_the_trace_line() {
    let raw = "+ echo '>>>>> Start Test Output'\n>>>>> Start Test Output\n  body\n\
               >>>>> End Test Output\nmore\n+ echo '>>>>> End Test Output'\n>>>>> End Test Output\nExit code: 0\n";
    assert_eq!(
        extract_test_output(raw),
        "body\n>>>>> End Test Output\nmore\n+ echo '>>>>> End Test Output'"
    );
}

#[test]
fn section_may_start_at_the_very_beginning() {
    let raw = ">>>>> Start Test Output\nx\n>>>>> End Test Output";
    assert_eq!(extract_test_output(raw), "x");
    assert_eq!(
        extract_test_output(">>>>> Start Test Output\n>>>>> End Test Output"),
        ""
    );
}

#[test]
fn without_both_markers_in_order_the_raw_output_is_used_untrimmed() {
    for raw in [
        "  no markers \n",
        "\n>>>>> Start Test Output\nonly start\n",
        "only end\n>>>>> End Test Output\n",
        "x\n>>>>> End Test Output\n>>>>> Start Test Output\ny\n",
        // the markers must start a line
        "a >>>>> Start Test Output\nb\n>>>>> End Test Output",
    ] {
        assert_eq!(extract_test_output(raw), raw);
    }
}

#[test]
fn pytest_mixed_run_names_and_fills_the_space_id() {
    for raw in [fixture!("pytest7_mixed"), fixture!("pytest8_mixed")] {
        let records = parse_pytest_v(extract_test_output(raw));
        let expected = vec![
            ("tests/test_mixed.py::test_pass", Status::Passed),
            ("tests/test_mixed.py::test_params[plain]", Status::Passed),
            ("tests/test_mixed.py::test_params[dash-y.z]", Status::Passed),
            ("tests/test_mixed.py::test_pairs[1-2]", Status::Passed),
            ("tests/test_mixed.py::test_xfail", Status::Passed),
            ("tests/test_mixed.py::test_xpass", Status::Passed),
            ("tests/test_mixed.py::test_prints", Status::Passed),
            (
                "tests/test_other.py::TestGroup::test_method_ok",
                Status::Passed,
            ),
            ("tests/test_mixed.py::test_fail", Status::Failed),
            ("tests/test_mixed.py::test_params[x[1]]", Status::Failed),
            ("tests/test_mixed.py::test_pairs[3-3]", Status::Failed),
            (
                "tests/test_other.py::TestGroup::test_method_bad",
                Status::Failed,
            ),
            ("tests/test_mixed.py::test_setup_error", Status::Error),
            // `test_params[a b]` holds a space: only the summary's "7 passed" counts it.
            ("unnamed_passed_0", Status::Passed),
        ];
        assert_eq!(names(&records), expected);
    }
}

#[test]
fn pytest_collection_error_is_one_error_record() {
    for raw in [fixture!("pytest7_collerr"), fixture!("pytest8_collerr")] {
        let records = parse_pytest_v(extract_test_output(raw));
        assert_eq!(names(&records), vec![("tests/test_bad.py", Status::Error)]);
    }
}

#[test]
fn pytest_no_tests_ran_is_empty() {
    for raw in [fixture!("pytest7_empty"), fixture!("pytest8_empty")] {
        assert!(parse_pytest_v(extract_test_output(raw)).is_empty());
    }
}

#[test]
fn pytest_partial_output_without_summary_uses_named_results() {
    let raw = fixture!("pytest8_mixed");
    let cut = &raw[..raw.find("test_pairs[3-3] FAILED").unwrap()];
    let records = parse_pytest_v(extract_test_output(cut));
    assert_eq!(records.len(), 7);
    assert_eq!(
        records[6],
        TestRecord::new("tests/test_mixed.py::test_setup_error", Status::Error)
    );
}

#[test]
fn pytest_fillers_cover_every_kind_from_zero() {
    let section = "t.py::a FAILED\n==== 2 failed, 1 passed, 2 errors, 3 skipped, 1 warning in 1.20s (0:00:01) ====";
    assert_eq!(
        names(&parse_pytest_v(section)),
        vec![
            ("t.py::a", Status::Failed),
            ("unnamed_passed_0", Status::Passed),
            ("unnamed_crashed_0", Status::Failed),
            ("unnamed_error_0", Status::Error),
            ("unnamed_error_1", Status::Error),
        ]
    );
}

#[test]
fn pytest_named_results_beyond_the_summary_are_kept() {
    let section = "t.py::a PASSED\nt.py::a PASSED\n=== 1 passed in 0.1s ===";
    assert_eq!(parse_pytest_v(section).len(), 2);
}

#[test]
fn pytest_first_summary_line_wins_and_only_known_words_count() {
    let section = "== 1 passed, 2 deselected, 1 rerun in 0.5s ==\n== 9 failed in 1s ==";
    assert_eq!(
        names(&parse_pytest_v(section)),
        vec![("unnamed_passed_0", Status::Passed)]
    );
}

#[test]
fn pytest_collection_errors_are_not_duplicated() {
    let section =
        "ERROR a/test_x.py\nERROR a/test_x.py - SyntaxError\nERROR a/test_y.py::t - boom\n";
    assert_eq!(
        names(&parse_pytest_v(section)),
        vec![("a/test_x.py", Status::Error)]
    );
    let named = "a/test_x.py::t ERROR\nERROR a/test_x.py::t - RuntimeError\n";
    assert_eq!(
        names(&parse_pytest_v(named)),
        vec![("a/test_x.py::t", Status::Error)]
    );
}

#[test]
fn pytest_nothing_recognisable_is_unknown_error() {
    for section in ["", "Traceback: ImportError", "t.py::a SKIPPED (x)"] {
        assert_eq!(
            names(&parse_pytest_v(section)),
            vec![("unknown", Status::Error)]
        );
    }
}

#[test]
fn pytest_absurd_summary_counts_are_capped() {
    let records = parse_pytest_v("= 99999999999999999999999 passed in 1s =");
    assert_eq!(records.len(), super::super::FILLER_LIMIT);
}

#[test]
fn score_sum_names_every_status() {
    let records = parse_score_sum(extract_test_output(fixture!("score_sum_all")));
    assert_eq!(
        names(&records),
        vec![
            ("case_1", Status::Passed),
            ("case_2_TLE", Status::Failed),
            ("case_3_RE", Status::Failed),
            ("case_4_WA", Status::Failed),
            ("case_5_CE", Status::Failed),
            ("case_6", Status::Passed),
        ]
    );
}

#[test]
fn score_sum_case_scores_may_be_inf_or_exponents_but_not_negative() {
    let inf = parse_score_sum(extract_test_output(fixture!("score_sum_inf")));
    assert_eq!(
        names(&inf),
        vec![("case_a1", Status::Passed), ("case_a2_WA", Status::Failed)]
    );
    let exp = parse_score_sum(extract_test_output(fixture!("score_sum_exp")));
    assert_eq!(
        names(&exp),
        vec![("case_1", Status::Passed), ("case_2", Status::Passed)]
    );
}

#[test]
fn score_sum_without_cases_is_compile_or_unknown() {
    let compile = |raw| {
        names(&parse_score_sum(extract_test_output(raw)))[0]
            .0
            .to_owned()
    };
    assert_eq!(compile(fixture!("score_sum_compile")), "compile");
    assert_eq!(compile(fixture!("score_sum_unknown")), "unknown");
    // "since" holds "ce": the reference's case-insensitive test matches it.
    assert_eq!(compile(fixture!("score_sum_ce_word")), "compile");
    assert_eq!(compile("COMPILE ERROR"), "compile");
    assert_eq!(compile(""), "unknown");
}

#[test]
fn total_score_is_the_first_number_and_may_be_negative() {
    assert_eq!(
        extract_score(extract_test_output(fixture!("score_sum_all"))),
        Some(70.0)
    );
    assert_eq!(
        extract_score(extract_test_output(fixture!("score_sum_exp"))),
        Some(1502.0)
    );
    assert_eq!(
        extract_score(extract_test_output(fixture!("score_sum_negative"))),
        Some(-12.5)
    );
    assert_eq!(extract_score("TOTAL_SCORE inf"), Some(f64::INFINITY));
    assert_eq!(extract_score("TOTAL_SCORE -inf"), Some(f64::NEG_INFINITY));
    assert_eq!(extract_score("TOTAL_SCORE 2.5e-3"), Some(0.0025));
    assert_eq!(extract_score("TOTAL_SCORE nan\nTOTAL_SCORE 4"), Some(4.0));
    assert_eq!(extract_score("TOTAL_SCORE: 4"), None);
    assert_eq!(extract_score("no score"), None);
    assert_eq!(extract_score("TOTAL_SCORE 1e999"), Some(f64::INFINITY));
}
