//! `sforge push` and `sforge pull` against a real registry: Debian's `docker-registry`, serving
//! plain HTTP on 127.0.0.1 (which Docker allows without TLS), started by each test and stopped on
//! drop. Images are stand-ins (the small busybox test image tagged under a task's names), so the
//! tests check sforge's naming, retagging and reporting, not image building.

// Tests observe the system directly, independent of the product's process gateway.
#![allow(clippy::disallowed_methods)]

mod support;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use support::{
    docker, image_exists, image_id, run_ok, skip, SforgeRun, TestBenchmark, BUSYBOX_IMAGE,
    QUICK_TIMEOUT,
};

const REGISTRY_BIN: &str = "/usr/bin/docker-registry";
const STARTUP_TIMEOUT: Duration = Duration::from_secs(20);

/// A `docker-registry` serving from a temporary directory on a free 127.0.0.1 port; killed and
/// its storage removed on drop.
struct LocalRegistry {
    child: Child,
    /// `127.0.0.1:<port>`, the `--registry` value.
    addr: String,
    dir: tempfile::TempDir,
}

impl LocalRegistry {
    /// Starts a registry, or returns `None` after a loud skip notice when the binary is missing
    /// (a failure under `SFORGE_TEST_REQUIRE_DOCKER=1`: `scripts/setup.sh` installs it).
    fn start() -> Option<Self> {
        if !Path::new(REGISTRY_BIN).exists() {
            skip(
                &format!("{REGISTRY_BIN} (Debian's docker-registry) is not installed"),
                true,
            );
            return None;
        }
        let dir = tempfile::Builder::new()
            .prefix("sforge-test-registry-")
            .tempdir()
            .expect("create a temporary directory");
        let port = free_port();
        let addr = format!("127.0.0.1:{port}");
        let config = dir.path().join("config.yml");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: info\nstorage:\n  filesystem:\n    rootdirectory: {}\n  \
                 delete:\n    enabled: true\nhttp:\n  addr: {addr}\n",
                dir.path().join("data").display()
            ),
        )
        .expect("write the registry config");
        let log = std::fs::File::create(dir.path().join("registry.log")).expect("registry log");
        let child = Command::new(REGISTRY_BIN)
            .arg("serve")
            .arg(&config)
            .env_clear()
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log handle"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|err| panic!("cannot start {REGISTRY_BIN}: {err}"));
        let mut registry = Self { child, addr, dir };
        registry.wait_until_ready();
        Some(registry)
    }

    fn wait_until_ready(&mut self) {
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "docker-registry exited ({status}) at start-up:\n{}",
                    self.log()
                );
            }
            if http_get(&self.addr, "/v2/").is_some_and(|(status, _)| status == 200) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "docker-registry did not answer on {} within {STARTUP_TIMEOUT:?}:\n{}",
                self.addr,
                self.log()
            );
            thread::sleep(Duration::from_millis(100));
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
    }

    /// The tags the registry holds for `repository` (its own API, not sforge's or docker's view).
    fn tags(&self, repository: &str) -> Vec<String> {
        let Some((200, body)) = http_get(&self.addr, &format!("/v2/{repository}/tags/list")) else {
            return Vec::new();
        };
        let json: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
        json["tags"]
            .as_array()
            .map(|tags| {
                tags.iter()
                    .filter_map(|tag| tag.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl Drop for LocalRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port nobody listens on right now (the OS picks it).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("bind a free port")
        .port()
}

/// A plain HTTP/1.0 GET to `addr` (127.0.0.1 only): the status code and the body.
fn http_get(addr: &str, path: &str) -> Option<(u16, String)> {
    assert!(addr.starts_with("127.0.0.1:"), "local addresses only");
    let mut stream = TcpStream::connect(addr).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let status = response.split(' ').nth(1)?.parse().ok()?;
    let body = response
        .split_once("\r\n\r\n")
        .map_or("", |(_, body)| body)
        .to_owned();
    Some((status, body))
}

/// The repository part of `image` (`name:tag`).
fn repository(image: &str) -> &str {
    image.rsplit_once(':').map_or(image, |(repo, _)| repo)
}

fn tag(image: &str) -> &str {
    image.rsplit_once(':').map_or("latest", |(_, tag)| tag)
}

#[test]
fn push_then_pull_brings_the_images_back_under_their_local_names() {
    require_docker!();
    let Some(registry) = LocalRegistry::start() else {
        return;
    };
    let bench = TestBenchmark::new("sforge-test-reg");
    let images = bench.images("coin_change");
    let source_id = image_id(BUSYBOX_IMAGE);
    for image in images.all() {
        run_ok(docker().args(["tag", BUSYBOX_IMAGE, image]), None);
    }
    let addr = registry.addr.as_str();

    let push = SforgeRun::of(bench.sforge().timeout(QUICK_TIMEOUT).args([
        "push",
        "--task",
        "coin_change",
        "--registry",
        addr,
    ]));
    push.expect_code(0);
    for image in images.all() {
        push.expect_stdout(&format!("[registry] Pushed {addr}/{image}\n"));
        assert_eq!(
            registry.tags(repository(image)),
            [tag(image)],
            "the registry's tags of {}\n{push}",
            repository(image)
        );
    }

    // Only the registry has them now: the local names and the remote references are gone.
    for image in images.all() {
        let remote = format!("{addr}/{image}");
        run_ok(docker().args(["image", "rm", image, &remote]), None);
        assert!(!image_exists(image) && !image_exists(&remote), "{image}");
    }

    let pull = SforgeRun::of(bench.sforge().timeout(QUICK_TIMEOUT).args([
        "pull",
        "--task",
        "coin_change",
        "--registry",
        addr,
    ]));
    pull.expect_code(0);
    for image in images.all() {
        pull.expect_stdout(&format!("[registry] OK → retagged as {image}\n"));
        assert_eq!(
            image_id(image),
            source_id,
            "{image} is not the image that was pushed"
        );
    }

    // SFORGE_REGISTRY stands in for --registry; images already here are not pulled again.
    let again = SforgeRun::of(
        bench
            .sforge()
            .timeout(QUICK_TIMEOUT)
            .env("SFORGE_REGISTRY", addr)
            .args(["pull", "--task", "coin_change"]),
    );
    again
        .expect_code(0)
        .expect_stdout(&format!("Registry: {addr}\n"));
    for image in images.all() {
        again.expect_stdout(&format!(
            "[registry] {image} is already present locally, skipped\n"
        ));
    }
    assert!(
        !again.stdout.contains("retagged"),
        "nothing is pulled again\n{again}"
    );
}

#[test]
fn pulling_images_the_registry_lacks_fails_and_names_them() {
    require_docker!();
    let Some(registry) = LocalRegistry::start() else {
        return;
    };
    let bench = TestBenchmark::new("sforge-test-reg");
    let images = bench.images("text_utils");
    let addr = registry.addr.as_str();
    let pull = SforgeRun::of(bench.sforge().timeout(QUICK_TIMEOUT).args([
        "pull",
        "--task",
        "text_utils",
        "--registry",
        addr,
    ]));
    pull.expect_code(1);
    for image in images.all() {
        pull.expect_output(&format!("{addr}/{image} does not exist in the registry"));
        assert!(!image_exists(image), "{image}\n{pull}");
    }
    pull.expect_output("FAILED");
}

#[test]
fn push_and_pull_without_a_registry_say_how_to_name_one() {
    let bench = TestBenchmark::new("sforge-test-reg");
    for verb in ["push", "pull"] {
        for empty in [None, Some("")] {
            let mut cmd = bench.sforge();
            cmd.timeout(QUICK_TIMEOUT)
                .args([verb, "--task", "coin_change"]);
            if let Some(value) = empty {
                cmd.env("SFORGE_REGISTRY", value);
            }
            let run = SforgeRun::of(&mut cmd);
            run.expect_code(1);
            assert!(
                run.stderr.contains(&format!(
                    "--registry or SFORGE_REGISTRY is required for {verb}"
                )),
                "{run}"
            );
            assert!(run.stdout.is_empty(), "{run}");
        }
    }
}
