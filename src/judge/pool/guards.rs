//! The guards a grading thread holds while it grades and while it starts a container of its
//! own: refills wait for the first, a shutdown for the second.

use super::JudgePool;

/// A grading under way; see [`JudgePool::grading`].
pub struct GradingGuard<'a> {
    pub(super) pool: &'a JudgePool,
}

impl Drop for GradingGuard<'_> {
    fn drop(&mut self) {
        let mut state = self.pool.shared.lock();
        state.gradings -= 1;
        self.pool.shared.wake.notify_all();
    }
}

/// A grading thread's start of a container; see [`JudgePool::begin_start`].
pub struct StartGate<'a> {
    pub(super) pool: &'a JudgePool,
}

impl Drop for StartGate<'_> {
    fn drop(&mut self) {
        let mut state = self.pool.shared.lock();
        state.outside_starts -= 1;
        self.pool.shared.wake.notify_all();
    }
}
