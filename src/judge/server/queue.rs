//! Bounded grading: a FIFO queue of accepted submissions and a fixed pool of worker threads that
//! call the [`Grader`], so at most `judge_concurrency` gradings run at once.

use std::collections::VecDeque;
use std::fs;
use std::io;
use std::panic::{self, AssertUnwindSafe};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use super::grading::{GradeJob, GradeOutcome, Grader};
use super::service::Judge;

/// The FIFO of jobs waiting for a worker.
#[derive(Debug, Default)]
pub struct JobQueue {
    inner: Mutex<QueueState>,
    changed: Condvar,
}

#[derive(Debug, Default)]
struct QueueState {
    jobs: VecDeque<GradeJob>,
    closed: bool,
    active: usize,
}

impl JobQueue {
    fn lock(&self) -> MutexGuard<'_, QueueState> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues a job (after its submission is journaled).
    pub fn push(&self, job: GradeJob) {
        self.lock().jobs.push_back(job);
        self.changed.notify_all();
    }

    /// Jobs waiting for a worker.
    #[must_use]
    #[allow(clippy::len_without_is_empty)]
    pub fn len(&self) -> usize {
        self.lock().jobs.len()
    }

    /// Stops handing out jobs: workers exit after their current job; queued jobs stay in the
    /// journal and are graded at the next start.
    pub fn close(&self) {
        self.lock().closed = true;
        self.changed.notify_all();
    }

    /// Waits up to `grace` for running jobs to finish; true when none is left.
    pub fn wait_idle(&self, grace: Duration) -> bool {
        let deadline = Instant::now() + grace;
        let mut state = self.lock();
        while state.active > 0 {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            state = self
                .changed
                .wait_timeout(state, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        true
    }

    /// The next job, blocking while the queue is empty; `None` once closed.
    fn pop(&self) -> Option<GradeJob> {
        let mut state = self.lock();
        loop {
            if state.closed {
                return None;
            }
            if let Some(job) = state.jobs.pop_front() {
                state.active += 1;
                return Some(job);
            }
            state = self
                .changed
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    fn done(&self) {
        let mut state = self.lock();
        state.active = state.active.saturating_sub(1);
        drop(state);
        self.changed.notify_all();
    }
}

/// Starts `count` grading workers.
pub fn spawn_workers(
    count: usize,
    queue: &Arc<JobQueue>,
    judge: &Arc<Judge>,
    grader: &Arc<dyn Grader>,
) -> io::Result<Vec<JoinHandle<()>>> {
    (0..count.max(1))
        .map(|i| {
            let (queue, judge, grader) = (queue.clone(), judge.clone(), grader.clone());
            thread::Builder::new()
                .name(format!("judge-grader-{i}"))
                .spawn(move || {
                    while let Some(job) = queue.pop() {
                        run_job(&judge, grader.as_ref(), &job);
                        queue.done();
                    }
                })
        })
        .collect()
}

/// Grades one job; a panicking grader is an infrastructure error, not a crash of the judge.
fn run_job(judge: &Judge, grader: &dyn Grader, job: &GradeJob) {
    judge.set_running(&job.submission_id);
    log::info!(
        "grading {} ({} {} {})",
        job.submission_id,
        job.run_id,
        job.task_id,
        job.round
    );
    let outcome =
        panic::catch_unwind(AssertUnwindSafe(|| grader.grade(job))).unwrap_or_else(|payload| {
            let what = payload
                .downcast_ref::<&str>()
                .map(ToString::to_string)
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            GradeOutcome::Error(format!("grader panicked: {what}"))
        });
    if judge.finish(&job.submission_id, outcome) && job.archive.exists() {
        let _ = fs::remove_file(&job.archive);
    }
}
