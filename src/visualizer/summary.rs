//! One task of a run in brief (the runs list and the run page): agent, model, status, best
//! values, rounds, start, duration and budget. A file that cannot be read becomes a warning on
//! the task, never a failed page.

use std::path::Path;
use std::time::SystemTime;

use serde::Serialize;

use super::files;
pub use super::files::optional_json;
use super::games;
use super::model::{finite, ConfigView, FinalView};
use super::paths::Root;
use super::status::{self, Status};

/// Marker files of a task directory (one is enough).
const TASK_MARKERS: [&str; 5] = [
    "final_result.json",
    "submissions",
    "run_agent.log",
    "started_at",
    "agent_output.txt",
];

/// A task of a run, in brief.
#[derive(Debug, Clone, Serialize)]
pub struct TaskSummary {
    pub task: String,
    pub agent: Option<String>,
    pub model: Option<String>,
    pub status: Status,
    pub best_pass_rate: Option<f64>,
    pub best_score: Option<f64>,
    pub best_round: Option<String>,
    pub rounds: usize,
    /// Seconds since the epoch.
    pub started_at: Option<f64>,
    /// Seconds from the start to the end (or to now while running).
    pub duration_seconds: Option<f64>,
    /// The agent's time budget in seconds.
    pub timeout_seconds: Option<f64>,
    pub phase_seconds: std::collections::BTreeMap<String, f64>,
    pub error: Option<String>,
    /// The recorded score direction (`final_result.json`, else `run_config.json`), if any.
    pub score_direction: Option<String>,
    /// Files that could not be read, with why.
    pub warnings: Vec<String>,
}

/// Whether `dir` looks like a task directory of a run.
#[must_use]
pub fn is_task_dir(dir: &Path) -> bool {
    TASK_MARKERS.iter().any(|m| dir.join(m).exists())
}

/// Seconds since the epoch recorded in `started_at` (its second line; the first is ISO text).
#[must_use]
pub fn started_at(root: &Root, task_dir: &Path) -> Option<f64> {
    let path = root.file(task_dir, "started_at").ok()?;
    let piece = files::read_head(&path, 256).ok()?;
    piece
        .text
        .lines()
        .filter_map(|line| line.trim().parse::<f64>().ok())
        .find(|t| t.is_finite() && *t > 0.0)
}

/// The summary of the task in `dir`, as of `now`.
#[must_use]
pub fn summarize(
    root: &Root,
    task: &str,
    dir: &Path,
    now: SystemTime,
    abort_threshold: u64,
) -> TaskSummary {
    let mut warnings = Vec::new();
    let final_result: Option<FinalView> =
        optional_json(root, &dir.join("final_result.json"), &mut warnings);
    let config: ConfigView =
        optional_json(root, &dir.join("run_config.json"), &mut warnings).unwrap_or_default();
    let history = games::history(root, dir, &mut warnings);
    let rounds = if history.entries.is_empty() {
        count_rounds(dir)
    } else {
        history.entries.len()
    };
    let started = started_at(root, dir);
    let status = match &final_result {
        Some(result) => Status::of_final(result),
        // Present but unreadable (the warning says why): the task ended, how is unknown.
        None if dir.join("final_result.json").exists() => Status::Error,
        None => Status::of_unfinished(status::newest_change(dir), now, abort_threshold),
    };
    let result = final_result.unwrap_or_default();
    let duration = if result.phase_seconds.is_empty() {
        match status {
            Status::Running => started
                .zip(crate::clock::seconds_of(now))
                .map(|(s, n)| n - s),
            _ => finite(result.runtime_seconds),
        }
    } else {
        Some(result.phase_seconds.values().sum())
    };
    TaskSummary {
        task: task.to_owned(),
        agent: result.agent.or(config.agent),
        model: result.model.or(config.model),
        status,
        best_pass_rate: finite(result.best_pass_rate),
        best_score: finite(result.best_score),
        best_round: result
            .best_round
            .filter(|r| !r.is_empty())
            .or(history.best_round),
        rounds,
        started_at: started,
        duration_seconds: finite(duration),
        timeout_seconds: finite(config.timeout),
        phase_seconds: result.phase_seconds,
        error: result.error,
        score_direction: result.score_direction.or(config.score_direction),
        warnings,
    }
}

/// Rounds on disk when there is no history yet (a running task).
fn count_rounds(dir: &Path) -> usize {
    std::fs::read_dir(dir.join("submissions")).map_or(0, |entries| {
        entries.take(100_000).filter_map(Result::ok).count()
    })
}
