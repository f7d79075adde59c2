//! `RealRunner`: executes commands with `duct`, capturing output and enforcing timeouts.
//! Streaming uses the pipe reader in [`super::stream`].

use std::io;
use std::thread;
use std::time::{Duration, Instant};

use super::cmd::Cmd;
use super::error::ProcessError;
use super::output::{Output, Stream};
use super::runner::Runner;
use super::stream;

/// Longest pause between two checks whether a process with a timeout has exited.
const MAX_POLL: Duration = Duration::from_millis(50);

/// Runs commands for real. Each command is logged as `+ <cmd>` at debug level first.
///
/// Without stdin bytes a process reads `/dev/null`. On timeout only the direct child is
/// killed; output of a killed process is discarded.
#[derive(Debug, Default, Clone, Copy)]
pub struct RealRunner;

impl RealRunner {
    /// The runner that starts real processes.
    #[must_use]
    pub fn new() -> Self {
        Self
    }
}

impl Runner for RealRunner {
    fn run_unchecked(&self, cmd: &Cmd) -> Result<Output, ProcessError> {
        log::debug!("+ {cmd}");
        let handle = expression(cmd)
            .start()
            .map_err(|err| ProcessError::spawn(cmd, err))?;
        let io_error = |source| ProcessError::Io {
            cmd: Box::new(cmd.clone()),
            source,
        };
        if let Some(limit) = cmd.get_timeout() {
            let deadline = Instant::now() + limit;
            let finished = poll_until(deadline, || Ok(handle.try_wait()?.is_some()));
            if !finished.map_err(io_error)? {
                if let Err(err) = handle.kill() {
                    log::debug!("could not kill timed-out `{cmd}`: {err}");
                }
                return Err(timeout(cmd, limit));
            }
        }
        let output = handle.into_output().map_err(io_error)?;
        Ok(output.into())
    }

    fn run_streaming_unchecked(
        &self,
        cmd: &Cmd,
        on_line: &mut dyn FnMut(Stream, &str),
    ) -> Result<Output, ProcessError> {
        log::debug!("+ {cmd}");
        stream::run(cmd, on_line)
    }
}

/// The duct expression for `cmd`: inherited env plus `cmd`'s, both pipes captured, no
/// status check (the [`Runner`] methods decide that).
fn expression(cmd: &Cmd) -> duct::Expression {
    // The gateway itself: this is one of the two places allowed to start processes.
    #[allow(clippy::disallowed_methods)]
    let mut expr = duct::cmd(cmd.program(), cmd.get_args());
    for (key, value) in cmd.get_env() {
        expr = expr.env(key, &value.value);
    }
    if let Some(dir) = cmd.get_cwd() {
        expr = expr.dir(dir);
    }
    expr = match cmd.get_stdin() {
        Some(bytes) => expr.stdin_bytes(bytes),
        None => expr.stdin_null(),
    };
    expr.stdout_capture().stderr_capture().unchecked()
}

/// Calls `is_done` with growing pauses until it returns true (`Ok(true)`) or the
/// deadline passes (`Ok(false)`).
pub(super) fn poll_until(
    deadline: Instant,
    mut is_done: impl FnMut() -> io::Result<bool>,
) -> io::Result<bool> {
    let mut pause = Duration::from_millis(1);
    loop {
        if is_done()? {
            return Ok(true);
        }
        let now = Instant::now();
        if now >= deadline {
            return Ok(false);
        }
        thread::sleep(pause.min(deadline - now));
        pause = (pause * 2).min(MAX_POLL);
    }
}

pub(super) fn timeout(cmd: &Cmd, after: Duration) -> ProcessError {
    ProcessError::Timeout {
        cmd: Box::new(cmd.clone()),
        after,
    }
}

#[cfg(test)]
mod tests;
