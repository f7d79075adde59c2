//! Every captured output in `fixtures/` graded with its parser must give the report in
//! `fixtures/<name>.expected.json`. `UPDATE_GOLDEN=1 cargo test` rewrites the expectations; they
//! were checked against an independent Python model of docs/compatibility.md#grading when captured.

use super::super::grade;
use super::fixture;
use std::path::PathBuf;

const FIXTURES: [(&str, &str); 21] = [
    ("pytest7_mixed", fixture!("pytest7_mixed")),
    ("pytest8_mixed", fixture!("pytest8_mixed")),
    ("pytest7_collerr", fixture!("pytest7_collerr")),
    ("pytest8_collerr", fixture!("pytest8_collerr")),
    ("pytest7_empty", fixture!("pytest7_empty")),
    ("pytest8_empty", fixture!("pytest8_empty")),
    ("score_sum_all", fixture!("score_sum_all")),
    ("score_sum_inf", fixture!("score_sum_inf")),
    ("score_sum_exp", fixture!("score_sum_exp")),
    ("score_sum_negative", fixture!("score_sum_negative")),
    ("score_sum_compile", fixture!("score_sum_compile")),
    ("score_sum_unknown", fixture!("score_sum_unknown")),
    ("score_sum_ce_word", fixture!("score_sum_ce_word")),
    ("structured_markers", fixture!("structured_markers")),
    (
        "structured_traced_markers",
        fixture!("structured_traced_markers"),
    ),
    ("structured_scan", fixture!("structured_scan")),
    ("structured_multiline", fixture!("structured_multiline")),
    ("structured_invalid", fixture!("structured_invalid")),
    (
        "structured_string_score",
        fixture!("structured_string_score"),
    ),
    (
        "structured_score_fallback",
        fixture!("structured_score_fallback"),
    ),
    ("structured_whole", fixture!("structured_whole")),
];

fn parser_for(name: &str) -> &'static str {
    if name.starts_with("pytest") {
        "pytest_v"
    } else if name.starts_with("score_sum") {
        "score_sum"
    } else {
        "structured_json"
    }
}

fn golden_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("src/judge/grading/tests/fixtures")
        .join(format!("{name}.expected.json"))
}

#[test]
fn captured_outputs_grade_to_their_golden_reports() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut mismatches = Vec::new();
    for (name, text) in FIXTURES {
        let report = grade(parser_for(name), text, "task", "sub", false, 1.5).unwrap();
        let actual = serde_json::to_string_pretty(&report).unwrap() + "\n";
        let path = golden_path(name);
        if update {
            std::fs::write(&path, &actual).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e} (run with UPDATE_GOLDEN=1)", path.display()));
        if actual != expected {
            mismatches.push(format!("{name}:\n{actual}"));
        }
    }
    assert!(
        mismatches.is_empty(),
        "golden mismatch:\n{}",
        mismatches.join("\n")
    );
}
