//! `ProcessError`: why a command failed, naming the quoted command, its exit status or signal,
//! and the last lines of its stderr (or stdout), in the style of cargo's `ProcessError`.

use std::fmt::Write as _;
use std::io;
use std::time::Duration;

use super::cmd::Cmd;
use super::output::Output;

/// How many trailing lines of stderr (or stdout) an error shows.
const TAIL_LINES: usize = 20;

/// A command that could not be started, failed, or ran too long.
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    /// The program does not exist (not on `PATH`, or no such file).
    #[error("{}", not_found_message(cmd))]
    NotFound {
        /// The command that could not start.
        cmd: Box<Cmd>,
    },
    /// Starting or waiting for the process failed for another reason.
    #[error("could not run `{cmd}`")]
    Io {
        /// The command that could not run.
        cmd: Box<Cmd>,
        /// The operating system's error.
        source: io::Error,
    },
    /// The process exited with a non-zero code.
    #[error("{}", failure_message(cmd, output))]
    Exit {
        /// The command that failed.
        cmd: Box<Cmd>,
        /// Its exit code.
        code: i32,
        /// Everything it printed.
        output: Output,
    },
    /// A signal killed the process.
    #[error("{}", failure_message(cmd, output))]
    Signal {
        /// The command that was killed.
        cmd: Box<Cmd>,
        /// The signal number.
        signal: i32,
        /// Everything it printed before it died.
        output: Output,
    },
    /// The process outlived its timeout and was killed.
    #[error("process timed out after {after:?} and was killed: `{cmd}`")]
    Timeout {
        /// The command that ran too long.
        cmd: Box<Cmd>,
        /// The timeout it exceeded.
        after: Duration,
    },
    /// Dry-run could not print the script line for a command.
    #[error("could not write the dry-run line for `{cmd}`")]
    DryRunWrite {
        /// The command being printed.
        cmd: Box<Cmd>,
        /// The writer's error.
        source: io::Error,
    },
}

impl ProcessError {
    /// `Ok(output)` if the process succeeded.
    ///
    /// # Errors
    /// [`ProcessError::Signal`] if a signal killed it, else [`ProcessError::Exit`].
    pub fn check(cmd: &Cmd, output: Output) -> Result<Output, Self> {
        if output.success() {
            return Ok(output);
        }
        let cmd = Box::new(cmd.clone());
        Err(match (output.status.signal, output.status.code) {
            (Some(signal), _) => Self::Signal {
                cmd,
                signal,
                output,
            },
            (None, code) => Self::Exit {
                cmd,
                code: code.unwrap_or(-1),
                output,
            },
        })
    }

    /// Classifies an error from starting `cmd`: a missing program becomes `NotFound`.
    pub(crate) fn spawn(cmd: &Cmd, err: io::Error) -> Self {
        let cmd = Box::new(cmd.clone());
        if err.kind() != io::ErrorKind::NotFound {
            return Self::Io { cmd, source: err };
        }
        match cmd.get_cwd().filter(|dir| !dir.is_dir()) {
            Some(dir) => {
                let msg = format!("working directory {} does not exist", dir.display());
                Self::Io {
                    source: io::Error::new(io::ErrorKind::NotFound, msg),
                    cmd,
                }
            }
            None => Self::NotFound { cmd },
        }
    }

    /// The command this error is about.
    #[must_use]
    pub fn cmd(&self) -> &Cmd {
        match self {
            Self::NotFound { cmd }
            | Self::Io { cmd, .. }
            | Self::Exit { cmd, .. }
            | Self::Signal { cmd, .. }
            | Self::Timeout { cmd, .. }
            | Self::DryRunWrite { cmd, .. } => cmd,
        }
    }

