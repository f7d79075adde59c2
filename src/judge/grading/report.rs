//! The evaluation report (`report.json`, docs/compatibility.md#grading): its fields in the
//! reference's order, the 4096-character summary cut, the `/result` view and the legacy summary
//! text.

use serde::ser::{SerializeStruct, Serializer};
use serde::Serialize;
use serde_json::Value;
use std::fmt::Write as _;

/// Longest summary written out, in characters.
pub const SUMMARY_LIMIT: usize = 4096;
/// How many non-passing names the legacy summary lists.
const FAILED_NAMES_SHOWN: usize = 10;

/// Outcome of one test in a legacy parser's record list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Status {
    Passed,
    Failed,
    Error,
}

/// One `{name, status}` record of `test_details` (legacy parsers).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TestRecord {
    pub name: String,
    pub status: Status,
}

impl TestRecord {
    #[must_use]
    pub fn new(name: impl Into<String>, status: Status) -> Self {
        Self {
            name: name.into(),
            status,
        }
    }
}

/// One `{name, status, message, score, weight}` record of `details` (structured results).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Detail {
    pub name: String,
    /// As given by the evaluator; only `PASSED`, `FAILED` and `ERROR` are counted.
    pub status: String,
    pub message: String,
    pub score: Option<f64>,
    pub weight: f64,
}

/// The evaluation report of one submission.
///
/// `Serialize` writes the `report.json` shape (every field but `raw_output` and `warnings`,
/// summary cut to [`SUMMARY_LIMIT`] characters); [`Report::result_view`] the `/result` shape.
/// Non-finite floats are written as `null` (Python would write `NaN`/`Infinity`, which is not JSON).
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub task_id: String,
    pub submission_id: String,
    pub total_tests: i64,
    pub passed: i64,
    pub failed: i64,
    pub errors: i64,
    pub pass_rate: f64,
    pub score: Option<f64>,
    /// Set by the caller from the task's rescale spec; written to `report.json` only.
    pub score_0_100: Option<f64>,
    pub timed_out: bool,
    pub runtime_seconds: f64,
    pub test_details: Vec<TestRecord>,
    /// The judge container's full output; never serialised.
    pub raw_output: String,
    pub valid: bool,
    pub summary: Option<String>,
    pub details: Vec<Detail>,
    pub metrics: Value,
    /// Epoch seconds when grading began; set by the caller.
    pub submitted_at: Option<f64>,
    /// Things in the evaluator's output we could not take at face value (for the log); never
    /// serialised.
    pub warnings: Vec<String>,
}

impl Report {
    /// The reference's empty report: zero counts, pass rate 0, score null, valid, summary null.
    #[must_use]
    pub fn empty(task_id: &str, submission_id: &str) -> Self {
        Self {
            task_id: task_id.to_owned(),
            submission_id: submission_id.to_owned(),
            total_tests: 0,
            passed: 0,
            failed: 0,
            errors: 0,
            pass_rate: 0.0,
            score: None,
            score_0_100: None,
            timed_out: false,
            runtime_seconds: 0.0,
            test_details: Vec::new(),
            raw_output: String::new(),
            valid: true,
            summary: None,
            details: Vec::new(),
            metrics: Value::Object(serde_json::Map::new()),
            submitted_at: None,
            warnings: Vec::new(),
        }
    }

    /// The report object of `GET /result/{id}`: as `report.json` but without `score_0_100`.
    #[must_use]
    pub fn result_view(&self) -> impl Serialize + '_ {
        ReportJson {
            report: self,
            with_score_0_100: false,
        }
    }

    /// [`Report::result_view`] as a JSON value.
    #[must_use]
    pub fn result_value(&self) -> Value {
        serde_json::to_value(self.result_view()).unwrap_or(Value::Null)
    }
}

impl Serialize for Report {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        ReportJson {
            report: self,
            with_score_0_100: true,
        }
        .serialize(serializer)
    }
}

struct ReportJson<'a> {
    report: &'a Report,
    with_score_0_100: bool,
}

impl Serialize for ReportJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let r = self.report;
        let fields = if self.with_score_0_100 { 17 } else { 16 };
        let mut s = serializer.serialize_struct("EvalReport", fields)?;
        s.serialize_field("task_id", &r.task_id)?;
        s.serialize_field("submission_id", &r.submission_id)?;
        s.serialize_field("total_tests", &r.total_tests)?;
        s.serialize_field("passed", &r.passed)?;
        s.serialize_field("failed", &r.failed)?;
        s.serialize_field("errors", &r.errors)?;
        s.serialize_field("pass_rate", &r.pass_rate)?;
        s.serialize_field("score", &r.score)?;
        if self.with_score_0_100 {
            s.serialize_field("score_0_100", &r.score_0_100)?;
        }
        s.serialize_field("timed_out", &r.timed_out)?;
        s.serialize_field("runtime_seconds", &r.runtime_seconds)?;
        s.serialize_field("test_details", &r.test_details)?;
        s.serialize_field("valid", &r.valid)?;
        s.serialize_field("summary", &r.summary.as_deref().map(cut_summary))?;
        s.serialize_field("details", &r.details)?;
        s.serialize_field("metrics", &r.metrics)?;
        s.serialize_field("submitted_at", &r.submitted_at)?;
        s.end()
    }
}

/// How the summary of a refused submission starts (`sforge eval` tells refusals by it).
pub const REJECTED_PREFIX: &str = "Submission rejected: ";

/// Whether `report` is that of a submission refused before evaluation.
#[must_use]
pub fn is_rejected(report: &Report) -> bool {
    !report.valid
        && report
            .summary
            .as_deref()
            .is_some_and(|s| s.starts_with(REJECTED_PREFIX))
}

/// The report of a submission refused before evaluation (for example a hostile archive):
/// the empty report with `summary` and `valid: false`, so `valid_then_score` never selects it.
#[must_use]
pub fn rejected(task_id: &str, submission_id: &str, summary: &str) -> Report {
    let mut report = Report::empty(task_id, submission_id);
    report.valid = false;
    report.summary = Some(summary.to_owned());
    report
}

/// The first [`SUMMARY_LIMIT`] characters of `summary`.
#[must_use]
pub fn cut_summary(summary: &str) -> &str {
    match summary.char_indices().nth(SUMMARY_LIMIT) {
        Some((at, _)) => &summary[..at],
        None => summary,
    }
}

/// The legacy parsers' summary: `"P/T tests passed"`, then `". Failed: "` and the first ten
/// names that did not pass, then `" (+K more)"`; `"No tests found"` when there are no records.
#[must_use]
pub fn legacy_summary(records: &[TestRecord]) -> String {
    if records.is_empty() {
        return "No tests found".to_owned();
    }
    let passed = records
        .iter()
        .filter(|r| r.status == Status::Passed)
        .count();
    let mut summary = format!("{passed}/{} tests passed", records.len());
    let not_passed: Vec<&str> = records
        .iter()
        .filter(|r| r.status != Status::Passed)
        .map(|r| r.name.as_str())
        .collect();
    if !not_passed.is_empty() {
        let shown = not_passed.len().min(FAILED_NAMES_SHOWN);
        summary.push_str(". Failed: ");
        summary.push_str(&not_passed[..shown].join(", "));
        if not_passed.len() > FAILED_NAMES_SHOWN {
            let more = not_passed.len() - FAILED_NAMES_SHOWN;
            let _ = write!(summary, " (+{more} more)");
        }
    }
    summary
}
