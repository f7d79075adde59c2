//! The steps of a grading that need no judge: `eval.sh` and its warm-up form, what a judge
//! container for one submission is made of, the report's last steps (rescale, `report.json`)
//! and the retry of steps that are safe to repeat.

use std::fs;
use std::path::Path;

use super::error::JudgeError;
use super::grading::{self, GradingOutput, Report};
use super::pool::Warmup;
use crate::clock::epoch_seconds;
use crate::run_log::RunLog;
use crate::sandbox::{ContainerSpec, ExecResult, SandboxError};
use crate::task::Task;
use crate::templates;

/// What running `eval.sh` gave.
pub(super) struct Evaluation {
    pub(super) result: ExecResult,
    pub(super) output: GradingOutput,
    /// `eval.sh` printed its start marker (it ran at all).
    pub(super) started: bool,
}

/// The judge container a grading holds (to remove when it is done), and the pool shape to top
/// up then.
#[derive(Default)]
pub(super) struct Used {
    pub(super) container: Option<String>,
    pub(super) refill: Option<(ContainerSpec, Warmup)>,
}

/// Suffix of the names of pooled judge containers (before the process id and a number).
pub(super) const WARM: &str = "warm";

/// Where `eval.sh` goes in the judge container.
pub(super) const EVAL_DIR: &str = "/tmp";

/// What a judge container for one submission is made of.
pub(super) struct Prepared<'a> {
    pub(super) spec: &'a ContainerSpec,
    /// `eval.sh`, for [`EVAL_DIR`].
    pub(super) warmup: Warmup,
    /// The sanitized submission (a tar for `cwd`), unless it is empty.
    pub(super) submission: Option<&'a Path>,
    pub(super) cwd: &'a str,
}

/// The task's `eval.sh`.
pub(super) fn eval_script(task: &Task) -> Result<String, JudgeError> {
    templates::render(
        "eval.sh",
        minijinja::context! { task_id => task.task_id, eval_cmd => task.judge.eval_cmd },
    )
    .map_err(JudgeError::Template)
}

pub(super) fn eval_warmup(script: &str) -> Warmup {
    Warmup {
        dir: EVAL_DIR.to_owned(),
        file: "eval.sh".to_owned(),
        content: script.as_bytes().to_vec(),
    }
}

/// A graded, invalid report for an archive that was refused as a whole.
pub(super) fn rejected(task: &Task, submission_id: &str, dir: &Path, reason: &str) -> Report {
    let mut report = grading::rejected(
        &task.task_id,
        submission_id,
        &format!("{}{reason}", grading::REJECTED_PREFIX),
    );
    report.submitted_at = Some(epoch_seconds());
    finish(task, dir, report.clone()).unwrap_or(report)
}

/// Rescale, write `report.json`.
pub(super) fn finish(task: &Task, dir: &Path, mut report: Report) -> Result<Report, JudgeError> {
    if let Some(spec) = &task.judge.rescale {
        report.score_0_100 = grading::rescale(spec, report.score).map_err(JudgeError::Rescale)?;
    }
    let json = serde_json::to_string_pretty(&report).map_err(JudgeError::Encode)?;
    fs::write(dir.join("report.json"), json + "\n").map_err(JudgeError::WriteReport)?;
    Ok(report)
}

/// Run `op`; on failure log it and try once more (for steps that are safe to repeat).
pub(super) fn retry_once<T>(
    log: &RunLog,
    what: &'static str,
    mut op: impl FnMut() -> Result<T, SandboxError>,
) -> Result<T, JudgeError> {
    match op() {
        Ok(v) => Ok(v),
        Err(first) => {
            log.line(&format!("cannot {what} ({first}); retrying once"));
            op().map_err(|source| JudgeError::Sandbox {
                what,
                source: Box::new(source),
            })
        }
    }
}
