//! `DryRunRunner`: runs read-only queries for real and prints every mutating command as a
//! line of a runnable `sh` script instead of running it.

use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use super::cmd::Cmd;
use super::error::ProcessError;
use super::output::{Output, Stream};
use super::replay::ReplayLookup;
use super::runner::Runner;
use script::{Context, StdinFiles};

mod script;

/// Printed once, before the first command.
pub const SCRIPT_HEADER: &str = "#!/bin/sh\nset -eu\n";

/// Wraps another runner: commands marked [`Cmd::read_only`] go to it, mutating ones are
/// written to the script and answered with a successful, empty [`Output`].
///
/// The script runs as printed (docs/architecture.md#plans): UTF-8 stdin becomes a quoted
/// here-document (`cmd <<'SFORGE_STDIN'`, no expansion inside), binary stdin a file under
/// [`DryRunRunner::with_stdin_files`], secret stdin the command's [`Cmd::replay_stdin`], and
/// secret env values `${NAME:?…}` references to the replaying shell's environment. Secret
/// stdin without a replay form is not shown; a comment line says so.
pub struct DryRunRunner {
    inner: Box<dyn Runner>,
    out: Arc<Mutex<dyn Write + Send>>,
    header_written: AtomicBool,
    /// Whether a closed `out` ends the process (the script goes to stdout and its reader, say
    /// `head`, has seen enough).
    exit_when_closed: bool,
    /// Hosts resolved when the script is replayed; their lines open the script.
    lookups: Vec<ReplayLookup>,
    files: Option<StdinFiles>,
}

impl DryRunRunner {
    /// Runs read-only commands with `inner` and writes the script to `out`.
    pub fn new(inner: impl Runner + 'static, out: Arc<Mutex<dyn Write + Send>>) -> Self {
        Self {
            inner: Box::new(inner),
            out,
            header_written: AtomicBool::new(false),
            exit_when_closed: false,
            lookups: Vec::new(),
            files: None,
        }
    }

    /// Hosts whose addresses the script looks up when replayed (see [`ReplayLookup`]).
    #[must_use]
    pub fn with_lookups(mut self, lookups: Vec<ReplayLookup>) -> Self {
        self.lookups = lookups;
        self
    }

    /// Binary stdin goes to files in `dir`, which the script reads.
    #[must_use]
    pub fn with_stdin_files(mut self, dir: PathBuf) -> Self {
        self.files = Some(StdinFiles::new(dir));
        self
    }

    /// Runs read-only commands with `inner` and writes the script to stdout.
    pub fn to_stdout(inner: impl Runner + 'static) -> Self {
        Self {
            exit_when_closed: true,
            ..Self::new(inner, Arc::new(Mutex::new(io::stdout())))
        }
    }

    fn print(&self, cmd: &Cmd) -> Result<Output, ProcessError> {
        log::debug!("dry run, not running: {cmd}");
        let ctx = Context {
            lookups: &self.lookups,
            files: self.files.as_ref(),
        };
        let text = script::render(cmd, ctx).map_err(|source| ProcessError::DryRunWrite {
            cmd: Box::new(cmd.clone()),
            source,
        })?;
        self.write_text(&text)
            .map_err(|source| ProcessError::DryRunWrite {
                cmd: Box::new(cmd.clone()),
                source,
            })?;
        Ok(Output::empty())
    }

    /// Writes the header (with the replay lookups) now, so that text printed around the
    /// commands (`outln!`) comes after it.
    pub fn begin(&self) -> io::Result<()> {
        self.write_text("")
    }

    /// Writes the header (once, with the replay lookups), then `text`.
    fn write_text(&self, text: &str) -> io::Result<()> {
        let mut out = self.out.lock().unwrap_or_else(PoisonError::into_inner);
        let write = |out: &mut dyn Write| -> io::Result<()> {
            if !self.header_written.swap(true, Ordering::SeqCst) {
                out.write_all(SCRIPT_HEADER.as_bytes())?;
                for lookup in &self.lookups {
                    out.write_all(lookup.prelude().as_bytes())?;
                }
            }
            out.write_all(text.as_bytes())?;
            out.flush()
        };
        let written = write(&mut *out);
        if let Err(e) = &written {
            if self.exit_when_closed && e.kind() == io::ErrorKind::BrokenPipe {
                // A dry run has started nothing that needs cleaning up: end quietly, with the
                // status of a program killed by SIGPIPE.
                std::process::exit(141);
            }
        }
        written
    }
}

impl Runner for DryRunRunner {
    fn is_plan(&self) -> bool {
        true
    }

    fn plan_warning(&self, text: &str) {
        log::warn!("{text}");
        let mut comment = String::new();
        for (i, line) in text.lines().enumerate() {
            let lead = if i == 0 { "# warning: " } else { "#   " };
            comment.push_str(lead);
            comment.push_str(line);
            comment.push('\n');
        }
        if let Err(e) = self.write_text(&comment) {
            log::warn!("cannot write the plan: {e}");
        }
    }

    fn run_unchecked(&self, cmd: &Cmd) -> Result<Output, ProcessError> {
        if cmd.is_mutating() {
            self.print(cmd)
        } else {
            self.inner.run_unchecked(cmd)
        }
    }

    fn run_streaming_unchecked(
        &self,
        cmd: &Cmd,
        on_line: &mut dyn FnMut(Stream, &str),
    ) -> Result<Output, ProcessError> {
        if cmd.is_mutating() {
            self.print(cmd)
        } else {
            self.inner.run_streaming_unchecked(cmd, on_line)
        }
    }
}

/// The script text for one command, ending in a newline (no replay lookups, no stdin files:
/// binary stdin is not shown).
#[must_use]
pub fn script_text(cmd: &Cmd) -> String {
    script::render(cmd, Context::default()).unwrap_or_default()
}

#[cfg(test)]
mod tests;
