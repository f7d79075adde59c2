//! The production grader and selection policy behind `sforge serve`: each job is graded by the
//! container pipeline; the best submission follows the task's own selection policy.

use std::collections::HashMap;

use super::container::JudgeLimits;
use super::error::JudgeError;
use super::grading::{select_best, Report};
use super::pipeline::{Judge, Submission};
use super::server::{Best, GradeJob, GradeOutcome, Grader, HistoryFields, Policy, RegisteredRun};
use crate::task::Task;

/// Grades server jobs in judge containers.
pub struct ContainerGrader {
    pub judge: Judge,
    pub tasks: HashMap<String, Task>,
    /// Judges of tasks graded on another backend than `judge`'s (mixed experiments).
    pub per_task: HashMap<String, Judge>,
}

impl ContainerGrader {
    pub(crate) fn judge_of(&self, task_id: &str) -> &Judge {
        self.per_task.get(task_id).unwrap_or(&self.judge)
    }
}

impl Grader for ContainerGrader {
    fn registered(&self, run: &RegisteredRun) {
        // Game tasks are played in game containers, never graded: nothing to warm.
        let Some(task) = self.tasks.get(&run.task_id).filter(|t| !t.game_mode) else {
            return;
        };
        let limits = JudgeLimits {
            cpu: run.judge_cpu_limit,
            mem: run.judge_mem_limit.clone(),
            internet: run.internet,
        };
        if let Err(e) = self.judge_of(&run.task_id).warm(task, &run.run_id, &limits) {
            log::warn!("cannot warm judge containers for task {}: {e}", run.task_id);
        }
    }

    fn grade(&self, job: &GradeJob) -> GradeOutcome {
        let Some(task) = self.tasks.get(&job.task_id) else {
            return GradeOutcome::Error(format!("unknown task {}", job.task_id));
        };
        let submission = Submission {
            task,
            run_id: &job.run_id,
            submission_id: &job.submission_id,
            round: &job.round,
            archive: &job.archive,
            timeout: None,
            limits: JudgeLimits {
                cpu: job.judge_cpu_limit,
                mem: job.judge_mem_limit.clone(),
                internet: job.internet,
            },
            dir: None,
        };
        match self.judge_of(&job.task_id).grade(&submission, &mut |_| {}) {
            Ok(report) => GradeOutcome::Completed(report.result_value(), history_fields(&report)),
            Err(JudgeError::Stopping) => GradeOutcome::Abandoned,
            Err(e) => GradeOutcome::Error(e.to_string()),
        }
    }
}

/// The fields a history entry carries after grading.
#[must_use]
pub fn history_fields(r: &Report) -> HistoryFields {
    let count = |n: i64| u64::try_from(n).unwrap_or(0);
    HistoryFields {
        pass_rate: r.pass_rate,
        score: r.score,
        passed: count(r.passed),
        failed: count(r.failed),
        total_tests: count(r.total_tests),
        valid: r.valid,
        summary: r.summary.clone(),
    }
}

/// Best-submission selection with each task's `selection` and `score_direction`.
pub struct TaskPolicy {
    pub tasks: HashMap<String, Task>,
}

impl Policy for TaskPolicy {
    fn best(&self, task_id: &str, entries: &[crate::judge::api::HistoryEntry]) -> Best {
        let (selection, direction) = self.tasks.get(task_id).map_or(
            (
                crate::task::Selection::PassRateFirst,
                crate::task::ScoreDirection::Maximize,
            ),
            |t| (t.judge.selection, t.judge.score_direction),
        );
        let best = select_best(entries, selection, direction);
        Best {
            best_score: best.best_score,
            best_pass_rate: best.best_pass_rate,
            best_round: best.best_round,
        }
    }
}
