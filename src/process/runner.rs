//! The `Runner` trait: the one interface through which the product executes a [`Cmd`].

use std::sync::Arc;

use super::cmd::Cmd;
use super::error::ProcessError;
use super::output::{Output, Stream};

/// Executes commands. Implementations: [`RealRunner`](super::RealRunner),
/// [`DryRunRunner`](super::DryRunRunner) and the test double
/// [`RecordingRunner`](super::RecordingRunner).
///
/// Implementors provide the two `*_unchecked` methods; the checked ones turn a
/// non-zero exit or a signal into [`ProcessError::Exit`] / [`ProcessError::Signal`].
pub trait Runner: Send + Sync {
    /// Runs `cmd` to completion and returns its output whatever the exit status.
    ///
    /// # Errors
    /// Only if it could not run ([`ProcessError::NotFound`], [`ProcessError::Io`]) or
    /// timed out ([`ProcessError::Timeout`]).
    fn run_unchecked(&self, cmd: &Cmd) -> Result<Output, ProcessError>;

    /// Like [`Runner::run_unchecked`], and also hands each stdout/stderr line (without
    /// its line ending) to `on_line` as it arrives. The returned output holds every byte.
    ///
    /// # Errors
    /// As [`Runner::run_unchecked`].
    fn run_streaming_unchecked(
        &self,
        cmd: &Cmd,
        on_line: &mut dyn FnMut(Stream, &str),
    ) -> Result<Output, ProcessError>;

    /// Runs `cmd` and fails unless it exits with code 0.
    ///
    /// # Errors
    /// As [`Runner::run_unchecked`], plus [`ProcessError::Exit`] for a non-zero exit code
    /// and [`ProcessError::Signal`] for a process killed by a signal.
    fn run(&self, cmd: &Cmd) -> Result<Output, ProcessError> {
        ProcessError::check(cmd, self.run_unchecked(cmd)?)
    }

    /// Streams `cmd`'s lines to `on_line` and fails unless it exits with code 0.
    ///
    /// # Errors
    /// As [`Runner::run`].
    fn run_streaming(
        &self,
        cmd: &Cmd,
        on_line: &mut dyn FnMut(Stream, &str),
    ) -> Result<Output, ProcessError> {
        ProcessError::check(cmd, self.run_streaming_unchecked(cmd, on_line)?)
    }

    /// Whether this runner prints a plan instead of changing anything (dry run): checks that
    /// cannot answer then become warnings instead of errors (docs/architecture.md#plans).
    fn is_plan(&self) -> bool {
        false
    }

    /// In a plan, `text` as a `# warning:` comment of the script (and on stderr); elsewhere
    /// nothing.
    fn plan_warning(&self, text: &str) {
        let _ = text;
    }
}

macro_rules! forward_runner {
    ($($ptr:ty),*) => {$(
        impl<R: Runner + ?Sized> Runner for $ptr {
            fn run_unchecked(&self, cmd: &Cmd) -> Result<Output, ProcessError> {
                (**self).run_unchecked(cmd)
            }

            fn run_streaming_unchecked(
                &self,
                cmd: &Cmd,
                on_line: &mut dyn FnMut(Stream, &str),
            ) -> Result<Output, ProcessError> {
                (**self).run_streaming_unchecked(cmd, on_line)
            }

            fn run(&self, cmd: &Cmd) -> Result<Output, ProcessError> {
                (**self).run(cmd)
            }

            fn run_streaming(
                &self,
                cmd: &Cmd,
                on_line: &mut dyn FnMut(Stream, &str),
            ) -> Result<Output, ProcessError> {
                (**self).run_streaming(cmd, on_line)
            }

            fn is_plan(&self) -> bool {
                (**self).is_plan()
            }

            fn plan_warning(&self, text: &str) {
                (**self).plan_warning(text);
            }
        }
    )*};
}

forward_runner!(&R, Box<R>, Arc<R>);
