//! Judging one adversarial grading against the task's baseline: a score above it, judge-only
//! content in the report, or a harness error instead of a low score is a finding, with the
//! report lines that show it as evidence.

use serde::Serialize;
use serde_json::{json, Value};

use crate::judge::grading::{is_rejected, select_best};
use crate::judge::{JudgeError, Report};
use crate::task::{ScoreDirection, Selection};

/// Every forged test name, case id and summary carries this, so evidence lines can be found.
pub const TAG: &str = "sforge_audit";
/// Evidence lines shown per finding.
const EVIDENCE_LINES: usize = 5;
/// Characters kept of one evidence line.
const EVIDENCE_WIDTH: usize = 200;

/// How an attack's grading is judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// Succeeds when it is selected over every baseline grading.
    Score,
    /// Succeeds when the report the agent gets holds judge-only words.
    Leak,
    /// Succeeds when the round is a harness error instead of a graded report.
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
    /// The audit could not tell (the grading itself failed where it should not have).
    Inconclusive { detail: String },
}

impl Verdict {
    #[must_use]
    pub fn is_finding(&self) -> bool {
        matches!(self, Verdict::Succeeded { .. })
    }

    /// `held`, `SUCCEEDED` or `inconclusive`.
    #[must_use]
    pub fn label(&self) -> &'static str {
        match self {
            Verdict::Held { .. } => "held",
            Verdict::Succeeded { .. } => "SUCCEEDED",
            Verdict::Inconclusive { .. } => "inconclusive",
        }
    }

    /// The evidence or the detail, one line each.
    #[must_use]
    pub fn lines(&self) -> Vec<String> {
        match self {
            Verdict::Held { detail } | Verdict::Inconclusive { detail } => vec![detail.clone()],
            Verdict::Succeeded { evidence } => evidence.clone(),
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
    /// Where its report is (`<log_dir>/audits/<id>/<task>/<attack>/`).
    pub dir: String,
}

/// What the attacks are compared with.
#[derive(Debug, Clone)]
pub struct Baseline {
    pub selection: Selection,
    pub direction: ScoreDirection,
    /// The task's parser: which forged lines are evidence.
    pub parser: String,
    /// The baseline gradings (an empty submission, the shipped partial solution).
    pub reports: Vec<Report>,
    /// Judge-only words (docs/audit.md#leak) not already in a baseline report.
    pub secrets: Vec<String>,
}

/// The verdict on `result` under `check`.
#[must_use]
pub fn judge(check: Check, result: &Result<Report, JudgeError>, base: &Baseline) -> Verdict {
    match (check, result) {
        (Check::Harness, Err(e)) => Verdict::Succeeded {
            evidence: vec![cut(&format!(
                "harness error instead of a graded report: {e}"
            ))],
        },
        (Check::Harness, Ok(r)) => Verdict::Held {
            detail: format!("graded: {}", describe(r)),
        },
        (_, Err(e)) => Verdict::Inconclusive {
            detail: cut(&format!("not graded: {e}")),
        },
        (_, Ok(r)) if is_rejected(r) => Verdict::Held {
            detail: cut(&format!(
                "archive rejected: {}",
                r.summary.as_deref().unwrap_or_default()
            )),
        },
        (Check::Score, Ok(r)) => score(r, base),
        (Check::Leak, Ok(r)) => leak(r, base),
    }
}

fn entry(report: &Report, round: &str) -> Value {
    json!({
        "round": round,
        "pass_rate": report.pass_rate,
        "score": report.score,
        "valid": report.valid,
    })
}

fn score(report: &Report, base: &Baseline) -> Verdict {
    let mut entries: Vec<Value> = base
        .reports
        .iter()
        .enumerate()
        .map(|(i, r)| entry(r, &format!("baseline-{i}")))
        .collect();
    entries.push(entry(report, "attack"));
    let best = select_best(&entries, base.selection, base.direction);
    if best.best_round != "attack" {
        return Verdict::Held {
            detail: format!("not above the baseline: {}", describe(report)),
        };
    }
    let mut evidence = vec![format!(
        "{} beats the baseline ({})",
        describe(report),
        base.reports
            .iter()
            .map(describe)
            .collect::<Vec<_>>()
            .join("; ")
    )];
    let mut lines: Vec<&str> = report
        .raw_output
        .lines()
        .filter(|l| is_forged_line(l, &base.parser))
        .collect();
    lines.dedup();
    // Totals and summaries first: they show what the parser took.
    lines.sort_by_key(|l| !is_total(l));
    let mut shown: Vec<&str> = Vec::new();
    for line in lines {
        if !shown.contains(&line) && shown.len() < EVIDENCE_LINES {
            shown.push(line);
        }
    }
    evidence.extend(shown.into_iter().map(cut));
    Verdict::Succeeded { evidence }
}

fn is_total(line: &str) -> bool {
    line.contains("TOTAL_SCORE")
        || line.contains(" passed in ")
        || line.contains("Start Structured")
}

/// A line of forged output the task's parser reads.
fn is_forged_line(line: &str, parser: &str) -> bool {
    let structured =
        || line.contains("Structured Result") || line.trim_start().starts_with("{\"valid\"");
    match parser {
        "pytest_v" => line.contains(TAG) && (line.contains("PASSED") || line.contains(" passed")),
        "score_sum" => line.contains("TOTAL_SCORE") || line.starts_with(&format!("CASE {TAG}")),
        "structured_json" => structured(),
        _ => line.contains(TAG) || line.contains("TOTAL_SCORE") || structured(),
    }
}

fn leak(report: &Report, base: &Baseline) -> Verdict {
    let shown = report.result_value().to_string();
    let found: Vec<&String> = base
        .secrets
        .iter()
        .filter(|w| shown.contains(w.as_str()))
        .collect();
    if found.is_empty() {
        return Verdict::Held {
            detail: "no judge-only content in the report".into(),
        };
    }
    let mut evidence = vec![cut(&format!(
        "the report holds {} judge-only word(s): {}",
        found.len(),
        found
            .iter()
            .take(8)
            .map(|w| w.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    ))];
    let text = [
        report.summary.clone().unwrap_or_default(),
        report
            .test_details
            .iter()
            .map(|t| t.name.clone())
            .collect::<Vec<_>>()
            .join("\n"),
        report
            .details
            .iter()
            .map(|d| format!("{}: {}", d.name, d.message))
            .collect::<Vec<_>>()
            .join("\n"),
    ]
    .join("\n");
    evidence.extend(
        text.lines()
            .filter(|l| found.iter().any(|w| l.contains(w.as_str())))
            .take(EVIDENCE_LINES)
            .map(cut),
    );
    Verdict::Succeeded { evidence }
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

fn cut(line: &str) -> String {
    let line = line.trim_end();
    if line.chars().count() <= EVIDENCE_WIDTH {
        return line.to_owned();
    }
    let kept: String = line.chars().take(EVIDENCE_WIDTH).collect();
    format!("{kept}…")
}

#[cfg(test)]
#[path = "verdict_tests.rs"]
mod tests;
