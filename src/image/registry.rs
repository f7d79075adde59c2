//! Push and pull of task images: remote reference `<registry>/<local name>`, retag to the local
//! name after a pull, retries with back-off for transient registry errors.

use std::collections::BTreeSet;
use std::time::Duration;

use super::docker::Docker;
use crate::process::{ProcessError, Runner};

/// How one image fared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transfer {
    /// Pull only: the image was already present locally.
    Present,
    Done,
    Failed(String),
}

impl Transfer {
    #[must_use]
    pub fn is_ok(&self) -> bool {
        !matches!(self, Transfer::Failed(_))
    }
}

/// Registry operations with one docker client.
pub struct Registry<'a> {
    pub runner: &'a dyn Runner,
    pub docker: Docker,
    /// The registry prefix, without a trailing slash (e.g. `127.0.0.1:5000/team` or `seededge`).
    pub prefix: String,
    /// Waits between attempts; the number of attempts is one more than its length.
    pub backoff: Vec<Duration>,
}

impl Registry<'_> {
    #[must_use]
    pub fn remote(&self, local: &str) -> String {
        format!("{}/{local}", self.prefix.trim_end_matches('/'))
    }

    /// Tag `local` with its remote reference and push it.
    #[must_use]
    pub fn push(&self, local: &str, present: &BTreeSet<String>) -> Transfer {
        if !present.contains(local) {
            return Transfer::Failed(format!(
                "image {local} is not available locally; build or pull it first"
            ));
        }
        let remote = self.remote(local);
        if let Err(e) = self.runner.run(&self.docker.tag(local, &remote)) {
            return Transfer::Failed(first_line(&e));
        }
        match self.with_retries(|| self.runner.run(&self.docker.push(&remote))) {
            Ok(()) => Transfer::Done,
            Err(e) => Transfer::Failed(first_line(&e)),
        }
    }

    /// Pull the remote reference of `local` unless present, then tag it with the local name.
    #[must_use]
    pub fn pull(&self, local: &str, present: &BTreeSet<String>) -> Transfer {
        if present.contains(local) {
            return Transfer::Present;
        }
        let remote = self.remote(local);
        if let Err(e) = self.with_retries(|| self.runner.run(&self.docker.pull(&remote))) {
            return Transfer::Failed(if is_missing(&e) {
                format!("{remote} does not exist in the registry (push it, or check --registry)")
            } else {
                first_line(&e)
            });
        }
        match self.runner.run(&self.docker.tag(&remote, local)) {
            Ok(_) => Transfer::Done,
            Err(e) => Transfer::Failed(first_line(&e)),
        }
    }

    fn with_retries(
        &self,
        op: impl Fn() -> Result<crate::process::Output, ProcessError>,
    ) -> Result<(), ProcessError> {
        let mut waits = self.backoff.iter();
        loop {
            match op() {
                Ok(_) => return Ok(()),
                Err(e) if is_transient(&e) => match waits.next() {
                    Some(wait) => {
                        log::warn!(
                            "transient registry error, retrying in {wait:?}: {}",
                            first_line(&e)
                        );
                        std::thread::sleep(*wait);
                    }
                    None => return Err(e),
                },
                Err(e) => return Err(e),
            }
        }
    }
}

/// The default back-off: three attempts, 1 s and 3 s apart.
#[must_use]
pub fn default_backoff() -> Vec<Duration> {
    vec![Duration::from_secs(1), Duration::from_secs(3)]
}

/// Network hiccups and overloaded registries, worth another attempt.
fn is_transient(e: &ProcessError) -> bool {
    let text = String::from_utf8_lossy(e.stderr()).to_ascii_lowercase();
    [
        "connection refused",
        "connection reset",
        "i/o timeout",
        "tls handshake timeout",
        "unexpected eof",
        "502 bad gateway",
        "503 service unavailable",
        "504 gateway",
        "toomanyrequests",
        "request canceled",
    ]
    .iter()
    .any(|needle| text.contains(needle))
}

/// The registry answered that the image is not there.
fn is_missing(e: &ProcessError) -> bool {
    let text = String::from_utf8_lossy(e.stderr()).to_ascii_lowercase();
    [
        "manifest unknown",
        "not found",
        "does not exist",
        "pull access denied",
    ]
    .iter()
    .any(|needle| text.contains(needle))
}

/// The stderr line that says what went wrong (docker's last non-empty line), or the error.
fn first_line(e: &ProcessError) -> String {
    let stderr = String::from_utf8_lossy(e.stderr());
    stderr
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map_or_else(
            || e.to_string().lines().next().unwrap_or_default().to_owned(),
            str::to_owned,
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::{Output, RecordingRunner};

    fn registry(runner: &RecordingRunner) -> Registry<'_> {
        Registry {
            runner,
            docker: Docker::new("docker"),
            prefix: "reg:5000/".into(),
            backoff: vec![Duration::ZERO; 2],
        }
    }

    fn present(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn pull_skips_present_images_and_retags_pulled_ones() {
        let runner = RecordingRunner::new()
            .on_output(&["docker", "pull", "reg:5000/b.judge.t:1"], Output::empty())
            .on_output(&["docker", "tag", "reg:5000/b.judge.t:1"], Output::empty());
        let r = registry(&runner);
        assert_eq!(
            r.pull("b.work.t:1", &present(&["b.work.t:1"])),
            Transfer::Present
        );
        assert!(runner.commands().is_empty());
        assert_eq!(r.pull("b.judge.t:1", &present(&[])), Transfer::Done);
        assert_eq!(
            runner.command_lines(),
            [
                "docker pull reg:5000/b.judge.t:1",
                "docker tag reg:5000/b.judge.t:1 b.judge.t:1"
            ]
        );
    }

    #[test]
    fn transient_errors_are_retried_then_reported() {
        let refused = Output::failed(1, "Error response from daemon: Get \"http://reg:5000/v2/\": dial tcp: connection refused\n");
        let runner = RecordingRunner::new().on_output(&["docker", "pull"], refused);
        let outcome = registry(&runner).pull("x:1", &present(&[]));
        assert!(
            matches!(&outcome, Transfer::Failed(e) if e.contains("connection refused")),
            "{outcome:?}"
        );
        assert_eq!(runner.commands().len(), 3, "three attempts");
    }

    #[test]
    fn missing_remote_images_are_named_and_not_retried() {
        let missing = Output::failed(
            1,
            "Error response from daemon: manifest for reg:5000/x:1 not found: manifest unknown\n",
        );
        let runner = RecordingRunner::new().on_output(&["docker", "pull"], missing);
        let outcome = registry(&runner).pull("x:1", &present(&[]));
        assert_eq!(
            outcome,
            Transfer::Failed(
                "reg:5000/x:1 does not exist in the registry (push it, or check --registry)".into()
            )
        );
        assert_eq!(runner.commands().len(), 1);
    }

    #[test]
    fn push_needs_the_local_image() {
        let runner = RecordingRunner::new()
            .on_output(&["docker", "tag", "x:1", "reg:5000/x:1"], Output::empty())
            .on_output(&["docker", "push", "reg:5000/x:1"], Output::empty());
        let r = registry(&runner);
        assert!(!r.push("x:1", &present(&[])).is_ok());
        assert_eq!(r.push("x:1", &present(&["x:1"])), Transfer::Done);
        assert_eq!(
            runner.command_lines(),
            ["docker tag x:1 reg:5000/x:1", "docker push reg:5000/x:1"]
        );
    }
}
