//! Helpers shared by the integration tests that need a real Docker engine: which client to use,
//! skipping loudly (or failing under `SFORGE_TEST_REQUIRE_DOCKER=1`) when no engine answers, and
//! labelled containers that are removed on drop. Each test binary includes it with `mod support;`.

// Tests observe the system directly, independent of the product's process gateway.
#![allow(clippy::disallowed_methods)]
// Every test binary compiles this module but uses only part of it.
#![allow(dead_code)]

pub mod browser;
pub mod cdp;
pub mod pki;
pub mod registry;
pub mod run_case;
pub mod serve;

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

/// `cmd` as one shell line with its environment (`env -i K=V … program args`), for running it
/// where only a command line fits (a tmux session).
#[must_use]
pub fn shell_line(cmd: &Command) -> String {
    let quote = |s: &str| shlex::try_quote(s).expect("no NUL").into_owned();
    let mut words = vec!["env".to_owned(), "-i".to_owned()];
    for (k, v) in cmd.get_envs() {
        if let Some(v) = v {
            words.push(quote(&format!(
                "{}={}",
                k.to_string_lossy(),
                v.to_string_lossy()
            )));
        }
    }
    words.push(quote(&cmd.get_program().to_string_lossy()));
    words.extend(cmd.get_args().map(|a| quote(&a.to_string_lossy())));
    words.join(" ")
}

/// A command running in a tmux session (a real pseudo-terminal, 200×50); the session is killed
/// on drop.
pub struct Tmux {
    name: String,
    done: std::path::PathBuf,
}

impl Tmux {
    /// Starts `cmd` in a new session; `scratch` holds the marker of its end.
    #[must_use]
    pub fn start(cmd: &Command, scratch: &Path) -> Self {
        let name = unique_name("sforge-tmux");
        let done = scratch.join(format!("{name}.done"));
        let line = format!("{}; touch {}; sleep 600", shell_line(cmd), done.display());
        run_ok(
            Command::new("tmux").args([
                "new-session",
                "-d",
                "-s",
                &name,
                "-x",
                "200",
                "-y",
                "50",
                &line,
            ]),
            None,
        );
        Tmux { name, done }
    }

    /// What the terminal shows now.
    #[must_use]
    pub fn pane(&self) -> String {
        let out = run_ok(
            Command::new("tmux").args(["capture-pane", "-p", "-t", &self.name]),
            None,
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Hands the screen to `look` every 300 ms until the command ends (at most `limit`); returns
    /// the last screen.
    pub fn wait(&self, limit: Duration, mut look: impl FnMut(&str)) -> String {
        let until = std::time::Instant::now() + limit;
        while !self.done.exists() {
            let pane = self.pane();
            assert!(
                std::time::Instant::now() < until,
                "the command did not end:\n{pane}"
            );
            look(&pane);
            thread::sleep(Duration::from_millis(300));
        }
        self.pane()
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &self.name])
            .status();
    }
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

/// The small local image (made by `scripts/setup.sh`) that tests tag under image names they
/// need to exist without building them.
pub const BUSYBOX_IMAGE: &str = "sforge-test/busybox:latest";

/// Every local `repository:tag` whose repository belongs to the benchmark `name`: it starts with
/// `<name>.`, or a registry prefix is followed by `/<name>.` (the remote references of push/pull).
#[must_use]
pub fn images_of(name: &str) -> Vec<String> {
    let output = run_ok(
        docker().args(["image", "ls", "--format", "{{.Repository}}:{{.Tag}}"]),
        None,
    );
    let own = format!("{name}.");
    let remote = format!("/{name}.");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|image| image.starts_with(&own) || image.contains(&remote))
        .map(str::to_owned)
        .collect()
}

