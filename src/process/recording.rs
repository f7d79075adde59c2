//! `RecordingRunner`: a test double that records every command and answers from a script of
//! replies. Public (not `cfg(test)`) so unit and integration tests across the crate share it.

use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};

use super::cmd::Cmd;
use super::error::ProcessError;
use super::output::{Output, Stream};
use super::runner::Runner;

type Reply = Box<dyn Fn(&Cmd) -> Result<Output, ProcessError> + Send + Sync>;

/// Test double: records each [`Cmd`] and starts nothing.
///
/// Replies come from the first rule whose argv prefix (program, then arguments) matches,
/// else from the fallback, else a successful empty [`Output`]. A scripted non-zero
/// [`Output`] becomes an error through [`Runner::run`], as from a real process.
///
/// ```
/// # use sforge::process::{Cmd, Output, RecordingRunner, Runner};
/// let runner = RecordingRunner::new()
///     .on_output(&["docker", "image", "inspect"], Output::failed(1, "No such image"));
/// let query = Cmd::new("docker").args(["image", "inspect", "x"]).read_only();
/// assert!(runner.run(&query).is_err());
/// assert_eq!(runner.command_lines(), ["docker image inspect x"]);
/// ```
#[derive(Default)]
pub struct RecordingRunner {
    rules: Vec<(Vec<String>, Reply)>,
    fallback: Option<Reply>,
    commands: Mutex<Vec<Cmd>>,
}

impl RecordingRunner {
    /// A runner that answers every command with success and no output.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Answers commands whose argv starts with `argv_prefix` by calling `reply`.
    #[must_use]
    pub fn on<F>(mut self, argv_prefix: &[&str], reply: F) -> Self
    where
        F: Fn(&Cmd) -> Result<Output, ProcessError> + Send + Sync + 'static,
    {
        let prefix = argv_prefix.iter().map(ToString::to_string).collect();
        self.rules.push((prefix, Box::new(reply)));
        self
    }

    /// Answers commands whose argv starts with `argv_prefix` with `output`, every time.
    #[must_use]
    pub fn on_output(self, argv_prefix: &[&str], output: Output) -> Self {
        self.on(argv_prefix, move |_| Ok(output.clone()))
    }

    /// Answers matching commands with `outputs` in turn, repeating the last one
    /// (for polling: "starting", "starting", "running").
    #[must_use]
    pub fn on_outputs(self, argv_prefix: &[&str], outputs: Vec<Output>) -> Self {
        let queue = Mutex::new(VecDeque::from(outputs));
        self.on(argv_prefix, move |_| {
            let mut queue = queue.lock().unwrap_or_else(PoisonError::into_inner);
            let next = if queue.len() > 1 {
                queue.pop_front()
            } else {
                queue.front().cloned()
            };
            Ok(next.unwrap_or_default())
        })
    }

    /// Answers commands that match no rule by calling `reply`.
    #[must_use]
    pub fn otherwise<F>(mut self, reply: F) -> Self
    where
        F: Fn(&Cmd) -> Result<Output, ProcessError> + Send + Sync + 'static,
    {
        self.fallback = Some(Box::new(reply));
        self
    }

    /// Every command run so far, in order.
    #[must_use]
    pub fn commands(&self) -> Vec<Cmd> {
        self.lock().clone()
    }

    /// Every command run so far as its displayed line (secrets masked), for golden files.
    #[must_use]
    pub fn command_lines(&self) -> Vec<String> {
        self.lock().iter().map(ToString::to_string).collect()
    }

    /// Forgets the commands recorded so far; the replies stay.
    pub fn clear(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Cmd>> {
        self.commands.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn reply(&self, cmd: &Cmd) -> Result<Output, ProcessError> {
        self.lock().push(cmd.clone());
        let argv: Vec<&str> = cmd.argv().collect();
        let rule = self.rules.iter().find(|(prefix, _)| {
            argv.starts_with(&prefix.iter().map(String::as_str).collect::<Vec<_>>())
        });
        match (rule, &self.fallback) {
            (Some((_, reply)), _) | (None, Some(reply)) => reply(cmd),
            (None, None) => Ok(Output::empty()),
        }
    }
}

impl Runner for RecordingRunner {
    fn run_unchecked(&self, cmd: &Cmd) -> Result<Output, ProcessError> {
        self.reply(cmd)
    }

    /// Delivers the scripted stdout lines, then the stderr lines.
    fn run_streaming_unchecked(
        &self,
        cmd: &Cmd,
        on_line: &mut dyn FnMut(Stream, &str),
    ) -> Result<Output, ProcessError> {
        let output = self.reply(cmd)?;
        for (stream, bytes) in [
            (Stream::Stdout, &output.stdout),
            (Stream::Stderr, &output.stderr),
        ] {
            for line in String::from_utf8_lossy(bytes).lines() {
                on_line(stream, line);
            }
        }
        Ok(output)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_commands_and_replies_by_prefix() {
        let runner = RecordingRunner::new()
            .on_output(&["docker", "ps"], Output::with_stdout("abc\n"))
            .on_output(&["docker"], Output::failed(125, "daemon down"));
        let ps = Cmd::new("docker").args(["ps", "-q"]).read_only();
        assert_eq!(
            runner.run(&ps).expect("scripted success").stdout_str(),
            "abc"
        );
        let rm = Cmd::new("docker").args(["rm", "x"]);
        let err = runner.run(&rm).expect_err("scripted failure");
        assert_eq!(err.exit_code(), Some(125));
        assert_eq!(
            runner.run_unchecked(&rm).expect("unchecked").status.code,
            Some(125)
        );
        assert!(runner
            .run(&Cmd::new("kubectl"))
            .expect("default")
            .stdout
            .is_empty());
        assert_eq!(runner.commands(), [ps, rm.clone(), rm, Cmd::new("kubectl")]);
    }

    #[test]
    fn sequences_repeat_their_last_reply_and_fallback_sees_the_cmd() {
        let runner = RecordingRunner::new()
            .on_outputs(
                &["poll"],
                vec![Output::with_stdout("a"), Output::with_stdout("b")],
            )
            .otherwise(|cmd| {
                Err(ProcessError::NotFound {
                    cmd: Box::new(cmd.clone()),
                })
            });
        let poll = Cmd::new("poll");
        let replies: Vec<String> = (0..3)
            .map(|_| runner.run(&poll).expect("scripted").stdout_str())
            .collect();
        assert_eq!(replies, ["a", "b", "b"]);
        assert!(runner
            .run(&Cmd::new("other"))
            .expect_err("fallback")
            .is_not_found());
        runner.clear();
        assert!(runner.commands().is_empty());
    }

    #[test]
    fn streaming_delivers_scripted_lines() {
        let mut output = Output::failed(2, "e1\n");
        output.stdout = b"o1\no2\n".to_vec();
        let runner = RecordingRunner::new().on_output(&["build"], output);
        let mut lines = Vec::new();
        let err = runner
            .run_streaming(&Cmd::new("build"), &mut |s, l| {
                lines.push((s, l.to_string()));
            })
            .expect_err("exit 2");
        assert_eq!(err.exit_code(), Some(2));
        let expected = [
            (Stream::Stdout, "o1"),
            (Stream::Stdout, "o2"),
            (Stream::Stderr, "e1"),
        ];
        assert_eq!(lines, expected.map(|(s, l)| (s, l.to_string())));
    }
}
