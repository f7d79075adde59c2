//! Grading many submissions at once (`sforge eval` with several archives, `sforge eval --run`):
//! a fixed number of gradings in flight, each on the judge's warm pool when it has one.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use super::error::JudgeError;
use super::grading::Report;
use super::pipeline::{Judge, Submission};

/// Grade every submission, at most `jobs` at once; the results in the submissions' order.
/// `done` is told of each result as it comes (one at a time).
pub fn grade_all(
    judge: &Judge,
    subs: &[Submission<'_>],
    jobs: usize,
    done: &(dyn Fn(usize, &Result<Report, JudgeError>) + Sync),
) -> Vec<Result<Report, JudgeError>> {
    let next = AtomicUsize::new(0);
    let one_at_a_time = Mutex::new(());
    let mut graded: Vec<(usize, Result<Report, JudgeError>)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..jobs.clamp(1, subs.len().max(1)))
            .map(|_| {
                scope.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::SeqCst);
                        let Some(sub) = subs.get(i) else {
                            break;
                        };
                        let result = if judge.pool.is_closed() {
                            Err(JudgeError::Stopping)
                        } else {
                            judge.grade(sub, &mut |_| {})
                        };
                        {
                            let _turn = one_at_a_time.lock();
                            done(i, &result);
                        }
                        mine.push((i, result));
                    }
                    mine
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| {
                w.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    });
    graded.sort_by_key(|(i, _)| *i);
    graded.into_iter().map(|(_, r)| r).collect()
}