/// Whether the local image `image` exists.
#[must_use]
pub fn image_exists(image: &str) -> bool {
    docker()
        .args(["image", "inspect", "--format", "{{.Id}}", image])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// The ID (`sha256:…`) of the local image `image`; panics when it does not exist.
#[must_use]
pub fn image_id(image: &str) -> String {
    let output = run_ok(
        docker().args(["image", "inspect", "--format", "{{.Id}}", image]),
        None,
    );
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

/// Removes every local tag of the benchmark `name` (see [`images_of`]); best effort, for drop
/// guards. Returns the tags still present afterwards.
pub fn remove_images_of(name: &str) -> Vec<String> {
    let quiet = |cmd: &mut Command| {
        let _ = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    };
    let tags = images_of(name);
    if !tags.is_empty() {
        quiet(docker().args(["image", "rm"]).args(&tags));
    }
    // A tag still used by a (leftover) container needs force.
    let left = images_of(name);
    if !left.is_empty() {
        quiet(docker().args(["image", "rm", "--force"]).args(&left));
    }
    images_of(name)
}

/// The three image names of one task, as `sforge list --json` reports them.
#[derive(Debug, Clone)]
pub struct TaskImages {
    pub base: String,
    pub work: String,
    pub judge: String,
}

impl TaskImages {
    #[must_use]
    pub fn all(&self) -> [&str; 3] {
        [&self.base, &self.work, &self.judge]
    }
}

/// The longest an `sforge` command of a test may run (building the example base image from an
/// empty cache takes a few minutes); quick commands set a shorter limit with `.timeout()`.
pub const SFORGE_TIMEOUT: Duration = Duration::from_secs(900);
/// The limit for commands that build nothing (`list`, `render`, `--dry-run`, push/pull of tiny
/// images).
pub const QUICK_TIMEOUT: Duration = Duration::from_secs(60);

/// A copy of the example benchmark (`tasks/`) in a temporary directory under a unique benchmark
/// name, so every image it makes is in a test-only namespace; with a log directory beside it.
/// On drop (also while a failing test unwinds) every local image of that namespace is removed.
pub struct TestBenchmark {
    dir: tempfile::TempDir,
    name: String,
}

impl TestBenchmark {
    /// Copies `tasks/` and renames the benchmark to `unique_name(prefix)`.
    #[must_use]
    pub fn new(prefix: &str) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("sforge-test-bench-")
            .tempdir()
            .expect("create a temporary directory");
        let bench = Self {
            dir,
            name: unique_name(prefix),
        };
        let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tasks");
        copy_tree(&source, &bench.tasks_dir());
        let yaml_path = bench.tasks_dir().join("BENCHMARK.yaml");
        let yaml = std::fs::read_to_string(&yaml_path).expect("read BENCHMARK.yaml");
        let mut renamed = 0;
        let text: Vec<String> = yaml
            .lines()
            .map(|line| {
                if line.starts_with("name:") {
                    renamed += 1;
                    format!("name: {}", bench.name)
                } else {
                    line.to_owned()
                }
            })
            .collect();
        assert_eq!(renamed, 1, "BENCHMARK.yaml must have one top-level name");
        std::fs::write(&yaml_path, text.join("\n") + "\n").expect("write BENCHMARK.yaml");
        bench
    }

    /// The benchmark name: the prefix of every image name of this copy.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The temporary directory holding `tasks/` and `logs/` (free for other test files).
    #[must_use]
    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    #[must_use]
    pub fn tasks_dir(&self) -> std::path::PathBuf {
        self.dir.path().join("tasks")
    }

    #[must_use]
    pub fn log_dir(&self) -> std::path::PathBuf {
        self.dir.path().join("logs")
    }

    /// The task file `<id>.json`, parsed.
    #[must_use]
    pub fn task(&self, id: &str) -> serde_json::Value {
        let path = self.tasks_dir().join(format!("{id}.json"));
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|err| panic!("{}: {err}", path.display()));
        serde_json::from_str(&text).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
    }

    /// Writes (or replaces) the task file `<task_id>.json`.
    pub fn write_task(&self, task: &serde_json::Value) {
        let id = task["task_id"].as_str().expect("task_id is a string");
        let text = serde_json::to_string_pretty(task).expect("serialise the task");
        std::fs::write(self.tasks_dir().join(format!("{id}.json")), text).expect("write task");
    }

    /// `sforge` with a minimal environment (`PATH`, `HOME`, `SFORGE_DOCKER` = the tests' client),
    /// so the developer's proxies and `SFORGE_*` settings cannot leak in, and with this
    /// benchmark's tasks and log directories.
    #[must_use]
    pub fn sforge(&self) -> assert_cmd::Command {
        let mut cmd = assert_cmd::Command::cargo_bin("sforge").expect("the sforge binary");
        cmd.env_clear();
        for var in ["PATH", "HOME"] {
            if let Some(value) = std::env::var_os(var) {
                cmd.env(var, value);
            }
        }
        // A hang (e.g. a deadlock) fails the test instead of blocking the whole run.
        cmd.timeout(SFORGE_TIMEOUT)
            .env("SFORGE_DOCKER", docker_bin())
            .arg("--tasks-dir")
            .arg(self.tasks_dir())
            .arg("--log-dir")
            .arg(self.log_dir());
        cmd
    }

    /// The image names of task `id` (from `sforge list --json`).
    #[must_use]
    pub fn images(&self, id: &str) -> TaskImages {
        let output = self
            .sforge()
            .args(["list", "--json"])
            .output()
            .expect("run sforge");
        assert!(
            output.status.success(),
            "sforge list --json failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let tasks: serde_json::Value =
            serde_json::from_slice(&output.stdout).expect("sforge list --json prints JSON");
        let task = tasks
            .as_array()
            .and_then(|tasks| tasks.iter().find(|task| task["task_id"] == id))
            .unwrap_or_else(|| panic!("sforge list --json has no task {id}"));
        let name = |role: &str| {
            task["images"][role]
                .as_str()
                .unwrap_or_else(|| panic!("task {id} has no images.{role}"))
                .to_owned()
        };
        TaskImages {
            base: name("base"),
            work: name("work"),
            judge: name("judge"),
        }
    }
}

/// Held while a shared fixture builds its images and while a benchmark removes its own
/// (see [`shared_fixture`]).
static IMAGES: std::sync::Mutex<()> = std::sync::Mutex::new(());

impl Drop for TestBenchmark {
    fn drop(&mut self) {
        if !docker_available() {
            return;
        }
        let images = IMAGES
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let left = remove_images_of(&self.name);
        drop(images);
        if !left.is_empty() {
            let _ = writeln!(
                std::io::stderr(),
                "warning: could not remove test images {left:?}"
            );
        }
    }
}

/// Copies the directory tree `src` to `dest` (created), files and directories only.
pub fn copy_tree(src: &Path, dest: &Path) {
    std::fs::create_dir_all(dest).unwrap_or_else(|err| panic!("{}: {err}", dest.display()));
    for entry in std::fs::read_dir(src).unwrap_or_else(|err| panic!("{}: {err}", src.display())) {
        let entry = entry.expect("directory entry");
        let target = dest.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target)
                .unwrap_or_else(|err| panic!("{}: {err}", target.display()));
        }
    }
}

