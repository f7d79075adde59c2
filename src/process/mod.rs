//! The only place that starts subprocesses: [`Cmd`] (plain data), the [`Runner`] trait and
//! its real, dry-run and recording implementations, and errors that name the command.

mod capture;
mod children;
mod cmd;
mod display;
mod dry_run;
mod error;
mod output;
mod real;
mod recording;
pub mod replay;
mod runner;
mod spawn;

use std::sync::Arc;

pub use capture::HeadTail;
pub use children::{live_children, terminate_children};
pub use cmd::{Cmd, EnvValue, KEEP_OUTPUT};
pub use dry_run::{script_text, DryRunRunner, SCRIPT_HEADER};
pub use error::ProcessError;
pub use output::{ExitStatus, Output, Stream};
pub use real::RealRunner;
pub use recording::RecordingRunner;
pub use runner::Runner;

/// The runner for the product: real, or dry-run (queries run, mutations printed to stdout
/// as a `sh` script). Dry-run is decided here, once, not at call sites.
#[must_use]
pub fn runner(dry_run: bool) -> Arc<dyn Runner> {
    if dry_run {
        Arc::new(DryRunRunner::to_stdout(RealRunner::new()))
    } else {
        Arc::new(RealRunner::new())
    }
}

/// The runner of a printed plan that stays runnable when replayed: `lookups` open the script,
/// binary stdin is written under `stdin_dir`.
#[must_use]
pub fn plan_runner(
    lookups: Vec<replay::ReplayLookup>,
    stdin_dir: std::path::PathBuf,
) -> Arc<dyn Runner> {
    let runner = DryRunRunner::to_stdout(RealRunner::new())
        .with_lookups(lookups)
        .with_stdin_files(stdin_dir);
    if let Err(e) = runner.begin() {
        log::warn!("cannot write the plan: {e}");
    }
    Arc::new(runner)
}
