//! `Cmd`: a subprocess invocation as plain data (program, args, env, stdin, cwd, timeout).
//! How it is shown (one pasteable `sh` line) lives in [`super::display`].

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::redact::MASK;

/// Leading and trailing bytes of each of stdout and stderr a command keeps in memory unless told
/// otherwise ([`Cmd::keep_output`]): every command's output is bounded, whoever controls it.
pub const KEEP_OUTPUT: (usize, usize) = (8 << 20, 8 << 20);

/// The value of one environment variable set for a command.
#[derive(Clone, PartialEq, Eq)]
pub struct EnvValue {
    /// The value passed to the process.
    pub value: String,
    /// Shown as `***` in logs, errors and dry-run scripts.
    pub secret: bool,
}

impl EnvValue {
    /// The value as it may be shown to a user.
    #[must_use]
    pub fn shown(&self) -> &str {
        if self.secret {
            MASK
        } else {
            &self.value
        }
    }
}

impl fmt::Debug for EnvValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.shown(), f)
    }
}

/// One subprocess invocation. Build it with [`Cmd::new`] and run it with a
/// [`Runner`](super::Runner). Commands mutate state unless marked [`Cmd::read_only`].
///
/// Env entries are added to the inherited environment. Without [`Cmd::stdin_bytes`] the
/// process reads from `/dev/null`. Pass secrets through [`Cmd::secret_env`] or
/// [`Cmd::secret_stdin_bytes`], never as arguments: arguments are shown everywhere.
#[derive(Clone, PartialEq, Eq)]
pub struct Cmd {
    program: String,
    args: Vec<String>,
    env: Vec<(String, EnvValue)>,
    stdin: Option<Vec<u8>>,
    stdin_secret: bool,
    stdin_file: Option<PathBuf>,
    stdout_file: Option<(PathBuf, u64)>,
    keep: (usize, usize),
    cwd: Option<PathBuf>,
    mutates: bool,
    timeout: Option<Duration>,
    note: Option<String>,
    replay_stdin: Option<super::replay::ReplayStdin>,
}

impl Cmd {
    /// A mutating command running `program` with no arguments.
    pub fn new(program: impl Into<String>) -> Self {
        Self {
            program: program.into(),
            args: Vec::new(),
            env: Vec::new(),
            stdin: None,
            stdin_secret: false,
            stdin_file: None,
            stdout_file: None,
            keep: KEEP_OUTPUT,
            cwd: None,
            mutates: true,
            timeout: None,
            note: None,
            replay_stdin: None,
        }
    }

    /// Appends one argument.
    #[must_use]
    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Appends several arguments.
    #[must_use]
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Sets an environment variable, replacing an earlier value for the same key.
    #[must_use]
    pub fn env(self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.set_env(key.into(), value.into(), false)
    }

    /// Sets an environment variable whose value is shown as `***`.
    #[must_use]
    pub fn secret_env(self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.set_env(key.into(), value.into(), true)
    }

    fn set_env(mut self, key: String, value: String, secret: bool) -> Self {
        let value = EnvValue { value, secret };
        match self.env.iter_mut().find(|(k, _)| *k == key) {
            Some(entry) => entry.1 = value,
            None => self.env.push((key, value)),
        }
        self
    }

    /// Feeds these bytes to the process on stdin.
    #[must_use]
    pub fn stdin_bytes(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(bytes.into());
        self.stdin_secret = false;
        self.stdin_file = None;
        self
    }

    /// Feeds these bytes on stdin and never shows them (for `--password-stdin`).
    #[must_use]
    pub fn secret_stdin_bytes(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(bytes.into());
        self.stdin_secret = true;
        self.stdin_file = None;
        self
    }

    /// How a printed plan produces this command's secret stdin when it is replayed (values read
    /// from the environment then); without it the plan cannot replay the command.
    #[must_use]
    pub fn replay_stdin(mut self, replay: super::replay::ReplayStdin) -> Self {
        self.replay_stdin = Some(replay);
        self
    }

    /// See [`Cmd::replay_stdin`].
    #[must_use]
    pub fn get_replay_stdin(&self) -> Option<&super::replay::ReplayStdin> {
        self.replay_stdin.as_ref()
    }

