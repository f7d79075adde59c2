//! A task's status from its files: done, timed-out, interrupted or error from
//! `final_result.json`; without one, running, or aborted when nothing changed for longer than
//! `SFORGE_VIZ_ABORT_THRESHOLD` seconds (7200 by default).

use std::path::Path;
use std::time::SystemTime;

use serde::Serialize;

use super::model::FinalView;

/// Default of `SFORGE_VIZ_ABORT_THRESHOLD`: seconds without a change after which a task without a
/// final result counts as aborted.
pub const ABORT_THRESHOLD_SECS: u64 = 7200;

/// A task's (or a run's) status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Running,
    Interrupted,
    Error,
    Aborted,
    TimedOut,
    Done,
}

impl Status {
    /// The status of a finished task.
    #[must_use]
    pub fn of_final(result: &FinalView) -> Status {
        if result.interrupted == Some(true) {
            Status::Interrupted
        } else if result.error.is_some() {
            Status::Error
        } else if result.timed_out == Some(true) {
            Status::TimedOut
        } else {
            Status::Done
        }
    }

    /// The status of a task without a final result whose newest file changed at `newest`.
    #[must_use]
    pub fn of_unfinished(newest: Option<SystemTime>, now: SystemTime, threshold: u64) -> Status {
        let idle = newest
            .and_then(|t| now.duration_since(t).ok())
            .map_or(u64::MAX, |d| d.as_secs());
        if idle > threshold {
            Status::Aborted
        } else {
            Status::Running
        }
    }

    /// A run's status: the most pressing of its tasks' (running first, done last).
    #[must_use]
    pub fn of_run(tasks: impl Iterator<Item = Status>) -> Status {
        tasks.min().unwrap_or(Status::Aborted)
    }
}

/// The newest modification time among the files a running task keeps writing.
#[must_use]
pub fn newest_change(task_dir: &Path) -> Option<SystemTime> {
    [
        "agent_output.txt",
        "run_agent.log",
        "submissions",
        "started_at",
        "run_config.json",
    ]
    .iter()
    .filter_map(|name| std::fs::metadata(task_dir.join(name)).ok())
    .filter_map(|meta| meta.modified().ok())
    .max()
}

/// `SFORGE_VIZ_ABORT_THRESHOLD` when it is a whole number of seconds, else the default.
#[must_use]
pub fn abort_threshold(value: Option<&str>) -> u64 {
    value
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(ABORT_THRESHOLD_SECS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn statuses_follow_the_final_result_and_idle_time() {
        let done = FinalView::default();
        assert_eq!(Status::of_final(&done), Status::Done);
        let stopped = FinalView {
            interrupted: Some(true),
            timed_out: Some(true),
            ..FinalView::default()
        };
        assert_eq!(Status::of_final(&stopped), Status::Interrupted);
        let now = SystemTime::now();
        let recent = now - Duration::from_secs(10);
        let old = now - Duration::from_secs(8000);
        assert_eq!(
            Status::of_unfinished(Some(recent), now, 7200),
            Status::Running
        );
        assert_eq!(Status::of_unfinished(Some(old), now, 7200), Status::Aborted);
        assert_eq!(Status::of_unfinished(None, now, 7200), Status::Aborted);
        let run = Status::of_run([Status::Done, Status::Running].into_iter());
        assert_eq!(run, Status::Running);
        assert_eq!(abort_threshold(Some("60")), 60);
        assert_eq!(abort_threshold(Some("x")), ABORT_THRESHOLD_SECS);
    }
}
