//! `RealRunner`: executes commands for real through the one spawn path ([`super::spawn`]),
//! capturing output and enforcing timeouts.

use super::cmd::Cmd;
use super::error::ProcessError;
use super::output::{Output, Stream};
use super::runner::Runner;
use super::spawn;

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
        spawn::run(cmd, None)
    }

    fn run_streaming_unchecked(
        &self,
        cmd: &Cmd,
        on_line: &mut dyn FnMut(Stream, &str),
    ) -> Result<Output, ProcessError> {
        log::debug!("+ {cmd}");
        spawn::run(cmd, Some(on_line))
    }
}

#[cfg(test)]
mod tests;
