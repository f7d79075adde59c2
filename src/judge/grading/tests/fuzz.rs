//! No input makes grading, extraction or selection panic: random bytes (decoded lossily, as
//! the judge decodes container output) and mutations of the captured fixtures.

use super::super::{extract_test_output, grade, select_best, PARSERS};
use super::fixture;
use crate::task::{ScoreDirection, Selection};

/// A small deterministic xorshift generator, so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n as u64).unwrap_or(0)
    }
}

const ALPHABET: &[&str] = &[
    "{",
    "}",
    "\"",
    "\\",
    "\n",
    " ",
    "=",
    "::",
    "[",
    "]",
    ">>>>> Start Test Output",
    ">>>>> End Test Output",
    ">>>>> Start Structured Result",
    ">>>>> End Structured Result",
    "PASSED",
    "FAILED",
    "ERROR",
    "ERROR x.py",
    "CASE 1 OK score=",
    "TOTAL_SCORE ",
    "-",
    "1e9",
    "inf",
    " passed",
    " in 1.0s",
    "é",
    "\u{1c}",
    "score",
    "details",
    "[1,",
    "null",
];

fn check_all(text: &str) {
    let _ = extract_test_output(text);
    for parser in PARSERS {
        let report = grade(parser, text, "t", "s", false, 0.0).unwrap();
        serde_json::to_string(&report).unwrap();
    }
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for _ in 0..300 {
        let len = rng.below(600);
        let bytes: Vec<u8> = (0..len).map(|_| rng.next().to_le_bytes()[0]).collect();
        check_all(&String::from_utf8_lossy(&bytes));
    }
}

#[test]
fn token_soup_never_panics() {
    let mut rng = Rng(42);
    for _ in 0..500 {
        let text: String = (0..rng.below(80))
            .map(|_| ALPHABET[rng.below(ALPHABET.len())])
            .collect();
        check_all(&text);
    }
}

#[test]
fn truncated_fixtures_never_panic() {
    for raw in [
        fixture!("pytest8_mixed"),
        fixture!("structured_markers"),
        fixture!("score_sum_all"),
    ] {
        for (at, _) in raw.char_indices().step_by(7) {
            check_all(&raw[..at]);
            check_all(&raw[at..]);
        }
    }
}

#[test]
fn odd_history_entries_never_panic() {
    let entries: Vec<serde_json::Value> = serde_json::from_str(
        r#"[null, 1, "x", [], {}, {"pass_rate": "1"}, {"pass_rate": 1e308, "score": -1e308},
            {"type": 5, "status": null}, {"pass_rate": 2, "score": null, "max_score": "x"}]"#,
    )
    .unwrap();
    for policy in [
        Selection::PassRateFirst,
        Selection::ScoreFirst,
        Selection::ValidThenScore,
    ] {
        for direction in [ScoreDirection::Maximize, ScoreDirection::Minimize] {
            let _ = select_best(&entries, policy, direction);
        }
    }
}

#[test]
fn unclosed_brace_lines_are_skipped_and_do_not_hang() {
    let text = "{\n".repeat(3_000) + "{\"score\": 1}\n";
    let report = grade("structured_json", &text, "t", "s", false, 0.0).unwrap();
    assert_eq!(report.score, Some(1.0));
}
