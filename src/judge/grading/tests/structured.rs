//! `structured_json`: its three strategies, the brace scan, and grading of the result object.

use super::super::{extract_test_output, grade, parse_structured, Report};
use super::fixture;
use serde_json::{json, Value};

fn parsed(raw: &str) -> Value {
    Value::Object(parse_structured(extract_test_output(raw)))
}

fn structured(raw: &str) -> Report {
    grade("structured_json", raw, "t", "s", false, 0.0).unwrap()
}

#[test]
fn strategy_one_takes_the_text_between_markers() {
    let v = parsed(fixture!("structured_markers"));
    assert_eq!(v["score"], json!(41.5));
    assert_eq!(v["details"][1]["name"], json!("unit {x}"));
    let inline = "x\n>>>>> Start Structured Result {\"passed\": 1} >>>>> End Structured Result";
    assert_eq!(parsed(inline), json!({"passed": 1}));
}

#[test]
fn traced_markers_fall_back_to_the_line_scan() {
    assert_eq!(
        parsed(fixture!("structured_traced_markers")),
        json!({"score": 2, "valid": true})
    );
}

#[test]
fn strategy_two_skips_unclosed_and_keyless_objects_and_respects_strings() {
    let v = parsed(fixture!("structured_scan"));
    assert_eq!(v["score"], json!(7));
    assert_eq!(v["summary"], json!("brace } in \"string\" {"));
}

#[test]
fn strategy_two_spans_lines_of_pretty_printed_json() {
    let v = parsed(fixture!("structured_multiline"));
    assert_eq!(v["metrics"], json!({"nested": {"a": [1, {"b": "}"}]}}));
}

#[test]
fn strategy_three_is_the_whole_output_even_without_result_keys() {
    assert_eq!(
        parsed(fixture!("structured_whole")),
        json!({"passed": 3, "failed": 1, "errors": 1, "total_tests": 5})
    );
}

#[test]
fn invalid_or_non_object_json_is_an_empty_object() {
    for raw in [
        fixture!("structured_invalid"),
        "[1, 2]",
        "\"text\"",
        "",
        "{\"a\": }",
    ] {
        assert_eq!(parsed(raw), json!({}), "{raw:?}");
    }
}

#[test]
fn escaped_backslash_before_a_quote_closes_the_string() {
    let raw = "{\"summary\": \"a\\\\\", \"score\": 1}";
    assert_eq!(parsed(raw), json!({"summary": "a\\", "score": 1}));
}

#[test]
fn details_give_the_counts_and_exact_statuses() {
    let r = structured(fixture!("structured_markers"));
    assert_eq!((r.total_tests, r.passed, r.failed, r.errors), (4, 1, 1, 1));
    assert!((r.pass_rate - 0.25).abs() < f64::EPSILON);
    assert_eq!(r.details[3].status, "passed");
    assert_eq!(r.summary.as_deref(), Some("3 of 4"));
    assert!(r.test_details.is_empty());
}

#[test]
fn explicit_pass_rate_wins_and_is_not_range_checked() {
    let r = structured("{\"pass_rate\": 1.5, \"passed\": 1, \"total_tests\": 4}");
    assert!((r.pass_rate - 1.5).abs() < f64::EPSILON);
    let r = structured(fixture!("structured_multiline"));
    assert!(!r.valid);
}

#[test]
fn score_falls_back_to_total_score_and_a_string_score_is_null() {
    assert_eq!(
        structured(fixture!("structured_score_fallback")).score,
        Some(3.25)
    );
    let r = structured(fixture!("structured_string_score"));
    assert_eq!(r.score, None);
    assert_eq!(r.warnings.len(), 1, "{:?}", r.warnings);
    assert_eq!(structured("{\"score\": true}").score, None);
}

#[test]
fn empty_details_list_means_zero_tests() {
    let r = structured("{\"details\": [], \"passed\": 3, \"total_tests\": 3}");
    assert_eq!((r.total_tests, r.passed), (0, 0));
    assert!(r.pass_rate.abs() < f64::EPSILON);
}

#[test]
fn missing_everything_grades_as_an_empty_valid_report() {
    let r = structured("nothing here");
    assert_eq!((r.total_tests, r.score, r.valid), (0, None, true));
    assert_eq!(r.summary, None);
    assert_eq!(r.metrics, json!({}));
}
