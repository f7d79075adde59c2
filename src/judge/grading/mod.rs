//! Pure grading of a judge container's output (docs/compatibility.md#grading): test-section
//! extraction, the `pytest_v`, `score_sum` and `structured_json` parsers, the evaluation report,
//! selection of the best submission and rescaling to 0–100. No I/O.

mod extract;
mod formula;
mod grade;
mod pytest;
mod report;
mod rescale;
mod score_sum;
mod selection;
mod structured;

#[cfg(test)]
mod tests;

pub use extract::{extract_test_output, py_strip, END_MARKER, START_MARKER};
pub use grade::{grade, GradeError, PARSERS};
pub use pytest::{parse_pytest_v, FILLER_LIMIT};
pub use report::{
    cut_summary, is_rejected, legacy_summary, rejected, Detail, Report, Status, TestRecord,
    REJECTED_PREFIX, SUMMARY_LIMIT,
};
pub use rescale::{rescale, validate, RescaleError, RescaleWarning, KINDS};
pub use score_sum::{extract_score, parse_score_sum};
pub use selection::{select_best, Best, SelectionEntry};
pub use structured::{parse_structured, RESULT_KEYS};
