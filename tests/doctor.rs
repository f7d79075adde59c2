//! `sforge doctor` meeting real failures: an engine socket that answers nothing, a user without
//! firewall rights (or access to the engine), a judge that is not listening, an unreachable
//! cluster — and a healthy engine and cluster (the Kubernetes API test double) passing.

// Tests observe the system directly, independent of the product's process gateway.
#![allow(clippy::disallowed_methods)]

#[path = "support/k8s_double/mod.rs"]
mod k8s_double;
mod support;

use std::os::unix::fs::PermissionsExt as _;
use std::os::unix::net::UnixListener;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use k8s_double::{K8sDouble, Options};
use serde_json::Value;
use support::{BenchFixture, SforgeRun, TestBenchmark};

static FIXTURE: Mutex<Weak<BenchFixture>> = Mutex::new(Weak::new());

/// The example benchmark with `text_utils`' images built (the probe container's image).
fn fixture() -> Arc<BenchFixture> {
    support::built_benchmark(&FIXTURE, "sforge-test-doctor", &["text_utils"])
}

/// `sforge doctor --json` with `env`; the run and its checks by name.
fn doctor(bench: &TestBenchmark, args: &[&str], env: &[(&str, &str)]) -> (SforgeRun, Value) {
    let mut cmd = bench.sforge();
    cmd.args(["doctor", "--json"])
        .args(args)
        .timeout(Duration::from_secs(180));
    for (k, v) in env {
        cmd.env(k, v);
    }
    let run = SforgeRun::of(&mut cmd);
    let checks: Vec<Value> = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("doctor --json printed no JSON ({e})\n{run}"));
    let by_name: serde_json::Map<String, Value> = checks
        .into_iter()
        .map(|c| (c["name"].as_str().unwrap_or_default().to_owned(), c))
        .collect();
    (run, Value::Object(by_name))
}

fn status<'a>(checks: &'a Value, name: &str) -> &'a str {
    checks[name]["status"]
        .as_str()
        .unwrap_or_else(|| panic!("no check {name:?} in {checks:#}"))
}

/// Probe containers whose doctor has exited (others may run concurrently).
fn assert_no_orphan_probe() {
    let out = support::run_ok(
        std::process::Command::new("docker").args([
            "ps",
            "-a",
            "--filter",
            "name=sforge.doctor.",
            "--format",
            "{{.Names}} {{.Label \"sforge.pid\"}}",
        ]),
        None,
    );
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let pid = line.split_whitespace().nth(1).unwrap_or("0");
        assert!(
            std::path::Path::new(&format!("/proc/{pid}")).exists(),
            "a probe container outlived its doctor: {line}"
        );
    }
}

#[test]
fn a_healthy_engine_passes_and_the_probe_container_reaches_this_host() {
    require_docker!();
    let fixture = fixture();
    let (run, checks) = doctor(&fixture.bench, &[], &[]);
    run.expect_code(0);
    for name in [
        "docker client",
        "docker engine",
        "iptables rights",
        "task images",
        "container to host",
        "bridge MAC",
    ] {
        // Only text_utils is built: the other tasks' images are a warning.
        let want = if name == "task images" {
            "warn"
        } else {
            "pass"
        };
        assert_eq!(status(&checks, name), want, "{name}: {:#}", checks[name]);
    }
    assert_no_orphan_probe();
    // The table form says the same, with the fix under each warning.
    let mut table = fixture.bench.sforge();
    table.arg("doctor").timeout(Duration::from_secs(180));
    SforgeRun::of(&mut table)
        .expect_code(0)
        .expect_stdout("ok    docker engine")
        .expect_stdout("fix: sforge build --all");
}

