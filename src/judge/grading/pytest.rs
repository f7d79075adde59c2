//! The `pytest_v` parser (docs/compatibility.md#grading): named result lines of `pytest -v`,
//! collection errors, and the final summary line, whose counts win when present.

use super::report::{Status, TestRecord};
use regex::Regex;
use std::sync::LazyLock;

/// Most filler records of one kind; a summary line claiming more is not believed beyond this.
pub const FILLER_LIMIT: usize = 100_000;

/// `<path>(::<part>)+ <STATUS>`; the id is word characters, `/`, `.`, `-`, `[` and `]`, so a
/// parametrised id holding a space is not named (the summary's filler records count it).
static NAMED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?m)^([\w/.\-\[\]]+(?:::[\w/.\-\[\]]+)+) (PASSED|FAILED|ERROR|XFAIL|XPASS|SKIPPED)",
    )
    .expect("valid regex")
});
/// `ERROR <file>.py` on its own (pytest 7 and 8 short summary of a collection error), not the
/// `ERROR <file>.py::<test> - …` line of a setup error, which is already named.
static COLLECTION_ERROR: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?m)^ERROR ([\w/.\-\[\]]+\.py)(?:\s|$)").expect("valid regex"));
static SUMMARY: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"=+ (.+) in [0-9.]+s").expect("valid regex"));
static COUNT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"([0-9]+) (\w+)").expect("valid regex"));

/// Counts of the summary line.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Counts {
    passed: usize,
    failed: usize,
    errors: usize,
}

/// Parses a `pytest -v` test section into records: named passes, failures and errors, then
/// `unnamed_passed_i` / `unnamed_crashed_i` / `unnamed_error_i` (i from 0) up to the summary's
/// counts; `[unknown ERROR]` when there is neither a named result nor a summary line; empty
/// for "no tests ran".
#[must_use]
pub fn parse_pytest_v(section: &str) -> Vec<TestRecord> {
    let (passed, failed, errors) = named_results(section);
    let summary = summary_counts(section);
    if summary.is_none() && passed.is_empty() && failed.is_empty() && errors.is_empty() {
        return vec![TestRecord::new("unknown", Status::Error)];
    }
    let want = summary.unwrap_or(Counts {
        passed: passed.len(),
        failed: failed.len(),
        errors: errors.len(),
    });
    let mut records: Vec<TestRecord> = Vec::new();
    let named = [
        (passed, Status::Passed),
        (failed, Status::Failed),
        (errors, Status::Error),
    ];
    let have: Vec<usize> = named.iter().map(|(names, _)| names.len()).collect();
    for (names, status) in named {
        records.extend(names.into_iter().map(|n| TestRecord::new(n, status)));
    }
    let fillers = [
        (want.passed, have[0], "unnamed_passed", Status::Passed),
        (want.failed, have[1], "unnamed_crashed", Status::Failed),
        (want.errors, have[2], "unnamed_error", Status::Error),
    ];
    for (want, have, prefix, status) in fillers {
        let missing = want.saturating_sub(have).min(FILLER_LIMIT);
        records.extend((0..missing).map(|i| TestRecord::new(format!("{prefix}_{i}"), status)));
    }
    records
}

/// Named passes (PASSED, XFAIL, XPASS), failures and errors in output order, collection errors
/// appended to the errors without duplicates.
fn named_results(section: &str) -> (Vec<String>, Vec<String>, Vec<String>) {
    let (mut passed, mut failed, mut errors) = (Vec::new(), Vec::new(), Vec::new());
    for caps in NAMED.captures_iter(section) {
        let name = caps[1].to_owned();
        match &caps[2] {
            "PASSED" | "XFAIL" | "XPASS" => passed.push(name),
            "FAILED" => failed.push(name),
            "ERROR" => errors.push(name),
            _ => {} // SKIPPED
        }
    }
    for caps in COLLECTION_ERROR.captures_iter(section) {
        let file = &caps[1];
        if !errors.iter().any(|e| e == file) {
            errors.push(file.to_owned());
        }
    }
    (passed, failed, errors)
}

/// Counts of the first `=… <counts> in <seconds>s` line, or `None` without one.
fn summary_counts(section: &str) -> Option<Counts> {
    let line = SUMMARY.captures(section)?;
    let mut counts = Counts::default();
    for caps in COUNT.captures_iter(&line[1]) {
        let n: usize = caps[1].parse().unwrap_or(usize::MAX);
        let slot = match &caps[2] {
            "passed" | "xfailed" | "xpassed" => &mut counts.passed,
            "failed" => &mut counts.failed,
            "error" | "errors" => &mut counts.errors,
            _ => continue,
        };
        *slot = slot.saturating_add(n);
    }
    Some(counts)
}
