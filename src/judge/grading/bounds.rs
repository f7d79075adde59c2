//! Bounds on what graded code prints (docs/security.md#bounded-reads): the output kept for
//! parsing and `test_output.txt` (a head and a tail, the middle cut and counted), and the
//! per-test records a report lists. Counts and the summary are computed before records are cut.

use crate::process::HeadTail;

use super::report::Report;

/// Leading bytes of a grading run's output that are kept: the start marker and the first
/// `TOTAL_SCORE` line stay in them, as SForge 1.0's parsers take the first such line.
pub const OUTPUT_HEAD_BYTES: usize = 1 << 20;
/// Trailing bytes kept: the end marker, pytest's summary line and a structured result.
pub const OUTPUT_TAIL_BYTES: usize = 1 << 20;
/// Records listed in `test_details` (and `details`).
pub const MAX_TEST_RECORDS: usize = 10_000;
/// Bytes of a test name (and of a detail's message) in a report.
pub const MAX_RECORD_TEXT: usize = 512;

/// A grading run's output as it streams in, bounded to a head and a tail.
#[derive(Debug)]
pub struct GradingOutput(HeadTail);

impl Default for GradingOutput {
    fn default() -> Self {
        Self(HeadTail::new(OUTPUT_HEAD_BYTES, OUTPUT_TAIL_BYTES))
    }
}

impl GradingOutput {
    /// Adds one line (without its line ending).
    pub fn push_line(&mut self, line: &str) {
        let mut chunk = Vec::with_capacity(line.len() + 1);
        chunk.extend_from_slice(line.as_bytes());
        chunk.push(b'\n');
        self.0.push(&chunk);
    }

    /// The kept text, with a line saying how much was cut where it was cut, and the number of
    /// bytes cut (0 when everything was kept).
    #[must_use]
    pub fn finish(self) -> (String, u64) {
        let cut = self.0.dropped();
        let notice = cut_notice(cut);
        let bytes = self.0.into_bytes_with(notice.as_bytes());
        (String::from_utf8_lossy(&bytes).into_owned(), cut)
    }
}

/// The line put where output was cut.
#[must_use]
pub fn cut_notice(cut: u64) -> String {
    format!(
        "[sforge: {cut} bytes of output cut here; the first {OUTPUT_HEAD_BYTES} and the last \
         {OUTPUT_TAIL_BYTES} bytes are kept]\n"
    )
}

/// Cuts the report's record lists to [`MAX_TEST_RECORDS`] entries of at most
/// [`MAX_RECORD_TEXT`] bytes of text each; the number of records dropped goes to
/// `records_cut`.
pub fn bound_records(report: &mut Report) {
    let before = report.test_details.len() + report.details.len();
    report.test_details.truncate(MAX_TEST_RECORDS);
    report.details.truncate(MAX_TEST_RECORDS);
    for record in &mut report.test_details {
        shorten(&mut record.name);
    }
    for detail in &mut report.details {
        shorten(&mut detail.name);
        shorten(&mut detail.message);
    }
    let after = report.test_details.len() + report.details.len();
    report.records_cut = (before - after) as u64;
}

fn shorten(text: &mut String) {
    if text.len() > MAX_RECORD_TEXT {
        let mut at = MAX_RECORD_TEXT;
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        text.truncate(at);
        text.push('…');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::judge::grading::{extract_score, extract_test_output, Status, TestRecord};

    #[test]
    fn short_output_is_kept_whole() {
        let mut out = GradingOutput::default();
        out.push_line("a");
        out.push_line("b");
        assert_eq!(out.finish(), ("a\nb\n".to_owned(), 0));
    }

    /// A flood between the markers: the first `TOTAL_SCORE` (in the head) still wins, the end
    /// marker and summary (in the tail) are still seen, and the cut is said.
    #[test]
    fn a_flood_keeps_head_and_tail_and_parsers_still_work() {
        let mut out = GradingOutput::default();
        out.push_line(">>>>> Start Test Output");
        out.push_line("TOTAL_SCORE 42");
        let filler = "x".repeat(1000);
        for _ in 0..5000 {
            out.push_line(&filler);
        }
        out.push_line("TOTAL_SCORE 99");
        out.push_line(">>>>> End Test Output");
        let (text, cut) = out.finish();
        assert!(cut > 2_000_000, "{cut}");
        assert!(text.len() <= OUTPUT_HEAD_BYTES + OUTPUT_TAIL_BYTES + 200);
        assert!(text.contains(&format!("[sforge: {cut} bytes of output cut here")));
        assert_eq!(extract_score(extract_test_output(&text)), Some(42.0));
    }

    #[test]
    fn records_are_cut_after_counting() {
        let mut report = Report::empty("t", "s");
        report.test_details = (0..MAX_TEST_RECORDS + 5)
            .map(|i| TestRecord::new(format!("t{i}{}", "n".repeat(600)), Status::Passed))
            .collect();
        bound_records(&mut report);
        assert_eq!(report.test_details.len(), MAX_TEST_RECORDS);
        assert_eq!(report.records_cut, 5);
        assert!(report.test_details[0].name.len() <= MAX_RECORD_TEXT + '…'.len_utf8());
    }
}
