//! `sforge build`, `build --dry-run` and `render` against the real Docker engine: the example
//! tasks build from the locally imported base and behave as documented, a second build builds
//! nothing, git credentials never reach an image, a log or printed output, and the failure modes
//! (no BuildKit for secrets, an `image_tag`-only image that is missing) are reported. SIGTERM and
//! SIGINT stop a build, its `docker build` clients and steps, and remove its secret files.
//!
//! Every test works on a copy of `tasks/` under a unique benchmark name, so its images live in a
//! test-only namespace that [`TestBenchmark`] removes on drop.

// Tests observe the system directly, independent of the product's process gateway.
#![allow(clippy::disallowed_methods)]

mod support;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Mutex, MutexGuard, PoisonError};

use serde_json::{json, Value};
use support::{
    docker, files_under, image_exists, image_id, images_of, run, run_ok, skip, SforgeRun,
    TestBenchmark, BUSYBOX_IMAGE, QUICK_TIMEOUT,
};

const TASKS: [&str; 3] = ["coin_change", "text_utils", "tour_planner"];
/// Debian's docker 20.10 client: `BuildKit` built in, no buildx plugin needed.
const BUILDKIT_DOCKER: &str = "/usr/bin/docker";
/// The docker 28 client this machine has first on `PATH`, without the buildx plugin.
const PLUGINLESS_DOCKER: &str = "/usr/local/bin/docker";

/// Held while a test builds base images: the first build fills the engine's cache, the tests
/// after it reuse the cached layers instead of running the same `apt-get install` side by side.
fn base_build_lock() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The file the work setup of `id` leaves in `cwd`: the solution's file name (`tasks/solutions`).
fn stub_file(bench: &TestBenchmark, id: &str) -> String {
    let dir = bench.tasks_dir().join("solutions").join(id).join("full");
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|err| panic!("{}: {err}", dir.display()))
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert_eq!(names.len(), 1, "one solution file in {}", dir.display());
    names[0].clone()
}

/// Facts about `image` seen from inside a throw-away container (`key=value` lines).
fn probe_image(image: &str) -> BTreeMap<String, String> {
    const SCRIPT: &str = r#"
echo "uid=$(id -u)"
echo "user=$(id -un)"
echo "sudo_uid=$(sudo -n id -u 2>/dev/null)"
echo "pwd=$(pwd)"
echo "files=$(ls -A | tr '\n' ' ')"
if [ -e tests ]; then echo tests=yes; else echo tests=no; fi
if [ -w . ]; then echo writable=yes; else echo writable=no; fi
"#;
    let output = run_ok(
        docker()
            .args(["run", "--rm", "--network", "none"])
            .args(["--label", support::TEST_LABEL, image])
            .args(["bash", "-c", SCRIPT]),
        None,
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| line.split_once('='))
        .map(|(key, value)| (key.to_owned(), value.trim().to_owned()))
        .collect()
}

fn fact<'a>(facts: &'a BTreeMap<String, String>, key: &str) -> &'a str {
    facts.get(key).map_or("<missing>", String::as_str)
}

fn assert_work_image(bench: &TestBenchmark, id: &str, image: &str) {
    let task = bench.task(id);
    let cwd = task["cwd"].as_str().expect("cwd");
    let facts = probe_image(image);
    let shown = format!("work image {image}: {facts:?}");
    assert_eq!(fact(&facts, "user"), "agent", "{shown}");
    assert_ne!(fact(&facts, "uid"), "0", "{shown}");
    assert_eq!(fact(&facts, "sudo_uid"), "0", "passwordless sudo: {shown}");
    assert_eq!(fact(&facts, "pwd"), cwd, "{shown}");
    assert_eq!(fact(&facts, "writable"), "yes", "agent owns cwd: {shown}");
    let stub = stub_file(bench, id);
    assert!(
        fact(&facts, "files").split(' ').any(|file| file == stub),
        "setup result {stub} missing: {shown}"
    );
    assert_eq!(fact(&facts, "tests"), "no", "hidden tests leaked: {shown}");
}

