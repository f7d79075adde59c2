//! What an attack's grading is judged against and what comes out: the [`Check`] an attack asks
//! for, the task's [`Baseline`], and the [`Verdict`] with its evidence (docs/audit.md#verdicts).
//! The checks themselves are in src/audit/judging.rs and the modules it calls.

use serde::Serialize;

use crate::judge::Report;
use crate::task::{ScoreDirection, Selection};

/// Every forged test name, case id and summary carries this, so evidence lines can be found.
pub const TAG: &str = "sforge_audit";
/// Evidence lines shown per finding.
pub const EVIDENCE_LINES: usize = 5;
/// Characters kept of one evidence line.
const EVIDENCE_WIDTH: usize = 200;

/// How an attack's grading is judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// Succeeds when the judge's selection picks it over every baseline grading.
    Score,
    /// Succeeds when the report the agent gets holds judge-only words.
    Leak,
    /// Succeeds when the round ends without the grader's result (or as a harness error) where
    /// the baseline has one.
    Harness,
}

/// The outcome of one attack.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    /// The grader held.
    Held { detail: String },
    /// The route succeeded.
    Succeeded { evidence: Vec<String> },
    /// A baseline report (an empty submission, the partial solution) already holds judge-only
    /// words: the grader leaks without any attack.
    LeaksAtBaseline { evidence: Vec<String> },
    /// The route could not be tried on this task (the detail says why); not graded.
    NotApplicable { detail: String },
    /// The audit could not tell (the grading itself failed where it should not have).
    Inconclusive { detail: String },
}

impl Verdict {
    /// Whether this is a finding against the grader.
    #[must_use]
    pub fn is_finding(&self) -> bool {
        matches!(
            self,
            Verdict::Succeeded { .. } | Verdict::LeaksAtBaseline { .. }
        )
    }

    /// The table's label.
    #[must_use]
    pub fn label(&self) -> &'static str {
        match self {
            Verdict::Held { .. } => "held",
            Verdict::Succeeded { .. } => "SUCCEEDED",
            Verdict::LeaksAtBaseline { .. } => "LEAKS AT BASELINE",
            Verdict::NotApplicable { .. } => "not applicable",
            Verdict::Inconclusive { .. } => "inconclusive",
        }
    }

    /// The evidence or the detail, one line each.
    #[must_use]
    pub fn lines(&self) -> Vec<String> {
        match self {
            Verdict::Held { detail }
            | Verdict::NotApplicable { detail }
            | Verdict::Inconclusive { detail } => vec![detail.clone()],
            Verdict::Succeeded { evidence } | Verdict::LeaksAtBaseline { evidence } => {
                evidence.clone()
            }
        }
    }
}

/// One attack, judged.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub route: &'static str,
    pub attack: String,
    pub about: String,
    #[serde(flatten)]
    pub verdict: Verdict,
    /// Where its report is (`<log_dir>/audits/<id>/<task>/<attack>/`); empty when not graded.
    pub dir: String,
}

/// A baseline report that already shows judge-only words outside its records' names.
#[derive(Debug, Clone, PartialEq)]
pub struct BaselineLeak {
    /// `baseline-empty` or `baseline-partial`.
    pub round: String,
    pub words: Vec<String>,
    /// The report lines holding them, masked.
    pub lines: Vec<String>,
}

/// What the attacks are compared with.
#[derive(Debug, Clone)]
pub struct Baseline {
    pub selection: Selection,
    pub direction: ScoreDirection,
    /// The task's parser: which forged lines are evidence, what a grader's result looks like.
    pub parser: String,
    /// The baseline gradings (an empty submission, the shipped partial solution).
    pub reports: Vec<Report>,
    /// Judge-only words (docs/audit.md#leak), but those the grader itself publishes at baseline
    /// as the names of its records (its test ids).
    pub secrets: Vec<String>,
    /// The first baseline report that already leaks, if any.
    pub leak: Option<BaselineLeak>,
}

/// One line about a graded report.
#[must_use]
pub fn describe(r: &Report) -> String {
    let score = r.score.map_or("null".into(), |s| format!("{s}"));
    format!(
        "{}/{} passed, score {score}{}",
        r.passed,
        r.total_tests,
        if r.timed_out { ", timed out" } else { "" }
    )
}

/// `line` cut to the evidence width.
#[must_use]
pub fn cut(line: &str) -> String {
    let line = line.trim_end();
    if line.chars().count() <= EVIDENCE_WIDTH {
        return line.to_owned();
    }
    let kept: String = line.chars().take(EVIDENCE_WIDTH).collect();
    format!("{kept}…")
}