#[test]
fn an_engine_socket_that_answers_nothing_fails_within_the_check_timeout() {
    require_docker!();
    let bench = TestBenchmark::new("sforge-test-doctor-silent");
    let socket = bench.root().join("silent.sock");
    let listener = UnixListener::bind(&socket).expect("bind the silent socket");
    // Accept connections and never answer.
    let held = Arc::new(Mutex::new(Vec::new()));
    let keep = Arc::clone(&held);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            keep.lock().unwrap().push(stream);
        }
    });
    let host = format!("unix://{}", socket.display());
    let started = Instant::now();
    let (run, checks) = doctor(&bench, &[], &[("DOCKER_HOST", &host)]);
    run.expect_code(1);
    assert_eq!(status(&checks, "docker client"), "pass");
    assert_eq!(status(&checks, "docker engine"), "fail", "{checks:#}");
    assert!(checks["docker engine"]["fix"]
        .as_str()
        .unwrap()
        .contains("DOCKER_HOST"));
    assert_eq!(status(&checks, "container to host"), "skip");
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn a_user_without_firewall_rights_or_engine_access_is_told_the_fix() {
    require_docker!();
    let bench = TestBenchmark::new("sforge-test-doctor-user");
    // One task needs isolation, so missing firewall rights are a failure, not a warning.
    let mut task = bench.task("text_utils");
    task["internet"] = Value::Bool(false);
    bench.write_task(&task);
    std::fs::set_permissions(bench.root(), std::fs::Permissions::from_mode(0o755)).unwrap();
    // Really unprivileged: the same binary as user nobody, which may neither change the
    // firewall nor use the engine's socket (and has no sudo).
    let mut cmd = assert_cmd::Command::new("setpriv");
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", "/nonexistent")
        .env("SFORGE_DOCKER", support::docker_bin())
        .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups"])
        .arg(assert_cmd::cargo::cargo_bin("sforge"))
        .arg("--tasks-dir")
        .arg(bench.tasks_dir())
        .arg("--log-dir")
        .arg(bench.root().join("nobody-logs"))
        .args(["doctor", "--json"])
        .timeout(Duration::from_secs(120));
    let run = SforgeRun::of(&mut cmd);
    run.expect_code(1);
    let checks: Vec<Value> = serde_json::from_str(&run.stdout).expect("JSON");
    let find = |name: &str| checks.iter().find(|c| c["name"] == name).cloned().unwrap();
    let iptables = find("iptables rights");
    assert_eq!(iptables["status"], "fail", "{iptables:#}");
    assert!(
        iptables["detail"].as_str().unwrap().contains("text_utils"),
        "{iptables:#}"
    );
    assert!(
        iptables["fix"]
            .as_str()
            .unwrap()
            .contains("sudo -n iptables"),
        "{iptables:#}"
    );
    assert_eq!(find("docker engine")["status"], "fail");
}

#[test]
fn a_judge_that_is_not_listening_fails_from_inside_a_container() {
    require_docker!();
    let fixture = fixture();
    let port = std::net::TcpListener::bind("0.0.0.0:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://host.docker.internal:{port}");
    let (run, checks) = doctor(&fixture.bench, &["--judge-url", &url], &[]);
    run.expect_code(1);
    assert_eq!(
        status(&checks, "judge from a container"),
        "fail",
        "{checks:#}"
    );
    assert!(checks["judge from a container"]["fix"]
        .as_str()
        .unwrap()
        .contains("--host 0.0.0.0"));
    // Control: the same check passes while something listens there.
    let listener = std::net::TcpListener::bind(("0.0.0.0", port)).unwrap();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            use std::io::{Read, Write};
            let _ = stream.read(&mut [0u8; 1024]);
            let _ = stream.write_all(b"HTTP/1.0 401 Unauthorized\r\nContent-Length: 0\r\n\r\n");
        }
    });
    let (_, checks) = doctor(&fixture.bench, &["--judge-url", &url], &[]);
    assert_eq!(
        status(&checks, "judge from a container"),
        "pass",
        "{checks:#}"
    );
}

#[test]
fn kubernetes_checks_pass_on_the_double_and_an_unreachable_cluster_fails() {
    require_docker!();
    let bench = TestBenchmark::new("sforge-test-doctor-k8s");
    let double = K8sDouble::start(Options::default());
    let cache = double.cache_dir();
    let env = [
        (
            "SFORGE_K8S_KUBECONFIG",
            double.kubeconfig_path().to_str().unwrap(),
        ),
        ("KUBECACHEDIR", cache.to_str().unwrap()),
    ];
    let (run, checks) = doctor(&bench, &["--backend", "k8s"], &env);
    run.expect_code(0);
    for name in [
        "kubectl",
        "cluster",
        "namespace",
        "may create pods",
        "may create secrets",
        "may create networkpolicies",
        "may create pods/exec",
    ] {
        assert_eq!(status(&checks, name), "pass", "{name}: {checks:#}");
    }
    let dead = bench.root().join("dead.kubeconfig");
    // Nothing listens on port 1 of this machine.
    std::fs::write(
        &dead,
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: 'http://127.0.0.1:1'}\ncontexts:\n- name: c\n  context: {cluster: c, user: u}\nusers:\n- name: u\n  user: {}\ncurrent-context: c\n",
    )
    .unwrap();
    let (run, checks) = doctor(
        &bench,
        &["--backend", "k8s"],
        &[("SFORGE_K8S_KUBECONFIG", dead.to_str().unwrap())],
    );
    run.expect_code(1);
    assert_eq!(status(&checks, "cluster"), "fail", "{checks:#}");
    assert!(checks["cluster"]["fix"]
        .as_str()
        .unwrap()
        .contains("SFORGE_K8S_KUBECONFIG"));
}