    /// The exit code, if the process exited with one.
    #[must_use]
    pub fn exit_code(&self) -> Option<i32> {
        match self {
            Self::Exit { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// The signal that killed the process, if one did.
    #[must_use]
    pub fn signal(&self) -> Option<i32> {
        match self {
            Self::Signal { signal, .. } => Some(*signal),
            _ => None,
        }
    }

    /// The captured output, if the process ran to the end.
    #[must_use]
    pub fn output(&self) -> Option<&Output> {
        match self {
            Self::Exit { output, .. } | Self::Signal { output, .. } => Some(output),
            _ => None,
        }
    }

    /// The captured stderr; empty if the process never finished.
    #[must_use]
    pub fn stderr(&self) -> &[u8] {
        self.output().map_or(&[], |o| &o.stderr)
    }

    /// The captured stdout; empty if the process never finished.
    #[must_use]
    pub fn stdout(&self) -> &[u8] {
        self.output().map_or(&[], |o| &o.stdout)
    }

    /// Whether the program could not be found.
    #[must_use]
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::NotFound { .. })
    }

    /// Whether the process was killed for exceeding its timeout.
    #[must_use]
    pub fn is_timeout(&self) -> bool {
        matches!(self, Self::Timeout { .. })
    }
}

fn not_found_message(cmd: &Cmd) -> String {
    let program = cmd.program();
    if program.contains('/') {
        format!("{program} not found: no such file (command: `{cmd}`)")
    } else {
        format!(
            "{program} not found on PATH: install it or add its directory to PATH (command: `{cmd}`)"
        )
    }
}

/// ``process didn't exit successfully: `cmd` (exit status: 3)`` then the stderr tail,
/// or the stdout tail when stderr is empty, with secrets masked.
fn failure_message(cmd: &Cmd, output: &Output) -> String {
    let mut msg = format!(
        "process didn't exit successfully: `{cmd}` ({})",
        output.status
    );
    let (name, bytes) = if output.stderr.iter().all(u8::is_ascii_whitespace) {
        ("stdout", &output.stdout)
    } else {
        ("stderr", &output.stderr)
    };
    let text = String::from_utf8_lossy(bytes);
    let lines: Vec<&str> = text.trim_end().lines().collect();
    if lines.is_empty() {
        return msg;
    }
    let _ = write!(msg, "\n--- {name}");
    let skipped = lines.len().saturating_sub(TAIL_LINES);
    if skipped > 0 {
        let _ = write!(msg, "\n... ({skipped} earlier lines not shown)");
    }
    for line in &lines[skipped..] {
        msg.push('\n');
        msg.push_str(&mask_secrets(cmd, line));
    }
    msg
}

fn mask_secrets(cmd: &Cmd, line: &str) -> String {
    crate::redact::mask(
        line,
        cmd.secrets()
            .filter(|s| s.len() >= crate::redact::MIN_SECRET_LEN),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::ExitStatus;

    fn failed(cmd: &Cmd, output: Output) -> ProcessError {
        ProcessError::check(cmd, output).expect_err("non-zero status")
    }

    #[test]
    fn exit_error_reads_like_cargo() {
        let cmd = Cmd::new("sh").args(["-c", "exit 3"]);
        let err = failed(&cmd, Output::failed(3, "oops\n"));
        assert_eq!(
            err.to_string(),
            "process didn't exit successfully: `sh -c 'exit 3'` (exit status: 3)\n--- stderr\noops"
        );
        assert_eq!(err.exit_code(), Some(3));
        assert_eq!(err.stderr(), b"oops\n");
        assert_eq!(err.cmd(), &cmd);
    }

    #[test]
    fn stdout_tail_is_shown_when_stderr_is_empty() {
        let mut output = Output::failed(1, "\n");
        output.stdout = b"progress\nfatal: boom\n".to_vec();
        let err = failed(&Cmd::new("git"), output);
        assert!(
            err.to_string()
                .ends_with("--- stdout\nprogress\nfatal: boom"),
            "{err}"
        );
    }

    #[test]
    fn only_the_last_lines_are_shown() {
        let stderr: String = (1..=50).fold(String::new(), |mut s, i| {
            let _ = writeln!(s, "line {i}");
            s
        });
        let err = failed(&Cmd::new("x"), Output::failed(1, stderr));
        let shown = err.to_string();
        assert!(shown.contains("... (30 earlier lines not shown)\nline 31\n"));
        assert!(!shown.contains("line 30\n"));
        assert!(shown.ends_with("line 50"));
    }

    #[test]
    fn secrets_are_masked_in_the_tail() {
        let cmd = Cmd::new("login").secret_env("TOKEN", "hunter2");
        let err = failed(&cmd, Output::failed(1, "bad token hunter2\n"));
        let shown = err.to_string();
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("bad token ***"));
    }

    #[test]
    fn signal_error_names_the_signal() {
        let output = Output {
            status: ExitStatus::from_signal(9),
            ..Output::empty()
        };
        let err = failed(&Cmd::new("big-build"), output);
        assert_eq!(err.signal(), Some(9));
        assert_eq!(
            err.to_string(),
            "process didn't exit successfully: `big-build` (signal: 9, SIGKILL: killed — out of memory?)"
        );
    }

    #[test]
    fn missing_program_and_missing_cwd_are_told_apart() {
        let gone = || io::Error::from(io::ErrorKind::NotFound);
        let err = ProcessError::spawn(&Cmd::new("docker").arg("ps"), gone());
        assert!(err.is_not_found());
        assert!(err
            .to_string()
            .starts_with("docker not found on PATH: install it"));
        let err = ProcessError::spawn(&Cmd::new("ls").cwd("/no/such/dir"), gone());
        assert!(!err.is_not_found());
        let source = std::error::Error::source(&err).map(ToString::to_string);
        assert_eq!(
            source.as_deref(),
            Some("working directory /no/such/dir does not exist")
        );
    }
}
