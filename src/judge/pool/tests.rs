//! The pool against an in-memory sandbox double (the real engine is exercised by
//! `tests/judge_e2e.rs`): one hand-out per container, refills, back-off, shutdown.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::state::MAX_SHAPES;
use super::*;
use crate::sandbox::{ExecResult, ExecSpec, SandboxError};

/// Containers as names: started, copied into, removed; `fail` makes starts fail.
#[derive(Default)]
struct Double {
    alive: Mutex<BTreeSet<String>>,
    started: Mutex<Vec<String>>,
    removed: Mutex<Vec<String>>,
    copies: Mutex<Vec<(String, String)>>,
    fail: AtomicBool,
}

impl Sandbox for Double {
    fn start(&self, spec: &ContainerSpec) -> Result<(), SandboxError> {
        self.started.lock().unwrap().push(spec.name.clone());
        if self.fail.load(Ordering::SeqCst) {
            return Err(SandboxError::Failed {
                name: spec.name.clone(),
                message: "no such image".into(),
            });
        }
        self.alive.lock().unwrap().insert(spec.name.clone());
        Ok(())
    }
    fn exec(
        &self,
        _: &str,
        _: &ExecSpec,
        _: &mut dyn FnMut(&str),
    ) -> Result<ExecResult, SandboxError> {
        unreachable!("the pool runs nothing in its containers")
    }
    fn copy_in(&self, name: &str, dir: &str, _: Vec<u8>) -> Result<(), SandboxError> {
        self.copies
            .lock()
            .unwrap()
            .push((name.to_owned(), dir.to_owned()));
        Ok(())
    }
    fn copy_in_file(&self, _: &str, _: &str, _: &Path) -> Result<(), SandboxError> {
        unreachable!()
    }
    fn copy_out(&self, _: &str, _: &str, _: &Path, _: u64) -> Result<(), SandboxError> {
        unreachable!()
    }
    fn logs(&self, _: &str) -> Result<String, SandboxError> {
        unreachable!()
    }
    fn remove(&self, name: &str) -> Result<(), SandboxError> {
        self.alive.lock().unwrap().remove(name);
        self.removed.lock().unwrap().push(name.to_owned());
        Ok(())
    }
}

fn spec(run: &str) -> ContainerSpec {
    ContainerSpec {
        name: "b.judge.t.warm".into(),
        image: "b.judge.t:1".into(),
        labels: [("sforge.run-id".to_owned(), run.to_owned())].into(),
        ..ContainerSpec::default()
    }
}

fn warmup() -> Warmup {
    Warmup {
        dir: "/tmp".into(),
        file: "eval.sh".into(),
        content: b"echo hi".to_vec(),
    }
}

/// Waits (a generous bound: this is not a timing test) until `done` holds.
fn until(what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(Instant::now() < deadline, "never: {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn every_container_is_handed_out_once_and_replaced_after_use() {
    let double = Arc::new(Double::default());
    let pool = JudgePool::new(double.clone(), 2);
    pool.warm(&spec("r"), &warmup());
    until("two ready", || pool.ready() == 2);
    let mut handed = BTreeSet::new();
    for _ in 0..6 {
        until("a ready one", || pool.ready() > 0);
        let Pooled { name, id } = pool.take(&spec("r"), &warmup()).expect("a warm container");
        assert_eq!(id, None, "the double has no ids");
        assert!(handed.insert(name.clone()), "{name} handed out twice");
        assert!(name.starts_with("b.judge.t.warm-"), "{name}");
        pool.discard(name);
        pool.warm(&spec("r"), &warmup());
    }
    until("refilled", || pool.ready() == 2);
    let copies = double.copies.lock().unwrap().clone();
    assert!(
        copies.iter().all(|(_, dir)| dir == "/tmp"),
        "every container got eval.sh: {copies:?}"
    );
    pool.shutdown();
    assert!(double.alive.lock().unwrap().is_empty(), "left alive");
}

#[test]
fn shapes_are_kept_apart() {
    let double = Arc::new(Double::default());
    let pool = JudgePool::new(double.clone(), 1);
    pool.warm(&spec("run-a"), &warmup());
    until("one ready", || pool.ready() == 1);
    assert_eq!(pool.take(&spec("run-b"), &warmup()), None);
    let other = Warmup {
        content: b"echo other task".to_vec(),
        ..warmup()
    };
    assert_eq!(pool.take(&spec("run-a"), &other), None);
    assert!(pool.take(&spec("run-a"), &warmup()).is_some());
}

#[test]
fn a_shape_that_cannot_start_backs_off() {
    let double = Arc::new(Double::default());
    double.fail.store(true, Ordering::SeqCst);
    let pool = JudgePool::new(double.clone(), 3);
    pool.warm(&spec("r"), &warmup());
    until("three attempts", || {
        double.started.lock().unwrap().len() == 3
    });
    for _ in 0..10 {
        pool.warm(&spec("r"), &warmup());
    }
    pool.shutdown();
    assert_eq!(
        double.started.lock().unwrap().len(),
        3,
        "no new start during the back-off"
    );
    let removed = double.removed.lock().unwrap().len();
    assert_eq!(removed, 3, "failed starts are cleaned up");
}

#[test]
fn shutdown_removes_ready_and_used_containers_and_starts_nothing_more() {
    let double = Arc::new(Double::default());
    let pool = JudgePool::new(double.clone(), 2);
    pool.warm(&spec("r"), &warmup());
    until("two ready", || pool.ready() == 2);
    let used = pool.take(&spec("r"), &warmup()).expect("warm");
    pool.discard(used.handle());
    pool.shutdown();
    assert!(double.alive.lock().unwrap().is_empty());
    let started = double.started.lock().unwrap().len();
    pool.warm(&spec("r"), &warmup());
    pool.discard("late".into());
    assert_eq!(double.started.lock().unwrap().len(), started);
    assert!(double.removed.lock().unwrap().contains(&"late".to_owned()));
}

#[test]
fn without_a_pool_used_containers_are_still_removed() {
    let double = Arc::new(Double::default());
    let pool = JudgePool::new(double.clone(), 0);
    pool.warm(&spec("r"), &warmup());
    assert_eq!(pool.take(&spec("r"), &warmup()), None);
    double.alive.lock().unwrap().insert("used".into());
    pool.discard("used".into());
    drop(pool);
    assert!(double.started.lock().unwrap().is_empty());
    assert!(double.alive.lock().unwrap().is_empty());
}

#[test]
fn shapes_beyond_the_bound_are_not_kept() {
    let double = Arc::new(Double::default());
    let pool = JudgePool::new(double.clone(), 1);
    for i in 0..MAX_SHAPES + 5 {
        pool.warm(&spec(&format!("run-{i}")), &warmup());
    }
    until("all kept shapes ready", || pool.ready() == MAX_SHAPES);
    pool.shutdown();
    assert_eq!(double.started.lock().unwrap().len(), MAX_SHAPES);
}

#[test]
fn refills_wait_for_the_gradings_and_a_closed_pool_starts_nothing() {
    let double = Arc::new(Double::default());
    let pool = JudgePool::new(double.clone(), 1);
    let grading = pool.grading();
    pool.warm(&spec("r"), &warmup());
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        double.started.lock().unwrap().is_empty(),
        "a refill ran during a grading"
    );
    drop(grading);
    until("the refill after the grading", || pool.ready() == 1);
    let gate = pool.begin_start().expect("open pool");
    drop(gate);
    pool.shutdown();
    assert!(pool.is_closed());
    assert!(
        pool.begin_start().is_none(),
        "a closed pool let a start through"
    );
}