/// Every regular file under `dir`, recursively.
#[must_use]
pub fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return files;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        match entry.file_type() {
            Ok(kind) if kind.is_dir() => files.extend(files_under(&path)),
            Ok(kind) if kind.is_file() => files.push(path),
            _ => {}
        }
    }
    files.sort();
    files
}

/// Prints a loud notice that the running test is skipped because of `reason`. When
/// `required_in_ci` and `SFORGE_TEST_REQUIRE_DOCKER=1` (what `scripts/setup.sh` provides must be
/// there), panics instead.
pub fn skip(reason: &str, required_in_ci: bool) {
    let test = current_test_name();
    let required = std::env::var(REQUIRE_DOCKER_ENV).is_ok_and(|value| value == "1");
    assert!(
        !(required_in_ci && required),
        "{test}: {reason}, and {REQUIRE_DOCKER_ENV}=1 requires it. Run scripts/setup.sh."
    );
    let _ = writeln!(std::io::stderr(), "\n!!!!! SKIPPED {test}: {reason}.\n");
}

/// What one `sforge` run did, with its output as text.
#[derive(Debug)]
pub struct SforgeRun {
    pub line: String,
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl SforgeRun {
    /// Runs `cmd` (an `sforge` command) to completion.
    pub fn of(cmd: &mut assert_cmd::Command) -> Self {
        let line = format!("{cmd:?}");
        let output = cmd.output().expect("run sforge");
        Self {
            line,
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Panics with the command and its output unless it exited with `code`.
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(self.code, Some(code), "exit status of sforge\n{self}");
        self
    }

    /// Panics with the command and its output unless stdout or stderr contains `needle`.
    pub fn expect_output(&self, needle: &str) -> &Self {
        assert!(
            self.stdout.contains(needle) || self.stderr.contains(needle),
            "expected {needle:?} in the output of sforge\n{self}"
        );
        self
    }

    /// Panics unless stdout contains `needle`.
    pub fn expect_stdout(&self, needle: &str) -> &Self {
        assert!(
            self.stdout.contains(needle),
            "expected {needle:?} on stdout\n{self}"
        );
        self
    }
}

impl std::fmt::Display for SforgeRun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let killed = if self.code.is_none() {
            " (killed: timed out, or a signal; a hang such as a deadlock?)"
        } else {
            ""
        };
        write!(
            f,
            "command: {}\nexit: {:?}{killed}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.line, self.code, self.stdout, self.stderr
        )
    }
}