fn assert_judge_image(bench: &TestBenchmark, id: &str, image: &str) {
    let task = bench.task(id);
    let facts = probe_image(image);
    let shown = format!("judge image {image}: {facts:?}");
    assert_eq!(fact(&facts, "uid"), "0", "{shown}");
    assert_eq!(
        fact(&facts, "pwd"),
        task["cwd"].as_str().unwrap(),
        "{shown}"
    );
    assert_eq!(fact(&facts, "tests"), "yes", "{shown}");
    let stub = stub_file(bench, id);
    assert!(
        fact(&facts, "files").split(' ').any(|file| file == stub),
        "{shown}"
    );
}

/// The build directory of `image` has its Dockerfile, log and an `image.json` naming its ID.
fn assert_build_records(bench: &TestBenchmark, role: &str, image: &str, script: Option<&str>) {
    let dir = bench
        .log_dir()
        .join("build_images")
        .join(role)
        .join(image.replace(':', "__"));
    let mut expected = vec!["Dockerfile", "build_image.log", "image.json"];
    expected.extend(script);
    for name in expected {
        assert!(
            dir.join(name).is_file(),
            "{} is missing; the build directory has {:?}",
            dir.join(name).display(),
            files_under(&dir)
        );
    }
    let record: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("image.json")).unwrap())
            .unwrap_or_else(|err| panic!("{}/image.json: {err}", dir.display()));
    let id = record["id"].as_str().unwrap_or_default();
    assert!(id.starts_with("sha256:"), "{}: {record}", dir.display());
    assert_eq!(id, image_id(image), "image.json of {image}");
}

#[test]
fn example_tasks_build_and_behave_and_a_second_build_builds_nothing() {
    require_docker!();
    let bench = TestBenchmark::new("sforge-test-img");
    for (n, id) in TASKS.into_iter().enumerate() {
        let images = bench.images(id);
        let lock = base_build_lock();
        let build = SforgeRun::of(bench.sforge().args(["build", "--task", id]));
        drop(lock);
        build.expect_code(0);
        build
            .expect_stdout(&format!("Building images for task: {id}\n"))
            .expect_stdout(&format!("  work:  {}  (built)\n", images.work))
            .expect_stdout(&format!("  judge: {}  (built)\n", images.judge))
            // The base is built once, by the first task that needs it.
            .expect_stdout(&format!(
                "Base:  {}  ({})\n",
                images.base,
                if n == 0 { "built" } else { "present" }
            ));
        assert!(build.stdout.ends_with("Done.\n"), "{build}");
        assert_work_image(&bench, id, &images.work);
        assert_judge_image(&bench, id, &images.judge);
    }

    let again = SforgeRun::of(bench.sforge().args(["build", "--all"]));
    again.expect_code(0);
    for id in TASKS {
        let images = bench.images(id);
        again.expect_stdout(&format!(
            "  [{id}] OK  base={} work={} judge={}  (base present, work present, judge present)\n",
            images.base, images.work, images.judge
        ));
        assert_build_records(&bench, "base", &images.base, None);
        assert_build_records(&bench, "work", &images.work, Some("setup_workspace.sh"));
        assert_build_records(&bench, "judge", &images.judge, Some("setup_judge.sh"));
    }
    again.expect_stdout("0 built, 9 already present, 0 failed (images counted per task)\n");
    assert!(!again.stdout.contains("(built)"), "{again}");
    assert!(
        !again.stdout.contains(": building"),
        "present images are not built: {again}"
    );
    forced_builds_show_each_image(&bench);
}

/// Forced rebuilds (from the layer cache) of several tasks: a line per image without a terminal,
/// and on a terminal (tmux) one row per image redrawn in place.
fn forced_builds_show_each_image(bench: &TestBenchmark) {
    let pair = ["--task", TASKS[0], "--task", TASKS[1]];
    let plain = SforgeRun::of(bench.sforge().args(["build", "--force-rebuild"]).args(pair));
    plain.expect_code(0);
    for id in &TASKS[..2] {
        let images = bench.images(id);
        plain
            .expect_stdout(&format!("  {}: building\n", images.work))
            .expect_stdout(&format!("  {}: built in ", images.judge));
    }
    let mut cmd = bench.sforge_process(&bench.log_dir());
    cmd.args(["build", "--all", "--force-rebuild"]);
    let pane =
        support::Tmux::start(&cmd, bench.root()).wait(std::time::Duration::from_secs(600), |_| {});
    for id in TASKS {
        let work = bench.images(id).work;
        let rows = pane
            .lines()
            .filter(|l| l.starts_with(&work) && l.contains("  built in "))
            .count();
        assert_eq!(rows, 1, "one row of {work}, redrawn in place:\n{pane}");
        assert!(
            !pane.contains(&format!("{work}  building")),
            "a stale row:\n{pane}"
        );
    }
}

