//! Running an exec under a deadline, shared by the backends: when the limit passes first, a
//! backend-specific kill command ends what runs in the container, so the exec returns.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use super::{ExecResult, SandboxError};
use crate::process::{Cmd, Runner};

/// Runs `cmd` (streaming its lines to `on_line`); with a `limit`, runs `kill` once it passes.
/// `fail` turns a failure to run `cmd` into the backend's error.
pub(super) fn exec_with_deadline(
    runner: &Arc<dyn Runner>,
    cmd: &Cmd,
    limit: Option<Duration>,
    kill: Cmd,
    on_line: &mut dyn FnMut(&str),
    fail: impl FnOnce(crate::process::ProcessError) -> SandboxError,
) -> Result<ExecResult, SandboxError> {
    let started = Instant::now();
    let timed_out = Arc::new(AtomicBool::new(false));
    let (done, finished) = mpsc::channel::<()>();
    let watchdog = limit.map(|limit| {
        let runner = Arc::clone(runner);
        let flag = Arc::clone(&timed_out);
        std::thread::spawn(move || {
            if finished.recv_timeout(limit) == Err(mpsc::RecvTimeoutError::Timeout) {
                flag.store(true, Ordering::SeqCst);
                let _ = runner.run_unchecked(&kill);
            }
        })
    });
    let result = runner.run_streaming_unchecked(cmd, &mut |_, line| on_line(line));
    let _ = done.send(());
    if let Some(handle) = watchdog {
        let _ = handle.join();
    }
    Ok(ExecResult {
        output: result.map_err(fail)?,
        timed_out: timed_out.load(Ordering::SeqCst),
        elapsed: started.elapsed(),
    })
}
