//! `RecordingRunner`: a strict test double that records every command, answers from a script of
//! replies, and fails the test on an unscripted command or a scripted one that never came.
//! Public (not `cfg(test)`) so unit and integration tests across the crate share it.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

use super::cmd::Cmd;
use super::error::ProcessError;
use super::output::{Output, Stream};
use super::runner::Runner;

type Reply = Box<dyn Fn(&Cmd) -> Result<Output, ProcessError> + Send + Sync>;

/// One scripted reply: the argv prefix it answers, whether it must be used, how often it was.
struct Rule {
    prefix: Vec<String>,
    reply: Reply,
    required: bool,
    used: AtomicUsize,
}

/// Strict test double, like omicron's fakes: records each [`Cmd`], starts nothing, and fails
/// the test on a command nobody scripted and on a scripted one that never came.
///
/// Replies come from the first rule whose argv prefix (program, then arguments) matches, else
/// from the fallback ([`RecordingRunner::otherwise`]). A command that matches neither panics at
/// once. Rules added with `on*` must each be used at least once; `allow*` rules may go unused.
/// The check runs in [`RecordingRunner::finish`], or when the runner is dropped. A scripted
/// non-zero [`Output`] becomes an error through [`Runner::run`], as from a real process.
///
/// ```
/// # use sforge::process::{Cmd, Output, RecordingRunner, Runner};
/// let runner = RecordingRunner::new()
///     .on_output(&["docker", "image", "inspect"], Output::failed(1, "No such image"));
/// let query = Cmd::new("docker").args(["image", "inspect", "x"]).read_only();
/// assert!(runner.run(&query).is_err());
/// assert_eq!(runner.command_lines(), ["docker image inspect x"]);
/// runner.finish();
/// ```
#[derive(Default)]
pub struct RecordingRunner {
    rules: Vec<Rule>,
    fallback: Option<Reply>,
    commands: Mutex<Vec<Cmd>>,
    unexpected: Mutex<Vec<String>>,
    finished: AtomicBool,
}

impl RecordingRunner {
    /// A runner that expects no command at all (add rules for those the test expects).
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// A runner that answers every command with success and no output, for tests that assert
    /// the complete list of commands (where an extra one shows).
    #[must_use]
    pub fn succeeding() -> Self {
        Self::new().otherwise(|_| Ok(Output::empty()))
    }

    /// Expects commands whose argv starts with `argv_prefix`, answering them by calling `reply`.
    #[must_use]
    pub fn on<F>(self, argv_prefix: &[&str], reply: F) -> Self
    where
        F: Fn(&Cmd) -> Result<Output, ProcessError> + Send + Sync + 'static,
    {
        self.rule(argv_prefix, Box::new(reply), true)
    }

    /// Expects commands whose argv starts with `argv_prefix`, answering with `output` every time.
    #[must_use]
    pub fn on_output(self, argv_prefix: &[&str], output: Output) -> Self {
        self.on(argv_prefix, move |_| Ok(output.clone()))
    }

    /// Expects matching commands, answering with `outputs` in turn and repeating the last one
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

    /// Answers commands whose argv starts with `argv_prefix` with `output`, if they come.
    #[must_use]
    pub fn allow_output(self, argv_prefix: &[&str], output: Output) -> Self {
        self.rule(argv_prefix, Box::new(move |_| Ok(output.clone())), false)
    }

    /// Answers commands that match no rule by calling `reply` (they are then not unexpected).
    #[must_use]
    pub fn otherwise<F>(mut self, reply: F) -> Self
    where
        F: Fn(&Cmd) -> Result<Output, ProcessError> + Send + Sync + 'static,
    {
        self.fallback = Some(Box::new(reply));
        self
    }