// ---- Judge tests (`judge_e2e.rs`, `hostile_archives.rs`): archives, shared fixtures, judge
// containers.

/// A `.tar.gz` of the files and directories under `dir`, named relative to it (as
/// `sforge-submit` packs a task's `cwd`).
#[must_use]
pub fn tar_gz_of_dir(dir: &Path) -> Vec<u8> {
    let encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut builder = tar::Builder::new(encoder);
    builder.follow_symlinks(false);
    builder
        .append_dir_all(".", dir)
        .unwrap_or_else(|err| panic!("cannot pack {}: {err}", dir.display()));
    builder
        .into_inner()
        .and_then(flate2::write::GzEncoder::finish)
        .expect("finish the archive")
}

/// A test fixture shared by the tests of one binary that run at the same time: the first caller
/// makes it (the others wait), and it is dropped (its cleanup runs) when the last test holding it
/// finishes. A test starting after that makes a fresh one. `slot` is a `static` of the caller.
pub fn shared_fixture<T>(
    slot: &'static std::sync::Mutex<std::sync::Weak<T>>,
    make: impl FnOnce() -> T,
) -> std::sync::Arc<T> {
    let mut guard = slot
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(fixture) = guard.upgrade() {
        return fixture;
    }
    // A fixture dropped a moment ago may still be removing its images, which have the same
    // content (and so the same image ids) as the ones `make` builds: the build would find the
    // image it just made gone. Making waits for removals, and removals for making.
    let images = IMAGES
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let fixture = std::sync::Arc::new(make());
    drop(images);
    *guard = std::sync::Arc::downgrade(&fixture);
    fixture
}