    /// Feeds the content of this file on stdin (large inputs: never held in memory).
    #[must_use]
    pub fn stdin_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.stdin = None;
        self.stdin_secret = false;
        self.stdin_file = Some(path.into());
        self
    }

    /// Writes stdout to this file (created or truncated) instead of memory; a process that
    /// writes more than `max_bytes` is killed and the command fails with
    /// [`ProcessError::OutputLimit`](super::ProcessError::OutputLimit).
    #[must_use]
    pub fn stdout_file(mut self, path: impl Into<PathBuf>, max_bytes: u64) -> Self {
        self.stdout_file = Some((path.into(), max_bytes));
        self
    }

    /// Keeps at most the first `head` and the last `tail` bytes of each of stdout and stderr in
    /// [`Output`](super::Output) (default [`KEEP_OUTPUT`]); streamed lines see everything.
    #[must_use]
    pub fn keep_output(mut self, head: usize, tail: usize) -> Self {
        self.keep = (head, tail);
        self
    }

    /// Runs the process in this directory.
    #[must_use]
    pub fn cwd(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cwd = Some(dir.into());
        self
    }

    /// Marks the command as changing state (the default): dry-run prints it instead.
    #[must_use]
    pub fn mutating(mut self) -> Self {
        self.mutates = true;
        self
    }

    /// Marks the command as a pure query: dry-run still runs it.
    #[must_use]
    pub fn read_only(mut self) -> Self {
        self.mutates = false;
        self
    }

    /// Kills the process and fails with a timeout error after this long.
    #[must_use]
    pub fn timeout(mut self, limit: Duration) -> Self {
        self.timeout = Some(limit);
        self
    }

    /// The program name or path.
    #[must_use]
    pub fn program(&self) -> &str {
        &self.program
    }

    /// The arguments, without the program.
    #[must_use]
    pub fn get_args(&self) -> &[String] {
        &self.args
    }

    /// Program followed by arguments.
    pub fn argv(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.program.as_str()).chain(self.args.iter().map(String::as_str))
    }

    /// The environment variables set for this command, in the order they were set.
    #[must_use]
    pub fn get_env(&self) -> &[(String, EnvValue)] {
        &self.env
    }

    /// The value of one environment variable set for this command.
    #[must_use]
    pub fn env_value(&self, key: &str) -> Option<&str> {
        self.env
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.value.as_str())
    }

    /// The bytes fed on stdin, if any.
    #[must_use]
    pub fn get_stdin(&self) -> Option<&[u8]> {
        self.stdin.as_deref()
    }

    /// The file fed on stdin, if any.
    #[must_use]
    pub fn get_stdin_file(&self) -> Option<&Path> {
        self.stdin_file.as_deref()
    }

    /// The file stdout goes to and the most bytes it may hold, if stdout goes to a file.
    #[must_use]
    pub fn get_stdout_file(&self) -> Option<(&Path, u64)> {
        self.stdout_file
            .as_ref()
            .map(|(p, max)| (p.as_path(), *max))
    }

    /// How many leading and trailing bytes of each stream are kept in memory.
    #[must_use]
    pub fn get_keep_output(&self) -> (usize, usize) {
        self.keep
    }

    /// Whether the stdin bytes must never be shown.
    #[must_use]
    pub fn is_stdin_secret(&self) -> bool {
        self.stdin_secret
    }

    /// The working directory, if not inherited.
    #[must_use]
    pub fn get_cwd(&self) -> Option<&Path> {
        self.cwd.as_deref()
    }

    /// Whether the command changes state.
    #[must_use]
    pub fn is_mutating(&self) -> bool {
        self.mutates
    }

    /// A remark for whoever replays the command (printed as a comment by dry runs).
    #[must_use]
    pub fn note(mut self, text: impl Into<String>) -> Self {
        self.note = Some(text.into());
        self
    }

    /// The remark, if any.
    #[must_use]
    pub fn get_note(&self) -> Option<&str> {
        self.note.as_deref()
    }

    /// The time limit, if any.
    #[must_use]
    pub fn get_timeout(&self) -> Option<Duration> {
        self.timeout
    }

    /// Secret values (env and stdin) that must be masked in any text shown to users.
    pub(crate) fn secrets(&self) -> impl Iterator<Item = &str> {
        let stdin = self
            .stdin
            .as_deref()
            .filter(|_| self.stdin_secret)
            .and_then(|b| std::str::from_utf8(b).ok())
            .map(str::trim);
        self.env
            .iter()
            .filter(|(_, v)| v.secret)
            .map(|(_, v)| v.value.as_str())
            .chain(stdin)
            .filter(|s| !s.is_empty())
    }

    /// The line dry-run prints; identical to `Display`.
    #[must_use]
    pub fn to_script_line(&self) -> String {
        self.to_string()
    }
}

impl fmt::Debug for Cmd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let stdin = self.stdin.as_ref().map(|b| format!("<{} bytes>", b.len()));
        f.debug_struct("Cmd")
            .field("program", &self.program)
            .field("args", &self.args)
            .field("env", &self.env)
            .field("stdin", &stdin)
            .field("stdin_secret", &self.stdin_secret)
            .field("stdin_file", &self.stdin_file)
            .field("stdout_file", &self.stdout_file)
            .field("keep", &self.keep)
            .field("cwd", &self.cwd)
            .field("mutates", &self.mutates)
            .field("timeout", &self.timeout)
            .field("note", &self.note)
            .field("replay_stdin", &self.replay_stdin.is_some())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_mutate_unless_marked_read_only() {
        assert!(Cmd::new("docker").is_mutating());
        assert!(!Cmd::new("docker").read_only().is_mutating());
        assert!(Cmd::new("docker").read_only().mutating().is_mutating());
    }

    #[test]
    fn secrets_include_secret_stdin_only() {
        let cmd = Cmd::new("docker").secret_stdin_bytes("pw\n").env("A", "x");
        assert_eq!(cmd.secrets().collect::<Vec<_>>(), ["pw"]);
        let cmd = Cmd::new("kubectl").stdin_bytes("kind: Pod");
        assert_eq!(cmd.secrets().count(), 0);
    }
}
