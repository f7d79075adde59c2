//! The warm judge pool (docs/architecture.md#the-warm-judge-pool): started judge containers kept
//! ready per container shape, so that grading skips container start-up, and used containers
//! removed in the background, so that grading skips their removal too. A pooled container grades
//! exactly one submission: it is handed out once and then only ever removed.

use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::sandbox::{ContainerSpec, Sandbox};

/// Background threads starting and removing containers.
const WORKERS: usize = 2;
/// A shape no submission asked for in this long gives its containers back.
const IDLE_RETIRE: Duration = Duration::from_secs(600);
/// After a container of a shape fails to start, no new one is tried for this long.
const START_BACKOFF: Duration = Duration::from_secs(30);
/// How long a shutdown waits for grading threads to finish starting their containers.
const SHUTDOWN_WAIT: Duration = Duration::from_secs(60);

/// Judge containers started ahead of need; see the module docs.
pub struct JudgePool {
    shared: Arc<Shared>,
    workers: Mutex<Vec<JoinHandle<()>>>,
}

struct Shared {
    sandbox: Arc<dyn Sandbox>,
    /// Ready containers kept per shape.
    size: usize,
    state: Mutex<State>,
    wake: Condvar,
}

impl JudgePool {
    /// A pool keeping `size` ready containers per shape (0: none; used containers are still
    /// removed in the background).
    #[must_use]
    pub fn new(sandbox: Arc<dyn Sandbox>, size: usize) -> Self {
        let shared = Arc::new(Shared {
            sandbox,
            size,
            state: Mutex::new(State::default()),
            wake: Condvar::new(),
        });
        let workers = (0..WORKERS)
            .map(|_| {
                let shared = Arc::clone(&shared);
                std::thread::spawn(move || shared.work())
            })
            .collect();
        JudgePool {
            shared,
            workers: Mutex::new(workers),
        }
    }

    /// Ready containers kept per shape.
    #[must_use]
    pub fn size(&self) -> usize {
        self.shared.size
    }

    /// Keep containers like `spec` (its name the prefix of theirs) ready, with `warmup` in them.
    pub fn warm(&self, spec: &ContainerSpec, warmup: &Warmup) {
        if self.shared.size == 0 {
            return;
        }
        let mut state = self.shared.lock();
        let key = state.shape(spec, warmup);
        if let Some(key) = key {
            self.shared.top_up(&mut state, &key);
        }
    }

    /// A ready container like `spec`, now the caller's (it must [`JudgePool::discard`] it); or
    /// `None` when none is ready. The shape is not topped up: [`JudgePool::warm`] does that.
    pub fn take(&self, spec: &ContainerSpec, warmup: &Warmup) -> Option<Pooled> {
        let mut state = self.shared.lock();
        let shape = state.shapes.get_mut(&shape_key(spec, warmup))?;
        shape.last_used = Instant::now();
        shape.ready.pop()
    }

    /// Remove `name` in the background (at once when the pool is stopping or enough removals
    /// wait already).
    pub fn discard(&self, name: String) {
        let mut state = self.shared.lock();
        if state.stopping || removals(&state.jobs) >= MAX_QUEUED_REMOVALS {
            drop(state);
            self.shared.remove(&name);
        } else {
            // Removals go first: they bound the containers alive, starts only save time.
            state.jobs.push_front(Job::Remove(name, Instant::now()));
            self.shared.wake.notify_one();
        }
    }

    /// Whether the pool stopped: the judge is shutting down, nothing more is to be started or
    /// graded.
    #[must_use]
    pub fn is_closed(&self) -> bool {
        self.shared.lock().stopping
    }

    /// Permission for a grading thread to start a container of its own, held while it does;
    /// `None` once the pool stopped. [`JudgePool::shutdown`] waits for the permissions given, so
    /// that whoever removes the judge containers after it sees every container started.
    #[must_use]
    pub fn begin_start(&self) -> Option<StartGate<'_>> {
        let mut state = self.shared.lock();
        if state.stopping {
            return None;
        }
        state.outside_starts += 1;
        Some(StartGate { pool: self })
    }

    /// A grading under way until the guard drops: refills and removals wait for it (see
    /// `DEFER`).
    #[must_use]
    pub fn grading(&self) -> GradingGuard<'_> {
        self.shared.lock().gradings += 1;
        GradingGuard { pool: self }
    }

    /// Containers ready now, over all shapes.
    #[must_use]
    pub fn ready(&self) -> usize {
        self.shared
            .lock()
            .shapes
            .values()
            .map(|s| s.ready.len())
            .sum()
    }

    /// Stop: remove the ready containers, finish the queued removals, start nothing more.
    /// Idempotent; also run on drop.
    pub fn shutdown(&self) {
        {
            let mut state = self.shared.lock();
            state.stopping = true;
            let ready: Vec<String> = state
                .shapes
                .values_mut()
                .flat_map(|s| s.ready.drain(..))
                .map(Pooled::handle)
                .collect();
            state.jobs.retain(|j| matches!(j, Job::Remove(..)));
            state
                .jobs
                .extend(ready.into_iter().map(|n| Job::Remove(n, Instant::now())));
            self.shared.wake.notify_all();
        }
        let workers =
            std::mem::take(&mut *self.workers.lock().unwrap_or_else(PoisonError::into_inner));
        for worker in workers {
            let _ = worker.join();
        }
        let deadline = Instant::now() + SHUTDOWN_WAIT;
        let mut state = self.shared.lock();
        while state.outside_starts > 0 && Instant::now() < deadline {
            state = self
                .shared
                .wake
                .wait_timeout(state, Duration::from_millis(100))
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }
}

