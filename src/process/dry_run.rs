//! `DryRunRunner`: runs read-only queries for real and prints every mutating command as a
//! line of a runnable `sh` script instead of running it.

use std::fmt::Write as _;
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use super::cmd::Cmd;
use super::error::ProcessError;
use super::output::{Output, Stream};
use super::runner::Runner;

/// Printed once, before the first command.
pub const SCRIPT_HEADER: &str = "#!/bin/sh\nset -eu\n";
/// Here-document delimiter for stdin; a suffix is added if the text contains it.
const HEREDOC_END: &str = "SFORGE_STDIN";

/// Wraps another runner: commands marked [`Cmd::read_only`] go to it, mutating ones are
/// written to the script and answered with a successful, empty [`Output`].
///
/// Stdin is rendered so the script stays runnable: UTF-8 text becomes a quoted
/// here-document (`cmd <<'SFORGE_STDIN'`, no expansion inside). Secret or binary stdin is
/// not shown; a comment line `# the next command reads N bytes on stdin (secret, not shown)`
/// precedes the command, which then reads the script's own stdin.
pub struct DryRunRunner {
    inner: Box<dyn Runner>,
    out: Arc<Mutex<dyn Write + Send>>,
    header_written: AtomicBool,
    /// Whether a closed `out` ends the process (the script goes to stdout and its reader, say
    /// `head`, has seen enough).
    exit_when_closed: bool,
}

impl DryRunRunner {
    /// Runs read-only commands with `inner` and writes the script to `out`.
    pub fn new(inner: impl Runner + 'static, out: Arc<Mutex<dyn Write + Send>>) -> Self {
        Self {
            inner: Box::new(inner),
            out,
            header_written: AtomicBool::new(false),
            exit_when_closed: false,
        }
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
        let text = script_text(cmd);
        let mut out = self.out.lock().unwrap_or_else(PoisonError::into_inner);
        let write = |out: &mut dyn Write| -> io::Result<()> {
            if !self.header_written.swap(true, Ordering::SeqCst) {
                out.write_all(SCRIPT_HEADER.as_bytes())?;
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
        written.map_err(|source| ProcessError::DryRunWrite {
            cmd: Box::new(cmd.clone()),
            source,
        })?;
        Ok(Output::empty())
    }
}

impl Runner for DryRunRunner {
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

/// The script text for one command, ending in a newline.
#[must_use]
pub fn script_text(cmd: &Cmd) -> String {
    match cmd.get_note() {
        Some(note) => format!("# {note}\n{}", command_text(cmd)),
        None => command_text(cmd),
    }
}

fn command_text(cmd: &Cmd) -> String {
    let line = cmd.to_script_line();
    let Some(stdin) = cmd.get_stdin() else {
        return format!("{line}\n");
    };
    let text = std::str::from_utf8(stdin)
        .ok()
        .filter(|t| !t.contains('\0'));
    match text {
        Some(text) if !cmd.is_stdin_secret() => heredoc(&line, text),
        _ => {
            let kind = if cmd.is_stdin_secret() {
                "secret"
            } else {
                "binary"
            };
            let n = stdin.len();
            format!("# the next command reads {n} bytes on stdin ({kind}, not shown)\n{line}\n")
        }
    }
}

/// `line <<'END'`, the text, and `END`, with a delimiter that no line of the text equals.
fn heredoc(line: &str, text: &str) -> String {
    let mut end = HEREDOC_END.to_string();
    for n in 1.. {
        if !text.lines().any(|l| l == end) {
            break;
        }
        end = format!("{HEREDOC_END}_{n}");
    }
    let mut out = String::new();
    if !text.is_empty() && !text.ends_with('\n') {
        out.push_str("# the here-document below adds a final newline\n");
    }
    let _ = write!(out, "{line} <<'{end}'\n{text}");
    if !text.is_empty() && !text.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(&end);
    out.push('\n');
    out
}

#[cfg(test)]
mod tests;
