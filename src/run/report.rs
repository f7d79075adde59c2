//! What a run did: each task's final result or why it could not run.

use std::path::PathBuf;

use super::error::RunError;
use super::outputs::FinalResult;

/// What a run did.
pub struct RunReport {
    pub run_id: String,
    pub run_dir: PathBuf,
    /// In task order; `Err` when the task could not run at all.
    pub outcomes: Vec<(String, Result<FinalResult, RunError>)>,
    pub interrupted: bool,
}

impl RunReport {
    /// Every task ran to a result without error.
    #[must_use]
    pub fn all_succeeded(&self) -> bool {
        self.outcomes
            .iter()
            .all(|(_, r)| r.as_ref().is_ok_and(|r| r.error.is_none()))
    }
}