    fn rule(mut self, argv_prefix: &[&str], reply: Reply, required: bool) -> Self {
        self.rules.push(Rule {
            prefix: argv_prefix.iter().map(ToString::to_string).collect(),
            reply,
            required,
            used: AtomicUsize::new(0),
        });
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

    /// Forgets the commands recorded so far; the replies and what they were used for stay.
    pub fn clear(&self) {
        self.lock().clear();
    }

    /// Fails the test unless every command was scripted and every expected one came.
    ///
    /// # Panics
    /// With the unexpected commands and the expected argv prefixes that never came.
    pub fn finish(&self) {
        self.finished.store(true, Ordering::SeqCst);
        let problems = self.problems();
        assert!(
            problems.is_empty(),
            "RecordingRunner: {}",
            problems.join("; ")
        );
    }

    fn problems(&self) -> Vec<String> {
        let unexpected = self
            .unexpected
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let unexpected = unexpected
            .iter()
            .map(|line| format!("unexpected command `{line}`"));
        let missing = self
            .rules
            .iter()
            .filter(|rule| rule.required && rule.used.load(Ordering::SeqCst) == 0)
            .map(|rule| {
                format!(
                    "expected a command starting with `{}`, none came",
                    rule.prefix.join(" ")
                )
            });
        unexpected.chain(missing).collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Cmd>> {
        self.commands.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn reply(&self, cmd: &Cmd) -> Result<Output, ProcessError> {
        self.lock().push(cmd.clone());
        let argv: Vec<&str> = cmd.argv().collect();
        let rule = self.rules.iter().find(|rule| {
            argv.starts_with(&rule.prefix.iter().map(String::as_str).collect::<Vec<_>>())
        });
        if let Some(rule) = rule {
            rule.used.fetch_add(1, Ordering::SeqCst);
            return (rule.reply)(cmd).and_then(|o| to_stdout_file(cmd, o));
        }
        if let Some(reply) = &self.fallback {
            return reply(cmd).and_then(|o| to_stdout_file(cmd, o));
        }
        let line = cmd.to_string();
        self.unexpected
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(line.clone());
        panic!("RecordingRunner: unexpected command `{line}`");
    }
}

/// A scripted reply's stdout goes where the command sends it, under the same limit as for real.
fn to_stdout_file(cmd: &Cmd, mut output: Output) -> Result<Output, ProcessError> {
    let Some((path, max)) = cmd.get_stdout_file() else {
        return Ok(output);
    };
    if output.stdout.len() as u64 > max {
        return Err(ProcessError::OutputLimit {
            cmd: Box::new(cmd.clone()),
            limit: max,
        });
    }
    std::fs::write(path, std::mem::take(&mut output.stdout)).map_err(|source| {
        ProcessError::Io {
            cmd: Box::new(cmd.clone()),
            source,
        }
    })?;
    Ok(output)
}

impl Drop for RecordingRunner {
    /// The check of [`RecordingRunner::finish`], unless it ran or the test already fails.
    fn drop(&mut self) {
        if self.finished.load(Ordering::SeqCst) || std::thread::panicking() {
            return;
        }
        let problems = self.problems();
        assert!(
            problems.is_empty(),
            "RecordingRunner: {}",
            problems.join("; ")
        );
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
        assert_eq!(runner.commands(), [ps, rm.clone(), rm]);
        runner.finish();
    }

    #[test]
    #[should_panic(expected = "unexpected command `docker rm -f x`")]
    fn an_unscripted_command_fails_the_test() {
        let runner = RecordingRunner::new().allow_output(&["docker", "ps"], Output::empty());
        let _ = runner.run(&Cmd::new("docker").args(["rm", "-f", "x"]));
    }

    #[test]
    #[should_panic(expected = "expected a command starting with `docker rm`, none came")]
    fn an_expected_command_that_never_came_fails_the_test_on_drop() {
        let runner = RecordingRunner::new()
            .on_output(&["docker", "ps"], Output::empty())
            .on_output(&["docker", "rm"], Output::empty());
        runner.run(&Cmd::new("docker").arg("ps")).expect("scripted");
    }

    #[test]
    fn allowed_commands_may_not_come_and_succeeding_answers_everything() {
        let runner = RecordingRunner::new().allow_output(&["docker", "ps"], Output::empty());
        runner.finish();
        let all = RecordingRunner::succeeding();
        assert!(all
            .run(&Cmd::new("kubectl"))
            .expect("success")
            .stdout
            .is_empty());
        all.finish();
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
        runner.finish();
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
