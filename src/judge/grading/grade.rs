//! Turns a judge container's output into a [`Report`] with the task's parser
//! (docs/compatibility.md#grading, "Grading a structured result").

use super::bounds::bound_records;
use super::extract::extract_test_output;
use super::pytest::parse_pytest_v;
use super::report::{legacy_summary, Detail, Report, Status, TestRecord};
use super::score_sum::{extract_score, parse_score_sum};
use super::structured::parse_structured;
use serde_json::{Map, Value};

/// The parsers a task's `judge.parser` may name.
pub const PARSERS: [&str; 3] = ["pytest_v", "score_sum", "structured_json"];

/// Why output could not be graded at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GradeError {
    #[error("the task names no parser; set `judge.parser` to one of: {}", PARSERS.join(", "))]
    NoParser,
    #[error("unknown parser `{parser}`; expected one of: {}", PARSERS.join(", "))]
    UnknownParser { parser: String },
}

/// Grades `raw_output` (the whole `eval.sh` output) with `parser` on its test section.
/// `score_0_100` and `submitted_at` are left for the caller to fill in.
///
/// # Errors
///
/// When `parser` is empty or not one of [`PARSERS`].
pub fn grade(
    parser: &str,
    raw_output: &str,
    task_id: &str,
    submission_id: &str,
    timed_out: bool,
    runtime_seconds: f64,
) -> Result<Report, GradeError> {
    let section = extract_test_output(raw_output);
    let mut report = Report::empty(task_id, submission_id);
    match parser {
        "pytest_v" => grade_legacy(&mut report, parse_pytest_v(section), section),
        "score_sum" => grade_legacy(&mut report, parse_score_sum(section), section),
        "structured_json" => grade_structured(&mut report, &parse_structured(section), section),
        "" => return Err(GradeError::NoParser),
        other => {
            return Err(GradeError::UnknownParser {
                parser: other.to_owned(),
            })
        }
    }
    report.timed_out = timed_out;
    report.runtime_seconds = runtime_seconds;
    raw_output.clone_into(&mut report.raw_output);
    bound_records(&mut report);
    Ok(report)
}

/// Counts and summary from `pytest_v`/`score_sum` records; the score is the section's
/// `TOTAL_SCORE` for both parsers.
fn grade_legacy(report: &mut Report, records: Vec<TestRecord>, section: &str) {
    let count = |status| to_i64(records.iter().filter(|r| r.status == status).count());
    report.passed = count(Status::Passed);
    report.failed = count(Status::Failed);
    report.errors = count(Status::Error);
    report.total_tests = to_i64(records.len());
    report.pass_rate = ratio(report.passed, report.total_tests);
    report.score = extract_score(section);
    report.summary = Some(legacy_summary(&records));
    report.test_details = records;
}

fn grade_structured(report: &mut Report, result: &Map<String, Value>, section: &str) {
    let warnings = &mut report.warnings;
    if let Some(Value::Array(items)) = result.get("details") {
        report.details = items.iter().map(|item| detail(item, warnings)).collect();
        let count = |s: &str| to_i64(report.details.iter().filter(|d| d.status == s).count());
        report.passed = count("PASSED");
        report.failed = count("FAILED");
        report.errors = count("ERROR");
        report.total_tests = to_i64(report.details.len());
    } else {
        if result.get("details").is_some_and(|d| !d.is_null()) {
            warnings.push("`details` is not a list; ignored".to_owned());
        }
        report.passed = count_field(result, "passed", warnings);
        report.failed = count_field(result, "failed", warnings);
        report.errors = count_field(result, "errors", warnings);
        report.total_tests = count_field(result, "total_tests", warnings);
    }
    report.pass_rate = number_field(result, "pass_rate", warnings)
        .unwrap_or_else(|| ratio(report.passed, report.total_tests));
    report.score = if result.get("score").is_some_and(|s| !s.is_null()) {
        number_field(result, "score", warnings)
    } else {
        extract_score(section)
    };
    report.valid = match result.get("valid") {
        None | Some(Value::Null) => true,
        Some(Value::Bool(valid)) => *valid,
        Some(other) => {
            warnings.push(format!("`valid` is not a boolean ({other}); taken as true"));
            true
        }
    };
    report.summary = result.get("summary").and_then(text);
    report.metrics = match result.get("metrics") {
        None | Some(Value::Null) => Value::Object(Map::new()),
        Some(metrics) => metrics.clone(),
    };
}

/// One detail record; non-object items count towards the total with empty fields.
fn detail(item: &Value, warnings: &mut Vec<String>) -> Detail {
    let field = |key: &str| item.get(key).and_then(text).unwrap_or_default();
    let number = |key: &str| item.get(key).filter(|v| !v.is_null());
    let score = number("score").and_then(|v| {
        let n = v.as_f64();
        if n.is_none() {
            warnings.push(format!("detail score {v} is not a number; taken as null"));
        }
        n
    });
    Detail {
        name: field("name"),
        status: field("status"),
        message: field("message"),
        score,
        weight: number("weight").and_then(Value::as_f64).unwrap_or(1.0),
    }
}

/// A string as is; any other non-null value as its JSON text.
fn text(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// A number field, `None` when missing or null; a non-number is `None` with a warning.
fn number_field(result: &Map<String, Value>, key: &str, warnings: &mut Vec<String>) -> Option<f64> {
    let value = result.get(key).filter(|v| !v.is_null())?;
    let number = value.as_f64();
    if number.is_none() {
        warnings.push(format!("`{key}` is not a number ({value}); taken as null"));
    }
    number
}

/// A count field, 0 when missing; floats are truncated, anything else is 0 with a warning.
fn count_field(result: &Map<String, Value>, key: &str, warnings: &mut Vec<String>) -> i64 {
    match result.get(key) {
        None | Some(Value::Null) => 0,
        Some(Value::Number(n)) => n.as_i64().unwrap_or_else(|| {
            #[allow(clippy::cast_possible_truncation)] // saturating float-to-int cast is intended
            let truncated = n.as_f64().unwrap_or(0.0) as i64;
            truncated
        }),
        Some(other) => {
            warnings.push(format!("`{key}` is not a number ({other}); taken as 0"));
            0
        }
    }
}

/// `part / whole`, or 0 when `whole` is 0.
#[allow(clippy::cast_precision_loss)] // counts far below 2^52
fn ratio(part: i64, whole: i64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

fn to_i64(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}