impl Drop for JudgePool {
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queue starts until the shape has `size` containers ready or starting.
    fn top_up(&self, state: &mut State, key: &str) {
        if state.stopping {
            return;
        }
        let Some(shape) = state.shapes.get_mut(key) else {
            return;
        };
        if shape.backoff_until.is_some_and(|t| Instant::now() < t) {
            return;
        }
        while shape.ready.len() + shape.starting < self.size {
            shape.starting += 1;
            state
                .jobs
                .push_back(Job::Start(key.to_owned(), Instant::now()));
        }
        self.wake.notify_all();
    }

    /// A worker: runs jobs until the pool stops and no removal is left.
    fn work(&self) {
        let mut state = self.lock();
        loop {
            if state.jobs.is_empty() {
                if state.stopping {
                    return;
                }
                state = self.sleep(state, IDLE_RETIRE / 4);
                continue;
            }
            // The first job (in queue order) whose wait is over runs; otherwise sleep until the
            // earliest wait ends. Each job's wait counts from its own queuing, so a stream of
            // new removals at the front never holds back older jobs for longer than theirs.
            let waits: Vec<Option<Duration>> =
                state.jobs.iter().map(|job| state.wait_for(job)).collect();
            if let Some(ready) = waits.iter().position(Option::is_none) {
                let Some(job) = state.jobs.remove(ready) else {
                    continue;
                };
                drop(state);
                self.run(job);
                state = self.lock();
            } else {
                let wait = waits.into_iter().flatten().min().unwrap_or(DEFER);
                state = self.sleep(state, wait);
            }
        }
    }

    /// Waits for a wake-up or `wait`, then retires idle shapes.
    fn sleep<'a>(&self, state: MutexGuard<'a, State>, wait: Duration) -> MutexGuard<'a, State> {
        let mut state = self
            .wake
            .wait_timeout(state, wait)
            .unwrap_or_else(PoisonError::into_inner)
            .0;
        self.retire_idle(&mut state);
        state
    }

    fn run(&self, job: Job) {
        match job {
            Job::Remove(name, _) => self.remove(&name),
            Job::Start(key, _) => self.start(&key),
        }
    }

    fn remove(&self, name: &str) {
        if let Err(e) = self.sandbox.remove(name) {
            log::warn!("cannot remove judge container {name}: {e}");
        }
    }

    /// Start one container of shape `key`; it joins the ready ones (or is removed at once when
    /// the pool stopped meanwhile).
    fn start(&self, key: &str) {
        let (spec, warmup) = {
            let mut state = self.lock();
            let n = state.next;
            state.next += 1;
            let Some(shape) = state.shapes.get(key) else {
                return;
            };
            let mut spec = shape.spec.clone();
            spec.name = format!("{}-{}-{n}", spec.name, std::process::id());
            (spec, shape.warmup.clone())
        };
        let result = self.sandbox.start_with_id(&spec).and_then(|id| {
            if !warmup.file.is_empty() {
                self.sandbox
                    .copy_in(&spec.name, &warmup.dir, warmup.tar())?;
            }
            Ok(id)
        });
        let mut state = self.lock();
        let stopping = state.stopping;
        let shape = state.shapes.get_mut(key);
        match (result, shape) {
            (Ok(id), Some(shape)) if !stopping => {
                shape.starting -= 1;
                shape.ready.push(Pooled {
                    name: spec.name,
                    id,
                });
            }
            (result, shape) => {
                if let Some(shape) = shape {
                    shape.starting = shape.starting.saturating_sub(1);
                    if let Err(e) = &result {
                        log::warn!("cannot warm a judge container: {e}");
                        shape.backoff_until = Some(Instant::now() + START_BACKOFF);
                    }
                }
                drop(state);
                self.remove(&spec.name);
            }
        }
    }

    /// Give back the containers of shapes nobody asked for in [`IDLE_RETIRE`].
    fn retire_idle(&self, state: &mut State) {
        let idle: Vec<String> = state
            .shapes
            .iter()
            .filter(|(_, s)| s.starting == 0 && s.last_used.elapsed() >= IDLE_RETIRE)
            .map(|(k, _)| k.clone())
            .collect();
        for key in idle {
            if let Some(shape) = state.shapes.remove(&key) {
                state.jobs.extend(
                    shape
                        .ready
                        .into_iter()
                        .map(|p| Job::Remove(p.handle(), Instant::now())),
                );
            }
        }
        if !state.jobs.is_empty() {
            self.wake.notify_all();
        }
    }
}

mod guards;
mod items;
mod state;
#[cfg(test)]
mod tests;

pub use guards::{GradingGuard, StartGate};
pub use items::{Pooled, Warmup};
use state::{removals, shape_key, Job, State, DEFER, MAX_QUEUED_REMOVALS};
