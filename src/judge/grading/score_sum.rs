//! The `score_sum` parser and `TOTAL_SCORE` extraction (docs/compatibility.md#grading): one record
//! per `CASE` line, a compile/unknown fallback, and the overall score.

use super::report::{Status, TestRecord};
use regex::Regex;
use std::sync::LazyLock;

static CASE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?m)^CASE (\S+) (OK|TLE|RE|WA|CE) score=(?:inf|[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)",
    )
    .expect("valid regex")
});
/// Unlike the reference, a negative total (`TOTAL_SCORE -3.5`, `-inf`) is recognised (SPEC).
static TOTAL_SCORE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"TOTAL_SCORE\s+(-?(?:inf|[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?))")
        .expect("valid regex")
});

/// Parses `CASE <id> <OK|TLE|RE|WA|CE> score=<n>` lines: OK is `case_<id>` PASSED, anything
/// else `case_<id>_<STATUS>` FAILED. Without case lines: `[compile FAILED]` when the section
/// contains "ce" or "compile" in any case (so any word like "since" counts, as in the
/// reference), else `[unknown FAILED]`. Per-case scores are discarded.
#[must_use]
pub fn parse_score_sum(section: &str) -> Vec<TestRecord> {
    let records: Vec<TestRecord> = CASE
        .captures_iter(section)
        .map(|caps| match &caps[2] {
            "OK" => TestRecord::new(format!("case_{}", &caps[1]), Status::Passed),
            other => TestRecord::new(format!("case_{}_{other}", &caps[1]), Status::Failed),
        })
        .collect();
    if !records.is_empty() {
        return records;
    }
    let lower = section.to_lowercase();
    let name = if lower.contains("ce") || lower.contains("compile") {
        "compile"
    } else {
        "unknown"
    };
    vec![TestRecord::new(name, Status::Failed)]
}

/// The first `TOTAL_SCORE <number>` of the section: `inf`, or a decimal with an optional
/// exponent, optionally negative. `None` when there is none.
#[must_use]
pub fn extract_score(section: &str) -> Option<f64> {
    let caps = TOTAL_SCORE.captures(section)?;
    caps[1].parse().ok()
}
