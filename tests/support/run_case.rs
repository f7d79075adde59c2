//! One `sforge run` of a test with the `script` agent against a shared built benchmark: its
//! directory, run id and own judge port, the files of its run directory, and the run in the
//! background (`Running`). Containers of the run are removed on drop.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{BenchFixture, SforgeRun};

/// The longest one `sforge run` of these tests may take (the images are built beforehand).
pub const RUN_LIMIT: Duration = Duration::from_secs(240);

/// One `sforge run` of a test: its agent script, log directory, run id and judge port. On drop,
/// every container labelled with its run id is removed (best effort, for failing tests).
pub struct Case {
    pub fixture: Arc<BenchFixture>,
    pub dir: PathBuf,
    pub run_id: String,
    /// The port of the run's own judge (started by `sforge run`).
    pub port: u16,
}

impl Case {
    /// A run of `fixture`'s benchmark whose agent is the bash script `script`.
    #[must_use]
    pub fn new(fixture: Arc<BenchFixture>, script: &str) -> Self {
        let run_id = super::unique_name("run");
        let dir = fixture.bench.root().join(format!("case-{run_id}"));
        std::fs::create_dir_all(&dir).expect("create the case directory");
        std::fs::write(dir.join("agent.sh"), script).expect("write the agent script");
        Self {
            fixture,
            dir,
            run_id,
            port: super::registry::free_port(),
        }
    }

    pub fn log_dir(&self) -> PathBuf {
        self.dir.join("logs")
    }

    /// `<log_dir>/runs/<run_id>`.
    pub fn run_dir(&self) -> PathBuf {
        self.log_dir().join("runs").join(&self.run_id)
    }

    pub fn task_dir(&self, task: &str) -> PathBuf {
        self.run_dir().join(task)
    }

    /// `sforge run` of `tasks` with the script agent, this case's run id and judge, and `extra`.
    pub fn command(&self, tasks: &[&str], extra: &[&str]) -> Command {
        let mut cmd = self.fixture.bench.sforge_process(&self.log_dir());
        cmd.args(["run", "--run-id", &self.run_id, "--agent", "script"])
            .arg("--agent-script")
            .arg(self.dir.join("agent.sh"))
            .arg("--judge-url")
            .arg(format!("http://host.docker.internal:{}", self.port));
        for task in tasks {
            cmd.args(["--task", task]);
        }
        cmd.args(extra);
        cmd
    }

    /// Runs `sforge run` to completion (bounded by [`RUN_LIMIT`]).
    pub fn run(&self, tasks: &[&str], extra: &[&str]) -> SforgeRun {
        let mut cmd = assert_cmd::Command::from_std(self.command(tasks, extra));
        cmd.timeout(RUN_LIMIT);
        SforgeRun::of(&mut cmd)
    }

    /// Starts `sforge run` in the background, its output going to files of this case.
    pub fn spawn(&self, mut cmd: Command) -> Running {
        let line = super::describe(&cmd);
        let stdout = self.dir.join("sforge.stdout");
        let stderr = self.dir.join("sforge.stderr");
        cmd.stdin(Stdio::null())
            .stdout(std::fs::File::create(&stdout).expect("create the stdout file"))
            .stderr(std::fs::File::create(&stderr).expect("create the stderr file"));
        let child = cmd.spawn().expect("start sforge run");
        Running {
            child: Some(child),
            line,
            stdout,
            stderr,
        }
    }

    /// A file of the task's run directory, as text ("" when missing).
    pub fn text(&self, task: &str, file: &str) -> String {
        std::fs::read_to_string(self.task_dir(task).join(file)).unwrap_or_default()
    }

    /// A JSON file of the task's run directory.
    pub fn json(&self, task: &str, file: &str) -> Value {
        read_json(&self.task_dir(task).join(file))
    }

    /// Waits until the agent of `task` has written `marker` to its output, while `running` runs.
    pub fn wait_for_agent_output(&self, task: &str, marker: &str, running: &mut Running) {
        let until = Instant::now() + Duration::from_secs(120);
        while !self.text(task, "agent_output.txt").contains(marker) {
            if let Some(status) = running.exited() {
                panic!(
                    "sforge run exited ({status}) before the agent printed {marker:?}\n{}",
                    running.finish()
                );
            }
            assert!(
                Instant::now() < until,
                "the agent did not print {marker:?} within 2 minutes"
            );
            thread::sleep(Duration::from_millis(100));
        }
    }

    /// The containers (any state) labelled with this run's id.
    pub fn containers(&self) -> Vec<String> {
        super::containers_matching(&[&format!("label=sforge.run-id={}", self.run_id)])
    }

    /// The Work containers (any state) of this run.
    pub fn work_containers(&self) -> Vec<String> {
        super::containers_matching(&[
            &format!("label=sforge.run-id={}", self.run_id),
            "label=sforge.role=work",
        ])
    }

    /// Panics unless no container of this run is left.
    pub fn assert_no_containers(&self) {
        let left = self.containers();
        assert!(
            left.is_empty(),
            "containers of run {} are left after sforge run: {left:?}",
            self.run_id
        );
    }
}

impl Drop for Case {
    fn drop(&mut self) {
        if !super::docker_available() {
            return;
        }
        let left = self.containers();
        if !left.is_empty() {
            let _ = super::docker()
                .args(["rm", "-f", "-v"])
                .args(&left)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }
}

/// An `sforge run` in the background; killed on drop if still running.
pub struct Running {
    child: Option<Child>,
    line: String,
    stdout: PathBuf,
    stderr: PathBuf,
}

impl Running {
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("the child is running").id()
    }

    /// Its exit status once it has exited.
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        let child = self.child.as_mut().expect("the child is running");
        child.try_wait().expect("wait for sforge run")
    }

    /// Sends `signal` (e.g. `INT`) to the process.
    pub fn signal(&self, signal: &str) {
        super::run_ok(
            Command::new("kill")
                .arg(format!("-{signal}"))
                .arg(self.pid().to_string()),
            None,
        );
    }

    /// Waits up to `limit` for the process to exit; panics (after killing it) when it does not.
    pub fn wait(&mut self, limit: Duration) -> SforgeRun {
        let until = Instant::now() + limit;
        while self.exited().is_none() {
            if Instant::now() >= until {
                let _ = self.child.as_mut().map(Child::kill);
                panic!(
                    "sforge run did not exit within {limit:?}\n{}",
                    self.finish()
                );
            }
            thread::sleep(Duration::from_millis(50));
        }
        self.finish()
    }

    /// Reaps the process and returns what it did.
    pub fn finish(&mut self) -> SforgeRun {
        let code = self
            .child
            .take()
            .and_then(|mut child| child.wait().ok())
            .and_then(|status| status.code());
        SforgeRun {
            line: self.line.clone(),
            code,
            stdout: std::fs::read_to_string(&self.stdout).unwrap_or_default(),
            stderr: std::fs::read_to_string(&self.stderr).unwrap_or_default(),
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

#[must_use]
pub fn read_json(path: &Path) -> Value {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|err| panic!("{}: {err}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|err| panic!("{}: {err}\n{text}", path.display()))
}