/// Whether `client` can build with `BuildKit`: a buildx plugin, or a client older than 23.
fn supports_buildkit(client: &str) -> bool {
    if !Path::new(client).exists() {
        return false;
    }
    let buildx = run(Command::new(client).args(["buildx", "version"]), None);
    if buildx.status.success() {
        return true;
    }
    let version = run(
        Command::new(client).args(["version", "--format", "{{.Client.Version}}"]),
        None,
    );
    String::from_utf8_lossy(&version.stdout)
        .trim()
        .split('.')
        .next()
        .and_then(|major| major.parse::<u32>().ok())
        .is_some_and(|major| major < 23)
}

/// A random value no image, log or output can contain by accident.
fn random_secret(label: &str) -> String {
    let mut bytes = [0_u8; 12];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut random| random.read_exact(&mut bytes))
        .expect("read /dev/urandom");
    bytes.iter().fold(label.to_owned(), |mut text, byte| {
        let _ = write!(text, "{byte:02x}");
        text
    })
}

/// A task like `text_utils` whose work and judge setup use the git credentials; `set -x` in the
/// setup script echoes their values into the build output, which sforge must mask.
fn add_credential_task(bench: &TestBenchmark, id: &str) {
    let mut task = bench.task("text_utils");
    task["task_id"] = json!(id);
    for role in ["work", "judge"] {
        let mut cmds = vec![
            // Unique per test: the step runs (BuildKit's cache ignores secrets), so `set -x`
            // really prints the credentials and the log shows whether they were masked.
            json!(format!(": unique step of {}", bench.name())),
            json!(r#"test -n "$SFORGE_GIT_TOKEN""#),
            json!(r#"echo "user=$SFORGE_GIT_USER token=$SFORGE_GIT_TOKEN" > /dev/null"#),
        ];
        cmds.extend(task[role]["setup_cmds"].as_array().unwrap().iter().cloned());
        task[role]["setup_cmds"] = Value::Array(cmds);
    }
    bench.write_task(&task);
}

/// Whether the `docker save` archive of `image` contains `needle` anywhere (streamed: layers are
/// uncompressed tars inside the outer tar, so their bytes are searched too).
fn saved_image_contains(image: &str, needle: &str) -> bool {
    let mut child = docker()
        .args(["save", image])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start docker save");
    let mut stdout = child.stdout.take().expect("piped");
    let mut found = false;
    let mut carry = String::new();
    let mut chunk = vec![0_u8; 4 << 20];
    let mut total = 0_usize;
    loop {
        let n = stdout.read(&mut chunk).expect("read docker save");
        if n == 0 {
            break;
        }
        total += n;
        // ASCII needle: lossy decoding keeps every ASCII byte, so no match is lost.
        carry.push_str(&String::from_utf8_lossy(&chunk[..n]));
        found |= carry.contains(needle);
        let keep = carry.len().saturating_sub(needle.len());
        let keep = (keep..=carry.len())
            .find(|&i| carry.is_char_boundary(i))
            .unwrap();
        carry.drain(..keep);
    }
    let output = child.wait_with_output().expect("wait for docker save");
    assert!(
        output.status.success(),
        "docker save {image}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(total > 1024, "docker save {image} wrote only {total} bytes");
    found
}

#[test]
fn git_credentials_never_reach_images_logs_or_printed_output() {
    require_docker!();
    if !supports_buildkit(BUILDKIT_DOCKER) {
        skip(
            &format!("{BUILDKIT_DOCKER} is missing or cannot build with BuildKit"),
            true,
        );
        return;
    }
    let bench = TestBenchmark::new("sforge-test-img");
    let id = "git_secret";
    add_credential_task(&bench, id);
    let images = bench.images(id);
    let token = random_secret("sforgetoken");
    let user = random_secret("sforgeuser");
    let tmp = bench.root().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let with_credentials = |cmd: &mut assert_cmd::Command| {
        cmd.env("SFORGE_DOCKER", BUILDKIT_DOCKER)
            .env("SFORGE_GIT_USER", &user)
            .env("SFORGE_GIT_TOKEN", &token)
            .env("TMPDIR", &tmp);
    };

    let mut cmd = bench.sforge();
    with_credentials(&mut cmd);
    let lock = base_build_lock();
    // -vv: every command sforge runs is logged too, and must be masked as well.
    let build = SforgeRun::of(cmd.args(["-vv", "build", "--task", id]));
    drop(lock);
    build
        .expect_code(0)
        .expect_stdout(&format!("  work:  {}  (built)", images.work))
        .expect_stdout(&format!("  judge: {}  (built)", images.judge));

    let rendered = bench.root().join("rendered");
    let mut render = bench.sforge();
    with_credentials(&mut render);
    let render = SforgeRun::of(
        render
            .timeout(QUICK_TIMEOUT)
            .arg("render")
            .args(["--task", id, "-o"])
            .arg(&rendered),
    );
    render.expect_code(0).expect_stdout("id=git_token");

    let mut places: Vec<(String, String)> = Vec::new();
    for (what, run) in [("build", &build), ("render", &render)] {
        places.push((format!("stdout of sforge {what}"), run.stdout.clone()));
        places.push((format!("stderr of sforge {what}"), run.stderr.clone()));
    }
    for image in images.all() {
        places.extend(image_metadata(image));
    }
    let log_files = files_under(&bench.log_dir());
    assert!(log_files.len() >= 9, "build logs: {log_files:?}");
    for dir in [&rendered, &tmp] {
        places.extend(file_texts(&files_under(dir)));
    }
    places.extend(file_texts(&log_files));
    for (place, text) in &places {
        assert!(!text.contains(&token), "the git token appears in {place}");
        assert!(!text.contains(&user), "the git user appears in {place}");
    }
    for image in [&images.work, &images.judge] {
        assert!(
            !saved_image_contains(image, &token),
            "the git token is in `docker save {image}`"
        );
    }
    // The masking ran: `set -x` showed the values, masked.
    for (role, image) in [("work", &images.work), ("judge", &images.judge)] {
        let log = bench
            .log_dir()
            .join("build_images")
            .join(role)
            .join(image.replace(':', "__"))
            .join("build_image.log");
        let text = std::fs::read_to_string(&log).unwrap();
        assert!(
            text.contains("user=*** token=***"),
            "{} shows no masked credentials:\n{text}",
            log.display()
        );
    }
    let leftovers: Vec<_> = std::fs::read_dir(&tmp)
        .unwrap()
        .flatten()
        .map(|entry| entry.file_name())
        .filter(|name| name.to_string_lossy().starts_with("sforge-secrets-"))
        .collect();
    assert!(leftovers.is_empty(), "secret files left: {leftovers:?}");
}

/// `docker history --no-trunc` and `docker image inspect` of `image`, labelled.
fn image_metadata(image: &str) -> Vec<(String, String)> {
    [
        vec!["history", "--no-trunc", image],
        vec!["image", "inspect", image],
    ]
    .into_iter()
    .map(|args| {
        let output = run_ok(docker().args(&args), None);
        (
            format!("`docker {}`", args.join(" ")),
            String::from_utf8_lossy(&output.stdout).into_owned(),
        )
    })
    .collect()
}

/// The contents of `files` (as text, lossily), labelled with their paths.
fn file_texts(files: &[std::path::PathBuf]) -> Vec<(String, String)> {
    files
        .iter()
        .map(|file| {
            let bytes =
                std::fs::read(file).unwrap_or_else(|err| panic!("{}: {err}", file.display()));
            (
                file.display().to_string(),
                String::from_utf8_lossy(&bytes).into_owned(),
            )
        })
        .collect()
}

#[test]
fn dry_run_with_git_credentials_shows_no_secret_and_a_runnable_script() {
    require_docker!();
    if !supports_buildkit(BUILDKIT_DOCKER) {
        skip(
            &format!("{BUILDKIT_DOCKER} is missing or cannot build with BuildKit"),
            true,
        );
        return;
    }
    let bench = TestBenchmark::new("sforge-test-img");
    let id = "git_secret";
    add_credential_task(&bench, id);
    let images = bench.images(id);
    let token = random_secret("sforgetoken");
    let user = random_secret("sforgeuser");
    // Secret files sforge writes go here, so even a killed run leaves none in the real /tmp.
    let tmp = bench.root().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let dry_run = SforgeRun::of(
        bench
            .sforge()
            .timeout(QUICK_TIMEOUT)
            .env("SFORGE_DOCKER", BUILDKIT_DOCKER)
            .env("SFORGE_GIT_USER", &user)
            .env("SFORGE_GIT_TOKEN", &token)
            .env("TMPDIR", &tmp)
            .args(["build", "--dry-run", "--task", id]),
    );
    dry_run.expect_code(0);
    let lines = build_lines(&dry_run.stdout);
    assert_builds_each_image(&lines, &images, BUILDKIT_DOCKER);
    for (place, text) in [("stdout", &dry_run.stdout), ("stderr", &dry_run.stderr)] {
        assert!(
            !text.contains(&token),
            "the git token is on {place}\n{dry_run}"
        );
        assert!(
            !text.contains(&user),
            "the git user is on {place}\n{dry_run}"
        );
    }
    for (file, text) in file_texts(&files_under(&bench.log_dir())) {
        assert!(!text.contains(&token), "the git token is in {file}");
    }
    // The script must stay runnable: a secret file it names exists, or a comment right before
    // the command says to create it (as `sforge render` does).
    let script: Vec<&str> = dry_run.stdout.lines().collect();
    let mut secret_builds = 0;
    for (n, line) in script.iter().enumerate() {
        let sources: Vec<&str> = line
            .split(|c: char| c.is_whitespace() || c == '\'')
            .filter_map(|word| word.split_once(",src=").map(|(_, path)| path))
            .collect();
        if sources.is_empty() {
            continue;
        }
        secret_builds += 1;
        let explained = n > 0 && script[n - 1].starts_with('#');
        for path in sources {
            assert!(
                explained || Path::new(path).exists(),
                "the dry-run script passes the secret file {path}, which no longer exists and \
                 which the script does not say to create:\n{line}"
            );
        }
    }
    assert_eq!(
        secret_builds, 2,
        "work and judge get the secrets\n{dry_run}"
    );
    assert!(images_of(bench.name()).is_empty(), "a dry run built images");
}

#[test]
fn credentials_with_a_client_without_buildkit_fail_with_a_fix() {
    require_docker!();
    if supports_buildkit(PLUGINLESS_DOCKER) || !Path::new(PLUGINLESS_DOCKER).exists() {
        skip(
            &format!("{PLUGINLESS_DOCKER} is missing or has BuildKit; nothing to check"),
            false,
        );
        return;
    }
    let bench = TestBenchmark::new("sforge-test-img");
    let images = bench.images("coin_change");
    // The base is present (a stand-in), so the build reaches the work and judge images at once.
    run_ok(docker().args(["tag", BUSYBOX_IMAGE, &images.base]), None);
    let token = random_secret("sforgetoken");
    let build = SforgeRun::of(
        bench
            .sforge()
            .env("SFORGE_DOCKER", PLUGINLESS_DOCKER)
            .env("SFORGE_GIT_TOKEN", &token)
            .args(["build", "--task", "coin_change"]),
    );
    build
        .expect_code(1)
        .expect_output("BuildKit is unavailable")
        .expect_output("SFORGE_DOCKER")
        .expect_stdout(&format!("  work:  {}  (FAILED)", images.work));
    assert!(!image_exists(&images.work), "{build}");
    assert!(
        !build.stdout.contains(&token) && !build.stderr.contains(&token),
        "{build}"
    );
}

#[test]
fn a_missing_released_image_fails_its_task_with_a_pull_hint_and_others_still_build() {
    require_docker!();
    let bench = TestBenchmark::new("sforge-test-img");
    let mut released = bench.task("coin_change");
    released["task_id"] = json!("released");
    let work = released["work"].as_object_mut().unwrap();
    work.remove("setup_cmds");
    work.insert("image_tag".into(), json!("0123456789ab"));
    bench.write_task(&released);

    let lock = base_build_lock();
    let build = SforgeRun::of(bench.sforge().args(["build", "--all"]));
    drop(lock);
    build
        .expect_code(1)
        .expect_output("[released] FAILED")
        .expect_output("pull it first: sforge pull --task released")
        .expect_stdout(", 1 failed (images counted per task)");
    for id in TASKS {
        let images = bench.images(id);
        build.expect_stdout(&format!(
            "  [{id}] OK  base={} work={} judge={}  (",
            images.base, images.work, images.judge
        ));
        assert!(
            image_exists(&images.work) && image_exists(&images.judge),
            "{build}"
        );
    }
    assert!(!image_exists(&bench.images("released").work));
}

/// The `docker build` lines of a printed script, and that `sh -n` accepts the script.
fn build_lines(script: &str) -> Vec<&str> {
    assert!(script.starts_with("#!/bin/sh\n"), "not a script:\n{script}");
    run_ok(Command::new("sh").arg("-n"), Some(script.as_bytes()));
    script
        .lines()
        .filter(|line| line.contains(" build ") && !line.starts_with('#'))
        .collect()
}

fn assert_builds_each_image(lines: &[&str], images: &support::TaskImages, client: &str) {
    let builds = |line: &str, image: &str| {
        line.contains(&format!("{client} build ")) && line.contains(&format!("--tag {image} "))
    };
    assert_eq!(lines.len(), 3, "one build per image: {lines:#?}");
    assert!(
        builds(lines[0], &images.base),
        "the base image is built first: {lines:#?}"
    );
    // Work and judge build in parallel, in either order.
    for image in [&images.work, &images.judge] {
        assert!(
            lines[1..].iter().any(|line| builds(line, image)),
            "no build of {image} by {client}: {lines:#?}"
        );
    }
}

#[test]
fn dry_run_prints_the_builds_and_builds_nothing() {
    require_docker!();
    let bench = TestBenchmark::new("sforge-test-img");
    let images = bench.images("coin_change");
    let dry_run = SforgeRun::of(bench.sforge().timeout(QUICK_TIMEOUT).args([
        "build",
        "--dry-run",
        "--task",
        "coin_change",
    ]));
    dry_run.expect_code(0);
    let lines = build_lines(&dry_run.stdout);
    assert_builds_each_image(&lines, &images, &support::docker_bin());
    assert!(images_of(bench.name()).is_empty(), "{dry_run}");
}

#[test]
fn render_writes_the_build_files_and_the_script_without_a_daemon() {
    let bench = TestBenchmark::new("sforge-test-img");
    let images = bench.images("coin_change");
    let out = bench.root().join("rendered");
    let render = SforgeRun::of(
        bench
            .sforge()
            .timeout(QUICK_TIMEOUT)
            .env("SFORGE_DOCKER", "/nonexistent/docker")
            .args(["render", "--task", "coin_change", "-o"])
            .arg(&out),
    );
    render.expect_code(0);
    for file in [
        "base/Dockerfile",
        "work/Dockerfile",
        "work/setup_workspace.sh",
        "judge/Dockerfile",
        "judge/setup_judge.sh",
    ] {
        assert!(out.join(file).is_file(), "{file} not rendered\n{render}");
    }
    let setup = std::fs::read_to_string(out.join("work/setup_workspace.sh")).unwrap();
    let task = bench.task("coin_change");
    for cmd in task["work"]["setup_cmds"].as_array().unwrap() {
        assert!(setup.contains(cmd.as_str().unwrap()), "{setup}");
    }
    let work = std::fs::read_to_string(out.join("work/Dockerfile")).unwrap();
    assert!(
        work.contains(&format!("FROM --platform=linux/amd64 {}", images.base))
            && work.contains("USER agent"),
        "{work}"
    );
    let lines = build_lines(&render.stdout);
    assert_builds_each_image(&lines, &images, "/nonexistent/docker");
    assert!(
        render
            .stdout
            .contains(&out.join("work").display().to_string()),
        "the script builds from the rendered files\n{render}"
    );
}

/// Process ids whose command line contains `needle` (read from `/proc`).
fn processes_with(needle: &str) -> Vec<u32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse().ok()) else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        if cmdline.contains(needle) {
            found.push(pid);
        }
    }
    found
}

