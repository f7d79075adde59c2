//! Game sessions on the Kubernetes backend: `sforge serve` with `SFORGE_BACKEND=k8s` plays
//! Lantern Cave in a game pod of the Kubernetes API test double (which runs pods as Docker
//! containers) through the real kubectl, and leaves no pod, secret or policy behind. The double
//! does not enforce network policies: the offline run's game pod gets its deny-all policy, and the
//! game is still played (the judge talks to the app through `kubectl exec`, not the pod network);
//! that the wall holds is checked on Docker (`tests/game_e2e.rs`).

// Tests observe the system directly (docker, kubectl, kill).
#![allow(clippy::disallowed_methods)]

#[path = "support/k8s_double/mod.rs"]
mod k8s_double;
mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use k8s_double::{K8sDouble, Options};
use serde_json::{json, Value};
use sforge::run::judge_client::{JudgeClient, Registration};
use support::{BenchFixture, SforgeRun, TestBenchmark};

const LANTERN: &str = "lantern_cave";

static FIXTURE: Mutex<Weak<BenchFixture>> = Mutex::new(Weak::new());

fn fixture() -> Arc<BenchFixture> {
    support::shared_fixture(&FIXTURE, || {
        let bench = TestBenchmark::new("sforge-test-game-k8s");
        let task = Path::new(env!("CARGO_MANIFEST_DIR")).join("tasks/games/lantern_cave.json");
        let text = std::fs::read_to_string(task).expect("read lantern_cave.json");
        bench.write_task(&serde_json::from_str(&text).expect("lantern_cave.json is JSON"));
        let mut build = bench.sforge();
        build.args(["--silent", "build", "--task", LANTERN]);
        SforgeRun::of(&mut build).expect_code(0);
        BenchFixture { bench }
    })
}

/// `kubectl.1.33` from the Cloud SDK directory or `PATH`.
fn kubectl() -> Option<String> {
    let sdk = Path::new("/usr/lib/google-cloud-sdk/bin").join("kubectl.1.33");
    if sdk.exists() {
        return Some(sdk.display().to_string());
    }
    which::which("kubectl.1.33")
        .ok()
        .map(|p| p.display().to_string())
}

/// One game call with the run's token as a bearer token.
fn call(url: &str, token: &str, body: &Value) -> Value {
    let reply = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(120))
        .build()
        .post(url)
        .set("Authorization", &format!("Bearer {token}"))
        .send_json(body.clone());
    match reply {
        Ok(r) => r.into_json().expect("a JSON answer"),
        Err(e) => panic!("{url}: {e}"),
    }
}

#[test]
fn serve_on_k8s_plays_a_game_in_a_pod() {
    require_docker!();
    let Some(kubectl) = kubectl() else {
        support::skip("kubectl.1.33 is not installed", true);
        return;
    };
    let fixture = fixture();
    let double = K8sDouble::start(Options::default());
    let dir: PathBuf = fixture.bench.root().join(support::unique_name("game-k8s"));
    std::fs::create_dir_all(&dir).expect("create the case directory");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let secret = support::unique_name("admin");
    let mut cmd = fixture.bench.sforge_process(&dir.join("logs"));
    cmd.args(["serve", "--host", "127.0.0.1", "--port", &port.to_string()])
        .env("SFORGE_BACKEND", "k8s")
        .env("SFORGE_JUDGE_ADMIN_SECRET", &secret)
        .env("SFORGE_K8S_KUBECONFIG", double.kubeconfig_path())
        .env("SFORGE_KUBECTL", &kubectl)
        .env("KUBECACHEDIR", double.cache_dir())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("serve.stderr")).expect("stderr file"));
    let mut server = support::KillOnDrop(cmd.spawn().expect("start sforge serve"));
    let base = format!("http://127.0.0.1:{port}");
    let client = JudgeClient::new(&base, &secret);
    support::serve::wait_until_up(&mut server, &client);
    let run = support::unique_name("k8sgame");
    let registration = Registration {
        internet: Some(false),
        ..Registration::default()
    };
    let token = client.register(LANTERN, &run, &registration).unwrap();
    let games = format!("{base}/api/v1/game/{run}/{LANTERN}");
    let started = call(&format!("{games}/new"), &token, &json!({}));
    let sid = started["session_id"]
        .as_str()
        .expect("a session id")
        .to_owned();
    let policies = support::run_ok(
        double
            .kubectl(&kubectl)
            .args(["get", "networkpolicies", "-o", "name"]),
        None,
    );
    let policies = String::from_utf8_lossy(&policies.stdout).into_owned();
    assert!(
        policies.contains("sforge-iso-"),
        "the offline game pod has its policy: {policies:?}"
    );
    let mut last = started;
    for action in [
        "take lamp",
        "north",
        "take key",
        "unlock door",
        "east",
        "take treasure",
    ] {
        last = call(
            &format!("{games}/{sid}/step"),
            &token,
            &json!({"action": action}),
        );
    }
    assert_eq!(
        (last["score"].as_i64(), last["done"].as_bool()),
        (Some(3), Some(true)),
        "{last}"
    );
    let history = client.agent_history(&token).unwrap();
    assert_eq!(history.best_round, "game-1", "{history:?}");
    assert!((history.best_pass_rate - 1.0).abs() < 1e-9);
    let stderr = std::fs::read_to_string(dir.join("serve.stderr")).unwrap_or_default();
    support::run_ok(
        Command::new("kill").args(["-TERM", &server.0.id().to_string()]),
        None,
    );
    let _ = server.0.wait();
    let left = support::run_ok(
        double
            .kubectl(&kubectl)
            .args(["get", "pods,secrets,networkpolicies", "-o", "name"]),
        None,
    );
    let left = String::from_utf8_lossy(&left.stdout).trim().to_owned();
    assert!(left.is_empty(), "left on the cluster: {left}\n{stderr}");
}
