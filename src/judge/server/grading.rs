//! The grading interface the server is given: jobs it hands to a [`Grader`], the outcomes it
//! records, and the selection [`Policy`] it asks for the best entry of a history.

use std::path::PathBuf;

use serde_json::Value;

use crate::judge::api::HistoryEntry;
pub use crate::judge::api::HistoryFields;

/// One accepted submission, handed to a [`Grader`] by a worker thread.
#[derive(Debug, Clone, PartialEq)]
pub struct GradeJob {
    pub submission_id: String,
    pub task_id: String,
    pub run_id: String,
    /// `agent-N` or `auto-N`.
    pub round: String,
    /// The uploaded archive. The server deletes it after [`Grader::grade`] returns, so a grader
    /// that wants to keep it copies or moves it.
    pub archive: PathBuf,
    pub judge_cpu_limit: Option<u32>,
    pub judge_mem_limit: Option<String>,
    /// The run's internet as registered (`None`: the task's own setting).
    pub internet: Option<bool>,
}

/// What grading produced.
#[derive(Debug, Clone, PartialEq)]
pub enum GradeOutcome {
    /// The report as `/result` shows it, and the fields copied into the history entry.
    Completed(Value, HistoryFields),
    /// An infrastructure failure (never a zero score): the reason shown as `error`.
    Error(String),
    /// Cut short by the judge's own shutdown: nothing is recorded, the journal grades the
    /// submission again at the next start.
    Abandoned,
}

/// Grades one submission; called from the bounded pool of grading workers.
pub trait Grader: Send + Sync {
    fn grade(&self, job: &GradeJob) -> GradeOutcome;

    /// A run registered for a task: a chance to prepare for its submissions (warm judge
    /// containers). Called on the request's thread, so it must not block.
    fn registered(&self, run: &RegisteredRun) {
        let _ = run;
    }
}

/// What a registration tells a [`Grader`] about the submissions to come.
#[derive(Debug, Clone, PartialEq)]
pub struct RegisteredRun {
    pub task_id: String,
    pub run_id: String,
    pub judge_cpu_limit: Option<u32>,
    pub judge_mem_limit: Option<String>,
    /// The run's internet (`None`: the task's own setting).
    pub internet: Option<bool>,
}

/// The best entry of a history, as `/history` reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct Best {
    pub best_score: Option<f64>,
    pub best_pass_rate: f64,
    pub best_round: String,
}

/// The task's selection policy (docs/compatibility.md#grading).
pub trait Policy: Send + Sync {
    /// Best over `entries` (already filtered for the view) for this task.
    fn best(&self, task_id: &str, entries: &[HistoryEntry]) -> Best;
}