/// Names of the containers (any state) matching all `filters` (`docker ps --filter` values such
/// as `label=sforge.run-id=abc`).
#[must_use]
pub fn containers_matching(filters: &[&str]) -> Vec<String> {
    let mut cmd = docker();
    cmd.args(["ps", "-a", "--format", "{{.Names}}"]);
    for filter in filters {
        cmd.args(["--filter", filter]);
    }
    let output = run_ok(&mut cmd, None);
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Force-removes every container whose name starts with `<name>.` (the containers of the
/// benchmark `name`); best effort, for drop guards. Returns the names that were found.
pub fn remove_containers_of(name: &str) -> Vec<String> {
    let prefix = format!("{name}.");
    let found: Vec<String> = containers_matching(&[&format!("name=^{name}\\.")])
        .into_iter()
        .filter(|container| container.starts_with(&prefix))
        .collect();
    if !found.is_empty() {
        let _ = docker()
            .args(["rm", "-f", "-v"])
            .args(&found)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
    found
}

impl TestBenchmark {
    /// Like [`TestBenchmark::sforge`], as a plain `std::process::Command` for processes the test
    /// starts and stops itself (`sforge serve`), with `log_dir` as the log directory (one per
    /// server: a server re-grades the unfinished submissions it finds in its journal).
    #[must_use]
    pub fn sforge_process(&self, log_dir: &Path) -> Command {
        let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("sforge"));
        cmd.env_clear();
        for var in ["PATH", "HOME"] {
            if let Some(value) = std::env::var_os(var) {
                cmd.env(var, value);
            }
        }
        cmd.env("SFORGE_DOCKER", docker_bin())
            .arg("--tasks-dir")
            .arg(self.tasks_dir())
            .arg("--log-dir")
            .arg(log_dir);
        cmd
    }

    /// `<log_dir>/runs/<run>/<task>/submissions/<round>/`: the files of one graded submission.
    #[must_use]
    pub fn submission_dir(&self, run_id: &str, task_id: &str, round: &str) -> std::path::PathBuf {
        self.log_dir()
            .join("runs")
            .join(run_id)
            .join(task_id)
            .join("submissions")
            .join(round)
    }
}

// ---- Shared by the tests that build the example benchmark once per binary.

/// A benchmark copy shared by the tests of one binary; its drop removes its containers, then
/// (`bench`) its images.
pub struct BenchFixture {
    pub bench: TestBenchmark,
}

impl Drop for BenchFixture {
    fn drop(&mut self) {
        if docker_available() {
            remove_containers_of(self.bench.name());
        }
    }
}

/// The copy of the example benchmark named after `prefix` with the images of `tasks` built,
/// shared through `slot` (see [`shared_fixture`]), so concurrent tests do not build them twice.
pub fn built_benchmark(
    slot: &'static std::sync::Mutex<std::sync::Weak<BenchFixture>>,
    prefix: &str,
    tasks: &[&str],
) -> std::sync::Arc<BenchFixture> {
    shared_fixture(slot, || {
        let bench = TestBenchmark::new(prefix);
        let mut build = bench.sforge();
        build.args(["--silent", "build"]);
        for task in tasks {
            build.args(["--task", task]);
        }
        SforgeRun::of(&mut build).expect_code(0);
        BenchFixture { bench }
    })
}

/// A child process killed and reaped on drop (for tests that fail while it runs).
pub struct KillOnDrop(pub std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `chmod 755`.
pub fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
        .unwrap_or_else(|err| panic!("chmod {}: {err}", path.display()));
}

/// The default bridge's gateway as containers see it (IPv4, and IPv6 when the engine gives
/// containers IPv6): this host's address on the bridge. Read the way the product reads it, from
/// a container's own `NetworkSettings`: a freshly started engine leaves `Gateway` empty in
/// `docker network inspect bridge`, so that cannot be relied on. Probed once per test binary.
#[must_use]
pub fn bridge_gateway() -> (std::net::Ipv4Addr, Option<std::net::Ipv6Addr>) {
    static GATEWAY: OnceLock<(std::net::Ipv4Addr, Option<std::net::Ipv6Addr>)> = OnceLock::new();
    *GATEWAY.get_or_init(|| {
        let probe = TestContainer::start(BUSYBOX_IMAGE, &[], &["sleep", "60"]);
        let out = run_ok(
            docker().args([
                "inspect",
                "-f",
                "{{.NetworkSettings.Gateway}} {{.NetworkSettings.IPv6Gateway}}",
                probe.name(),
            ]),
            None,
        );
        let text = String::from_utf8_lossy(&out.stdout);
        let mut words = text.split_whitespace();
        let v4 = words
            .next()
            .and_then(|w| w.parse().ok())
            .unwrap_or_else(|| panic!("no IPv4 gateway in `docker inspect` output: {text:?}"));
        let v6 = words.next().and_then(|w| w.parse().ok());
        (v4, v6)
    })
}
