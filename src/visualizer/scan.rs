//! The runs list: every run directory under the root with its tasks in brief, newest first,
//! bounded in count and cached for a few seconds so that a large runs directory and a page that
//! polls cost one scan, not one per request.

use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use serde::Serialize;

use super::error::VizError;
use super::paths::{is_safe_name, Root};
use super::status::Status;
use super::summary::{self, TaskSummary};

/// Most runs listed (the newest by modification time).
pub const MAX_RUNS: usize = 2000;
/// Most tasks read per run.
pub const MAX_TASKS: usize = 500;
/// How long a scan of the runs list is reused.
pub const CACHE_FOR: Duration = Duration::from_secs(3);

/// One run in brief.
#[derive(Debug, Clone, Serialize)]
pub struct RunSummary {
    pub run_id: String,
    pub agent: Option<String>,
    pub model: Option<String>,
    pub status: Status,
    pub task_count: usize,
    /// Mean of the tasks' best pass rates.
    pub pass_rate: Option<f64>,
    /// The best score of a single-task run.
    pub best_score: Option<f64>,
    pub started_at: Option<f64>,
    pub duration_seconds: Option<f64>,
    pub tasks: Vec<TaskSummary>,
}

/// The runs list and when it was made.
#[derive(Debug, Clone, Serialize)]
pub struct RunList {
    pub runs: Vec<RunSummary>,
    /// Run directories left out beyond [`MAX_RUNS`].
    pub left_out: usize,
}

/// Scans the root, reusing a scan younger than [`CACHE_FOR`].
pub struct Scanner {
    root: Root,
    abort_threshold: u64,
    cache: Mutex<Option<(Instant, RunList)>>,
}

impl Scanner {
    #[must_use]
    pub fn new(root: Root, abort_threshold: u64) -> Self {
        Scanner {
            root,
            abort_threshold,
            cache: Mutex::new(None),
        }
    }

    #[must_use]
    pub fn root(&self) -> &Root {
        &self.root
    }

    #[must_use]
    pub fn abort_threshold(&self) -> u64 {
        self.abort_threshold
    }

    /// The runs list (cached).
    pub fn runs(&self) -> RunList {
        let mut cache = self
            .cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((at, list)) = cache.as_ref() {
            if at.elapsed() < CACHE_FOR {
                return list.clone();
            }
        }
        let list = self.scan();
        *cache = Some((Instant::now(), list.clone()));
        list
    }

    fn scan(&self) -> RunList {
        let mut dirs = child_dirs(self.root.dir());
        dirs.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let left_out = dirs.len().saturating_sub(MAX_RUNS);
        let now = SystemTime::now();
        let runs = dirs
            .into_iter()
            .take(MAX_RUNS)
            .filter_map(|(name, _)| self.run(&name, now).ok())
            .filter(|run| run.task_count > 0)
            .collect();
        RunList { runs, left_out }
    }

    /// One run in brief (not cached).
    pub fn run(&self, run_id: &str, now: SystemTime) -> Result<RunSummary, VizError> {
        let dir = self.root.resolve(&[run_id])?;
        let mut tasks: Vec<TaskSummary> = child_dirs(&dir)
            .into_iter()
            .filter(|(name, _)| summary::is_task_dir(&dir.join(name)))
            .take(MAX_TASKS)
            .filter_map(|(name, _)| {
                let task_dir = self.root.resolve(&[run_id, &name]).ok()?;
                Some(summary::summarize(
                    &self.root,
                    &name,
                    &task_dir,
                    now,
                    self.abort_threshold,
                ))
            })
            .collect();
        tasks.sort_by(|a, b| a.task.cmp(&b.task));
        Ok(summarize_run(run_id, tasks))
    }
}

fn summarize_run(run_id: &str, tasks: Vec<TaskSummary>) -> RunSummary {
    let first = |f: fn(&TaskSummary) -> Option<String>| tasks.iter().find_map(f);
    let rates: Vec<f64> = tasks.iter().filter_map(|t| t.best_pass_rate).collect();
    #[allow(clippy::cast_precision_loss)]
    let pass_rate = (!rates.is_empty()).then(|| rates.iter().sum::<f64>() / rates.len() as f64);
    let started_at = tasks
        .iter()
        .filter_map(|t| t.started_at)
        .min_by(f64::total_cmp);
    let duration = tasks
        .iter()
        .filter_map(|t| t.duration_seconds)
        .max_by(f64::total_cmp);
    RunSummary {
        run_id: run_id.to_owned(),
        agent: first(|t| t.agent.clone()),
        model: first(|t| t.model.clone()),
        status: Status::of_run(tasks.iter().map(|t| t.status)),
        task_count: tasks.len(),
        pass_rate,
        best_score: if tasks.len() == 1 {
            tasks[0].best_score
        } else {
            None
        },
        started_at,
        duration_seconds: duration,
        tasks,
    }
}

/// The subdirectories of `dir` with safe names and their modification times (bounded).
fn child_dirs(dir: &Path) -> Vec<(String, SystemTime)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .take(100_000)
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            let meta = entry.metadata().ok()?;
            (meta.is_dir() && is_safe_name(&name))
                .then(|| (name, meta.modified().unwrap_or(SystemTime::UNIX_EPOCH)))
        })
        .collect()
}
