//! Helpers shared by the integration tests that need a real Docker engine: which client to use,
//! skipping loudly (or failing under `SFORGE_TEST_REQUIRE_DOCKER=1`) when no engine answers, and
//! labelled containers that are removed on drop. Each test binary includes it with `mod support;`.

// Tests observe the system directly, independent of the product's process gateway.
#![allow(clippy::disallowed_methods)]
// Every test binary compiles this module but uses only part of it.
#![allow(dead_code)]

use std::ffi::OsStr;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Label carried by every resource a test creates, so leftovers are easy to find and reap.
pub const TEST_LABEL: &str = "sforge.test=1";
/// `docker ps --filter` argument selecting the resources of all tests.
pub const TEST_LABEL_FILTER: &str = "label=sforge.test=1";
/// Set to `1` (by `scripts/test.sh` and CI) to turn a missing engine into a failure.
pub const REQUIRE_DOCKER_ENV: &str = "SFORGE_TEST_REQUIRE_DOCKER";

/// How long `docker info` may take before the engine counts as absent.
const INFO_TIMEOUT: Duration = Duration::from_secs(10);

/// The docker client the tests use: `$SFORGE_DOCKER`, else Debian's `/usr/bin/docker` (it builds
/// with `BuildKit` without a buildx plugin), else `docker` from `PATH`.
#[must_use]
pub fn docker_bin() -> String {
    if let Some(bin) = std::env::var_os("SFORGE_DOCKER").filter(|bin| !bin.is_empty()) {
        return bin.to_string_lossy().into_owned();
    }
    if Path::new("/usr/bin/docker").exists() {
        "/usr/bin/docker".to_owned()
    } else {
        "docker".to_owned()
    }
}

/// A `Command` for the docker client, without arguments.
#[must_use]
pub fn docker() -> Command {
    Command::new(docker_bin())
}

/// Whether a Docker engine answers `docker info` within a few seconds (probed once per binary).
pub fn docker_available() -> bool {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    *AVAILABLE.get_or_init(probe_engine)
}

fn probe_engine() -> bool {
    let spawned = docker()
        .args(["info", "--format", "{{.ServerVersion}}"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    let Ok(mut child) = spawned else {
        return false;
    };
    let deadline = Instant::now() + INFO_TIMEOUT;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return status.success(),
            Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(50)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return false;
            }
        }
    }
}

/// True when the engine answers. Otherwise prints a loud notice and returns false (the caller
/// returns early: skipped), or panics when `SFORGE_TEST_REQUIRE_DOCKER=1`.
#[must_use]
pub fn require_docker() -> bool {
    if docker_available() {
        return true;
    }
    let test = current_test_name();
    let bin = docker_bin();
    let required = std::env::var(REQUIRE_DOCKER_ENV).is_ok_and(|value| value == "1");
    assert!(
        !required,
        "{test}: no Docker engine answers `{bin} info`, and {REQUIRE_DOCKER_ENV}=1 requires one. \
         Run scripts/setup.sh to install and start it."
    );
    // Straight to the stderr handle: the test harness captures `eprintln!` of passing tests,
    // and a skip must be seen.
    let _ = writeln!(
        std::io::stderr(),
        "\n!!!!! SKIPPED {test}: no Docker engine answers `{bin} info`.\n\
         !!!!! Run scripts/setup.sh to install and start one; set {REQUIRE_DOCKER_ENV}=1 to make \
         this a failure.\n"
    );
    false
}

/// Returns from the calling test (skipped) when no Docker engine answers; see
/// [`require_docker`](crate::support::require_docker).
#[macro_export]
macro_rules! require_docker {
    () => {
        if !$crate::support::require_docker() {
            return;
        }
    };
}

/// The running test's name (test threads are named after their test).
#[must_use]
pub fn current_test_name() -> String {
    thread::current()
        .name()
        .unwrap_or("<unnamed test>")
        .to_owned()
}

/// A name no other test (or concurrent test run) uses: `<prefix>-<pid>-<counter>-<nanos>`.
#[must_use]
pub fn unique_name(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.subsec_nanos());
    format!("{prefix}-{}-{count}-{nanos}", std::process::id())
}

/// The command line, for failure messages.
#[must_use]
pub fn describe(cmd: &Command) -> String {
    std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(OsStr::to_string_lossy)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Runs `cmd` to completion with `stdin` as its input (empty when `None`) and returns its output,
/// whatever the exit status. Panics only when the command cannot be started.
pub fn run(cmd: &mut Command, stdin: Option<&[u8]>) -> Output {
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|err| panic!("cannot start `{}`: {err}", describe(cmd)));
    let input = stdin.unwrap_or_default().to_vec();
    let mut pipe = child.stdin.take().expect("stdin is piped");
    // A separate writer avoids a deadlock when the child fills its output pipes before reading.
    let writer = thread::spawn(move || {
        let _ = pipe.write_all(&input);
    });
    let output = child
        .wait_with_output()
        .unwrap_or_else(|err| panic!("cannot wait for `{}`: {err}", describe(cmd)));
    let _ = writer.join();
    output
}

/// Like [`run`], but panics with the command line, exit status and output unless it succeeds.
pub fn run_ok(cmd: &mut Command, stdin: Option<&[u8]>) -> Output {
    let output = run(cmd, stdin);
    assert!(
        output.status.success(),
        "`{}` failed ({})\n--- stdout ---\n{}\n--- stderr ---\n{}",
        describe(cmd),
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
    output
}

/// A container started for a test, labelled `sforge.test=1` and force-removed on drop.
pub struct TestContainer {
    name: String,
}

impl TestContainer {
    /// Starts `image` detached with `run_args` (e.g. `--network none`) and `command`
    /// (e.g. `sleep infinity`). Panics when the container does not start.
    #[must_use]
    pub fn start(image: &str, run_args: &[&str], command: &[&str]) -> Self {
        // Guard first: a container that was created but failed to start is removed too.
        let container = Self {
            name: unique_name("sforge-test"),
        };
        let test_label = format!("sforge.test.name={}", current_test_name());
        let mut cmd = docker();
        cmd.args(["run", "-d", "--name", &container.name])
            .args(["--label", TEST_LABEL, "--label", &test_label])
            .args(run_args)
            .arg(image)
            .args(command);
        run_ok(&mut cmd, None);
        container
    }

    /// The container's name (unique per test run).
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `docker exec` of `args` (as root, in the image's working directory); any exit status.
    pub fn exec(&self, args: &[&str]) -> Output {
        run(docker().arg("exec").arg(&self.name).args(args), None)
    }

    /// Runs `script` with `bash -s` (as root) in `workdir`, or in the image's working directory
    /// when `None`; any exit status.
    pub fn exec_script(&self, workdir: Option<&str>, script: &str) -> Output {
        let mut cmd = docker();
        cmd.args(["exec", "-i"]);
        if let Some(dir) = workdir {
            cmd.args(["-w", dir]);
        }
        cmd.args([self.name.as_str(), "bash", "-s"]);
        run(&mut cmd, Some(script.as_bytes()))
    }

    /// Copies the contents of the host directory `src` into the container directory `dest`.
    pub fn copy_dir_in(&self, src: &Path, dest: &str) {
        let mut source = src.as_os_str().to_owned();
        source.push("/.");
        let target = format!("{}:{dest}", self.name);
        run_ok(docker().arg("cp").arg(source).arg(target), None);
    }
}

impl Drop for TestContainer {
    fn drop(&mut self) {
        // Best effort: a failed removal must not hide the test's own failure.
        let _ = docker()
            .args(["rm", "-f", "-v", &self.name])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}
