//! Auto-eval: from the host, every interval (the first one interval after the start), the agent's
//! code is snapshotted and submitted as an `auto-N` round, which no budget or cooldown limits.

use std::io::Write;
use std::path::PathBuf;
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::Duration;

use super::error::RunError;
use super::judge_client::JudgeClient;
use super::workspace::{snapshot, SnapshotLimits};
use crate::sandbox::Sandbox;
use crate::task::Task;

/// A running auto-eval loop; [`AutoEval::stop`] ends it and waits for it.
pub struct AutoEval {
    stop: mpsc::Sender<()>,
    handle: JoinHandle<()>,
}

/// What the loop needs.
pub struct AutoEvalJob {
    pub interval: Duration,
    pub sandbox: Arc<dyn Sandbox>,
    pub container: String,
    pub task: Task,
    pub client: JudgeClient,
    pub token: String,
    /// `auto_eval_ticks.log`.
    pub ticks_log: PathBuf,
    pub limits: SnapshotLimits,
    /// Where each snapshot is written before it is submitted (removed afterwards).
    pub scratch: PathBuf,
}

impl AutoEval {
    #[must_use]
    pub fn start(job: AutoEvalJob) -> Self {
        let (stop, stopped) = mpsc::channel::<()>();
        let handle = std::thread::spawn(move || {
            while stopped.recv_timeout(job.interval) == Err(mpsc::RecvTimeoutError::Timeout) {
                tick(&job);
            }
        });
        AutoEval { stop, handle }
    }

    pub fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.handle.join();
    }
}

/// One round: snapshot, submit, log a line in `auto_eval_ticks.log`.
fn tick(job: &AutoEvalJob) {
    let submitted = snapshot(
        &*job.sandbox,
        &job.container,
        &job.task,
        job.limits,
        &job.scratch,
    )
    .map_err(RunError::from)
    .and_then(|size| {
        job.client
            .submit_file(&job.token, &job.scratch, "auto")
            .map(|s| (size, s))
            .map_err(RunError::from)
    });
    let _ = std::fs::remove_file(&job.scratch);
    let line = match submitted {
        Ok((size, s)) => format!(
            "submitted {size} bytes -> {} round={}",
            s.submission_id, s.round_id
        ),
        Err(e) => format!("error: {e}"),
    };
    let stamp = crate::clock::timestamp();
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&job.ticks_log)
    {
        let _ = writeln!(f, "[{stamp}] {line}");
    }
}