/// Polls `done` every 100 ms for up to `limit`; panics with `what` when it never holds.
fn wait_until(limit: std::time::Duration, what: &str, mut done: impl FnMut() -> bool) {
    let until = std::time::Instant::now() + limit;
    while !done() {
        assert!(std::time::Instant::now() < until, "{what}");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// `sforge build` with git credentials stopped by `signal` while the work and judge builds run
/// a long step: exit 130, the secret files gone, no `docker build` client and no build step left.
fn build_interrupted_by(signal: &str) {
    let bench = TestBenchmark::new("sforge-test-img");
    let id = "slow_secret";
    let mut task = bench.task("text_utils");
    task["task_id"] = json!(id);
    // A fractional duration no other process uses: the build step is found by its command line.
    let sleep = format!("sleep 600.{}", std::process::id());
    for role in ["work", "judge"] {
        task[role]["setup_cmds"] = json!([
            format!(": unique step of {}", bench.name()),
            r#"test -n "$SFORGE_GIT_TOKEN""#,
            sleep,
        ]);
    }
    bench.write_task(&task);
    let tmp = bench.root().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let secret_dirs = || -> Vec<String> {
        std::fs::read_dir(&tmp)
            .unwrap()
            .flatten()
            .map(|entry| entry.file_name().to_string_lossy().into_owned())
            .filter(|name| name.starts_with("sforge-secrets-"))
            .collect()
    };
    let mut cmd = bench.sforge_process(&bench.log_dir());
    cmd.env("SFORGE_DOCKER", BUILDKIT_DOCKER)
        .env("SFORGE_GIT_USER", "bot")
        .env("SFORGE_GIT_TOKEN", random_secret("sforgetoken"))
        .env("TMPDIR", &tmp)
        .args(["build", "--task", id])
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(bench.root().join("build.out")).unwrap())
        .stderr(std::fs::File::create(bench.root().join("build.err")).unwrap());
    let lock = base_build_lock();
    let mut build = support::KillOnDrop(cmd.spawn().expect("start sforge build"));
    let output = || std::fs::read_to_string(bench.root().join("build.err")).unwrap_or_default();
    wait_until(
        std::time::Duration::from_secs(600),
        "no build step ran",
        || processes_with(&sleep).len() >= 2 && !secret_dirs().is_empty(),
    );
    drop(lock);
    let pid = build.0.id().to_string();
    run_ok(
        Command::new("kill").args([&format!("-{signal}"), &pid]),
        None,
    );
    let mut status = None;
    wait_until(
        std::time::Duration::from_secs(30),
        "sforge build ignored the signal",
        || {
            status = build.0.try_wait().unwrap();
            status.is_some()
        },
    );
    assert_eq!(
        status.unwrap().code(),
        Some(130),
        "SIG{signal}:\n{}",
        output()
    );
    assert!(
        secret_dirs().is_empty(),
        "secret files left: {:?}",
        secret_dirs()
    );
    assert!(
        processes_with(&format!("--tag {}.", bench.name())).is_empty(),
        "a docker build client is left"
    );
    wait_until(
        std::time::Duration::from_secs(30),
        "the build steps still run",
        || processes_with(&sleep).is_empty(),
    );
    assert!(!image_exists(&bench.images(id).work));
}

#[test]
fn build_interrupted_by_sigterm_or_sigint_removes_its_secrets_and_stops_building() {
    require_docker!();
    if !supports_buildkit(BUILDKIT_DOCKER) {
        skip(
            &format!("{BUILDKIT_DOCKER} is missing or cannot build with BuildKit"),
            true,
        );
        return;
    }
    build_interrupted_by("TERM");
    build_interrupted_by("INT");
}
