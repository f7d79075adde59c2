//! The pool's bookkeeping: shapes and their ready containers, the job queue, and when a queued
//! job may run (docs/architecture.md#the-warm-judge-pool).

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use super::items::{Pooled, Warmup};
use crate::sandbox::ContainerSpec;

/// Shapes kept warm at once; a new shape beyond it is graded cold until an idle one retires.
pub(super) const MAX_SHAPES: usize = 64;
/// Removals waiting for a worker; beyond them the grading thread removes its container itself,
/// so that used containers never pile up when the engine is slow. A used container is one idle
/// process: 32 of them hold back less than a burst gains by removing them after it.
pub(super) const MAX_QUEUED_REMOVALS: usize = 32;
/// How long a refill or a removal may wait for the gradings under way to end.
pub(super) const DEFER: Duration = Duration::from_secs(2);
/// How long a refill may wait for them while its shape still has ready containers (a burst
/// served from a full pool is not slowed by starting the next pool's containers meanwhile).
pub(super) const DEFER_STOCKED: Duration = Duration::from_secs(10);

#[derive(Default)]
pub(super) struct State {
    pub(super) shapes: HashMap<String, Shape>,
    pub(super) jobs: VecDeque<Job>,
    pub(super) stopping: bool,
    /// Gradings under way ([`JudgePool::grading`]).
    pub(super) gradings: usize,
    /// Containers being started by grading threads ([`JudgePool::begin_start`]).
    pub(super) outside_starts: usize,
    /// Numbers the pooled containers' names.
    pub(super) next: u64,
}

/// One container shape: every field of the spec but its name, and the warm-up.
pub(super) struct Shape {
    pub(super) spec: ContainerSpec,
    pub(super) warmup: Warmup,
    pub(super) ready: Vec<Pooled>,
    pub(super) starting: usize,
    pub(super) last_used: Instant,
    pub(super) backoff_until: Option<Instant>,
}

pub(super) enum Job {
    /// Start a container of a shape; queued at that instant.
    Start(String, Instant),
    /// Remove a container; queued at that instant.
    Remove(String, Instant),
}

impl State {
    /// How much longer `job` is to wait: refills and removals wait while gradings run (a burst
    /// grades faster when the engine does only its work), but not longer than `DEFER` from their
    /// queuing (`DEFER_STOCKED` for a refill of a shape with containers ready); removals not at
    /// all once three quarters of the removal queue are full. `None`: it may run now.
    pub(super) fn wait_for(&self, job: &Job) -> Option<Duration> {
        if self.gradings == 0 || self.stopping {
            return None;
        }
        match job {
            Job::Start(key, queued) => {
                let stocked = self.shapes.get(key).is_some_and(|s| !s.ready.is_empty());
                let limit = if stocked { DEFER_STOCKED } else { DEFER };
                limit.checked_sub(queued.elapsed())
            }
            Job::Remove(_, queued) => {
                if removals(&self.jobs) >= MAX_QUEUED_REMOVALS * 3 / 4 {
                    None
                } else {
                    DEFER.checked_sub(queued.elapsed())
                }
            }
        }
    }

    /// The key of `spec`'s shape, registered when new; `None` when too many shapes are kept.
    pub(super) fn shape(&mut self, spec: &ContainerSpec, warmup: &Warmup) -> Option<String> {
        let key = shape_key(spec, warmup);
        if let Some(shape) = self.shapes.get_mut(&key) {
            shape.last_used = Instant::now();
            return Some(key);
        }
        if self.stopping || self.shapes.len() >= MAX_SHAPES {
            return None;
        }
        self.shapes.insert(
            key.clone(),
            Shape {
                spec: spec.clone(),
                warmup: warmup.clone(),
                ready: Vec::new(),
                starting: 0,
                last_used: Instant::now(),
                backoff_until: None,
            },
        );
        Some(key)
    }
}

/// Removals queued.
pub(super) fn removals(jobs: &VecDeque<Job>) -> usize {
    jobs.iter().filter(|j| matches!(j, Job::Remove(..))).count()
}

/// Everything that makes two containers interchangeable: the spec but its name, and the
/// warm-up (hashed: the environment may hold secrets).
pub(super) fn shape_key(spec: &ContainerSpec, warmup: &Warmup) -> String {
    let mut unnamed = spec.clone();
    unnamed.name.clear();
    let mut hash = Sha256::new();
    hash.update(format!("{unnamed:?}").as_bytes());
    for part in [
        warmup.dir.as_bytes(),
        warmup.file.as_bytes(),
        &warmup.content,
    ] {
        hash.update(part.len().to_le_bytes());
        hash.update(part);
    }
    format!("{:x}", hash.finalize())
}
