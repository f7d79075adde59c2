//! What a finished process left behind: its exit status and captured stdout/stderr.

use std::fmt;

/// How a process ended: an exit code, or the signal that killed it (Unix).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExitStatus {
    /// The exit code, if the process exited on its own.
    pub code: Option<i32>,
    /// The signal number, if a signal killed the process.
    pub signal: Option<i32>,
}

impl ExitStatus {
    /// Exit code 0.
    pub const SUCCESS: Self = Self::from_code(0);

    /// A process that exited with `code`.
    #[must_use]
    pub const fn from_code(code: i32) -> Self {
        Self {
            code: Some(code),
            signal: None,
        }
    }

    /// A process killed by `signal`.
    #[must_use]
    pub const fn from_signal(signal: i32) -> Self {
        Self {
            code: None,
            signal: Some(signal),
        }
    }

    /// Whether the process exited with code 0.
    #[must_use]
    pub fn success(self) -> bool {
        self.code == Some(0)
    }
}

impl From<std::process::ExitStatus> for ExitStatus {
    fn from(status: std::process::ExitStatus) -> Self {
        #[cfg(unix)]
        let signal = std::os::unix::process::ExitStatusExt::signal(&status);
        #[cfg(not(unix))]
        let signal = None;
        Self {
            code: status.code(),
            signal,
        }
    }
}

/// The conventional name of a signal and what it usually means.
pub(crate) fn signal_meaning(signal: i32) -> Option<(&'static str, &'static str)> {
    Some(match signal {
        1 => ("SIGHUP", "hangup"),
        2 => ("SIGINT", "interrupted"),
        3 => ("SIGQUIT", "quit"),
        4 => ("SIGILL", "illegal instruction"),
        6 => ("SIGABRT", "aborted"),
        7 => ("SIGBUS", "bus error"),
        8 => ("SIGFPE", "arithmetic error"),
        9 => ("SIGKILL", "killed — out of memory?"),
        11 => ("SIGSEGV", "segmentation fault"),
        13 => ("SIGPIPE", "broken pipe"),
        15 => ("SIGTERM", "terminated"),
        _ => return None,
    })
}

impl fmt::Display for ExitStatus {
    /// `exit status: 3`, `signal: 9, SIGKILL: killed — out of memory?`, and for the
    /// `128 + N` codes that shells and container engines use, the signal they stand for.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.code, self.signal) {
            (_, Some(signal)) => match signal_meaning(signal) {
                Some((name, meaning)) => write!(f, "signal: {signal}, {name}: {meaning}"),
                None => write!(f, "signal: {signal}"),
            },
            (Some(code), None) => {
                write!(f, "exit status: {code}")?;
                match code.checked_sub(128).and_then(signal_meaning) {
                    Some((name, meaning)) => {
                        write!(f, "; usually means {name}: {meaning}")
                    }
                    None => Ok(()),
                }
            }
            (None, None) => f.write_str("unknown exit status"),
        }
    }
}

/// Which pipe a line of streamed output came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

/// The result of a finished process. [`Output::default`] is a success with no output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    /// How the process ended.
    pub status: ExitStatus,
    /// What was written to stdout (its head and tail only, if it was longer than
    /// [`Cmd::keep_output`](super::Cmd::keep_output) allows).
    pub stdout: Vec<u8>,
    /// What was written to stderr (its head and tail if it was long).
    pub stderr: Vec<u8>,
}

impl Output {
    /// Exit code 0, nothing written.
    #[must_use]
    pub fn empty() -> Self {
        Self::with_stdout("")
    }

    /// Exit code 0 with this stdout (test doubles use this for scripted replies).
    #[must_use]
    pub fn with_stdout(stdout: impl Into<Vec<u8>>) -> Self {
        Self {
            status: ExitStatus::SUCCESS,
            stdout: stdout.into(),
            stderr: Vec::new(),
        }
    }

    /// Exit code `code` with this stderr (test doubles use this for scripted failures).
    #[must_use]
    pub fn failed(code: i32, stderr: impl Into<Vec<u8>>) -> Self {
        Self {
            status: ExitStatus::from_code(code),
            stdout: Vec::new(),
            stderr: stderr.into(),
        }
    }

    /// Whether the process exited with code 0.
    #[must_use]
    pub fn success(&self) -> bool {
        self.status.success()
    }

    /// Stdout as text (invalid UTF-8 replaced), without trailing whitespace.
    #[must_use]
    pub fn stdout_str(&self) -> String {
        lossy_trimmed(&self.stdout)
    }

    /// Stderr as text (invalid UTF-8 replaced), without trailing whitespace.
    #[must_use]
    pub fn stderr_str(&self) -> String {
        lossy_trimmed(&self.stderr)
    }

    /// Non-empty stdout lines, each trimmed.
    #[must_use]
    pub fn stdout_lines(&self) -> Vec<String> {
        String::from_utf8_lossy(&self.stdout)
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(String::from)
            .collect()
    }
}

impl Default for Output {
    fn default() -> Self {
        Self::empty()
    }
}

impl From<std::process::Output> for Output {
    fn from(output: std::process::Output) -> Self {
        Self {
            status: output.status.into(),
            stdout: output.stdout,
            stderr: output.stderr,
        }
    }
}

fn lossy_trimmed(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).trim_end().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_display_names_signals() {
        assert_eq!(ExitStatus::from_code(3).to_string(), "exit status: 3");
        assert_eq!(
            ExitStatus::from_signal(9).to_string(),
            "signal: 9, SIGKILL: killed — out of memory?"
        );
        assert_eq!(ExitStatus::from_signal(64).to_string(), "signal: 64");
    }

    #[test]
    fn exit_137_mentions_sigkill() {
        let shown = ExitStatus::from_code(137).to_string();
        assert_eq!(
            shown,
            "exit status: 137; usually means SIGKILL: killed — out of memory?"
        );
        assert_eq!(
            ExitStatus::from_code(143).to_string(),
            "exit status: 143; usually means SIGTERM: terminated"
        );
    }

    #[test]
    fn text_helpers_are_lossy_and_trimmed() {
        let out = Output::with_stdout(b"a \xff\n b\n\n".to_vec());
        assert_eq!(out.stdout_str(), "a \u{fffd}\n b");
        assert_eq!(out.stdout_lines(), ["a \u{fffd}", "b"]);
        assert!(Output::default().success());
        assert!(!Output::failed(1, "x").success());
    }
}
