//! The Kubernetes backend end to end (issue 7): `sforge eval` and `sforge run --backend k8s`
//! through the REAL kubectl (1.33 and 1.30) against the Kubernetes API test double, which runs
//! pods as Docker containers. A run equals the Docker run in content; Ctrl-C leaves no pod, secret
//! or policy; `--disable-internet` creates the policy and fails closed because the double does
//! not enforce it; no API key is on any kubectl command line (recorded by a wrapper).

// Tests observe the system directly (docker, kubectl, kill).
#![allow(clippy::disallowed_methods)]

#[path = "support/k8s_double/mod.rs"]
mod k8s_double;
mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, Weak};
use std::thread;
use std::time::{Duration, Instant};

use k8s_double::{K8sDouble, Options};
use serde_json::Value;
use support::{BenchFixture, SforgeRun};

const TASK: &str = "text_utils";
/// The second task of the mixed-backend experiment.
const OTHER_TASK: &str = "coin_change";
const RUN_LIMIT: Duration = Duration::from_secs(300);
const KUBECTL_VERSIONS: [&str; 2] = ["1.33", "1.30"];

static FIXTURE: Mutex<Weak<BenchFixture>> = Mutex::new(Weak::new());

/// The example benchmark with the images of the tasks these tests run built once.
fn fixture() -> Arc<BenchFixture> {
    support::built_benchmark(&FIXTURE, "sforge-test-k8s", &[TASK, OTHER_TASK])
}

/// The installed versioned kubectl binaries (both are required where the setup ran).
fn kubectls() -> Vec<String> {
    let found: Vec<String> = KUBECTL_VERSIONS
        .iter()
        .filter_map(|v| {
            let name = format!("kubectl.{v}");
            let sdk = Path::new("/usr/lib/google-cloud-sdk/bin").join(&name);
            if sdk.exists() {
                return Some(sdk.display().to_string());
            }
            which::which(&name).ok().map(|p| p.display().to_string())
        })
        .collect();
    if found.len() < KUBECTL_VERSIONS.len() {
        support::skip("kubectl.1.33 and kubectl.1.30 are not both installed", true);
    }
    found
}

/// A double, a kubectl wrapper that records every argv (and the YAML `apply` reads), and a
/// directory for one sforge invocation's files.
struct Cluster {
    double: K8sDouble,
    fixture: Arc<BenchFixture>,
    dir: PathBuf,
    wrapper: PathBuf,
    kubectl: String,
}

impl Cluster {
    fn start(kubectl: &str) -> Self {
        let fixture = fixture();
        let double = K8sDouble::start(Options::default());
        let dir = fixture.bench.root().join(support::unique_name("k8s-case"));
        std::fs::create_dir_all(&dir).unwrap();
        let wrapper = dir.join("kubectl-recorder");
        // A test double around the real kubectl: logs its arguments, keeps what `apply` reads.
        let script = format!(
            "#!/bin/bash\nprintf '%s\\n' \"$*\" >> '{log}'\nfor a in \"$@\"; do\n  if [ \"$a\" = apply ]; then\n    tee \"{dir}/apply-$(date +%s%N).yaml\" | '{real}' \"$@\"\n    exit\n  fi\ndone\nexec '{real}' \"$@\"\n",
            log = dir.join("kubectl-argv.log").display(),
            dir = dir.display(),
            real = kubectl,
        );
        std::fs::write(&wrapper, script).unwrap();
        support::make_executable(&wrapper);
        Cluster {
            double,
            fixture,
            dir,
            wrapper,
            kubectl: kubectl.to_owned(),
        }
    }

    fn sforge(&self, log_dir: &str) -> Command {
        let mut cmd = self.fixture.bench.sforge_process(&self.dir.join(log_dir));
        cmd.env("SFORGE_K8S_KUBECONFIG", self.double.kubeconfig_path())
            .env("SFORGE_KUBECTL", &self.wrapper)
            .env("KUBECACHEDIR", self.double.cache_dir());
        cmd
    }

    /// `sforge eval --backend k8s` of `archive` for the task.
    fn eval(&self, archive: &Path) -> Command {
        let mut cmd = self.sforge("logs");
        cmd.args(["eval", "--backend", "k8s", "--task", TASK, "--archive"])
            .arg(archive);
        cmd
    }

    /// The task's full example solution as a submission archive.
    fn solution_archive(&self) -> PathBuf {
        let archive = self.dir.join("solution.tar.gz");
        let solution = self
            .fixture
            .bench
            .tasks_dir()
            .join("solutions")
            .join(TASK)
            .join("full");
        std::fs::write(&archive, support::tar_gz_of_dir(&solution)).unwrap();
        archive
    }

    /// `sforge run --backend k8s` of the task with the script agent `agent_body`, the judge at
    /// `judge` (as pods see it) and `extra` flags.
    fn run_k8s(&self, agent_body: &str, judge: &str, extra: &[&str]) -> Command {
        let agent = self.agent_script(agent_body);
        let mut cmd = self.sforge("logs");
        cmd.args([
            "run",
            "--backend",
            "k8s",
            "--agent",
            "script",
            "--task",
            TASK,
        ])
        .args(["--judge-url", judge, "--agent-script"])
        .arg(agent)
        .args(extra);
        cmd
    }

    fn argv_log(&self) -> String {
        std::fs::read_to_string(self.dir.join("kubectl-argv.log")).unwrap_or_default()
    }

    /// Everything `kubectl apply` read, concatenated.
    fn applied_yaml(&self) -> String {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&self.dir)
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
            .collect();
        files.sort();
        files
            .iter()
            .map(|f| std::fs::read_to_string(f).unwrap())
            .collect::<Vec<_>>()
            .join("\n---\n")
    }

    /// Pods, secrets and policies left in the double's default namespace.
    fn leftovers(&self) -> Vec<String> {
        let out = support::run_ok(
            self.double.kubectl(&self.kubectl).args([
                "get",
                "pods,secrets,networkpolicies",
                "-o",
                "json",
            ]),
            None,
        );
        let list: Value = serde_json::from_slice(&out.stdout).unwrap();
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| format!("{}/{}", i["kind"], i["metadata"]["name"]))
            .collect()
    }

    /// Waits until the agent of run `run_id` printed `marker`, while `child` (sforge) runs.
    fn wait_for_agent(&self, child: &mut support::KillOnDrop, run_id: &str, marker: &str) {
        let output = self
            .dir
            .join("logs/runs")
            .join(run_id)
            .join(TASK)
            .join("agent_output.txt");
        let until = Instant::now() + Duration::from_secs(180);
        while !std::fs::read_to_string(&output)
            .unwrap_or_default()
            .contains(marker)
        {
            assert!(child.0.try_wait().unwrap().is_none(), "sforge exited early");
            assert!(Instant::now() < until, "the agent did not start");
            thread::sleep(Duration::from_millis(100));
        }
    }

    fn agent_script(&self, body: &str) -> PathBuf {
        let path = self.dir.join("agent.sh");
        std::fs::write(&path, body).unwrap();
        path
    }
}

/// A judge URL pods of the double reach: the Docker bridge gateway (this host).
fn judge_url() -> String {
    let gateway = support::bridge_gateway().0;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("http://{gateway}:{port}")
}

fn solver() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tasks/agents/text_utils_solver.sh");
    std::fs::read_to_string(path).unwrap()
}

fn run(cmd: Command) -> SforgeRun {
    let mut cmd = assert_cmd::Command::from_std(cmd);
    cmd.timeout(RUN_LIMIT);
    SforgeRun::of(&mut cmd)
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

/// The content of a `final_result.json` that must not depend on the backend.
fn comparable(result: &Value) -> Value {
    let mut result = result.clone();
    let map = result.as_object_mut().unwrap();
    for key in [
        "run_id",
        "runtime_seconds",
        "phase_seconds",
        "archive_size_bytes",
    ] {
        map.remove(key);
    }
    result
}

#[test]
fn eval_on_k8s_grades_a_solution() {
    require_docker!();
    for kubectl in kubectls() {
        let cluster = Cluster::start(&kubectl);
        let archive = cluster.solution_archive();
        let cmd = cluster.eval(&archive);
        run(cmd)
            .expect_code(0)
            .expect_output("Pass rate:   100.00%");
        let argv = cluster.argv_log();
        assert!(argv.contains(" apply "), "{argv}");
        assert!(argv.contains(" exec "), "{argv}");
        assert!(cluster.leftovers().is_empty(), "{:?}", cluster.leftovers());
    }
}

#[test]
fn a_k8s_run_equals_the_docker_run_and_keeps_the_key_off_command_lines() {
    require_docker!();
    let key = support::unique_name("sk-k8s-secret");
    let script = format!(
        "echo \"key ${{SFORGE_AGENT_API_KEY:+present}}\"\n{}",
        solver()
    );
    // The Docker run, once.
    let docker = Cluster::start(&kubectls()[0]);
    let agent = docker.agent_script(&script);
    let mut cmd = docker.sforge("docker-logs");
    cmd.args([
        "run",
        "--run-id",
        "dockerrun",
        "--agent",
        "script",
        "--task",
        TASK,
    ])
    .arg("--agent-script")
    .arg(&agent)
    .args(["--timeout", "120"]);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    cmd.args([
        "--judge-url",
        &format!("http://host.docker.internal:{port}"),
    ]);
    run(cmd).expect_code(0);
    let expected = comparable(&read_json(
        &docker
            .dir
            .join("docker-logs/runs/dockerrun")
            .join(TASK)
            .join("final_result.json"),
    ));
    assert_eq!(expected["best_pass_rate"], 1.0, "{expected}");

    for kubectl in kubectls() {
        let cluster = Cluster::start(&kubectl);
        let mut cmd = cluster.run_k8s(
            &script,
            &judge_url(),
            &["--run-id", "k8srun", "--timeout", "120"],
        );
        cmd.env("SFORGE_AGENT_API_KEY", &key);
        let outcome = run(cmd);
        outcome.expect_code(0);
        let task_dir = cluster.dir.join("logs/runs/k8srun").join(TASK);
        let result = read_json(&task_dir.join("final_result.json"));
        assert_eq!(comparable(&result), expected, "{kubectl}: {result:#}");
        let output = std::fs::read_to_string(task_dir.join("agent_output.txt")).unwrap();
        assert!(
            output.contains("key present"),
            "the key reached the agent: {output}"
        );
        let argv = cluster.argv_log();
        assert!(argv.contains(" exec "), "{argv}");
        assert!(
            !argv.contains(&key),
            "the API key is on a kubectl command line"
        );
        assert!(!outcome.stdout.contains(&key) && !outcome.stderr.contains(&key));
        // The key went to the cluster only as a Secret read from stdin.
        assert!(cluster.applied_yaml().contains("kind: Secret"));
        assert!(cluster.leftovers().is_empty(), "{:?}", cluster.leftovers());
    }
}

#[test]
fn ctrl_c_leaves_no_pod_secret_or_policy() {
    require_docker!();
    for kubectl in kubectls() {
        interrupt_on(&kubectl);
    }
}

fn interrupt_on(kubectl: &str) {
    let cluster = Cluster::start(kubectl);
    let mut cmd = cluster.run_k8s(
        "echo AGENT WAITING\nsleep 300\n",
        &judge_url(),
        &["--run-id", "k8sint", "--timeout", "200"],
    );
    cmd.env("SFORGE_AGENT_API_KEY", "sk-interrupt-test")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = support::KillOnDrop(cmd.spawn().unwrap());
    cluster.wait_for_agent(&mut child, "k8sint", "AGENT WAITING");
    assert!(
        !cluster.leftovers().is_empty(),
        "the pod and its secret exist while running"
    );
    support::run_ok(
        Command::new("kill").args(["-INT", &child.0.id().to_string()]),
        None,
    );
    let until = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.0.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < until, "sforge did not stop after SIGINT");
        thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(status.code(), Some(130));
    assert!(cluster.leftovers().is_empty(), "{:?}", cluster.leftovers());
}

#[test]
fn disable_internet_creates_the_policy_and_fails_closed_on_a_cluster_that_ignores_it() {
    require_docker!();
    for kubectl in kubectls() {
        let cluster = Cluster::start(&kubectl);
        let judge = judge_url();
        let cmd = cluster.run_k8s(
            "echo AGENT RAN\n",
            &judge,
            &["--run-id", "k8siso", "--disable-internet"],
        );
        run(cmd).expect_code(1);
        let task_dir = cluster.dir.join("logs/runs/k8siso").join(TASK);
        let result = read_json(&task_dir.join("final_result.json"));
        let error = result["error"].as_str().unwrap_or_default();
        assert!(
            error.contains("the cluster does not enforce NetworkPolicy"),
            "{error}"
        );
        let output = std::fs::read_to_string(task_dir.join("agent_output.txt")).unwrap_or_default();
        assert!(!output.contains("AGENT RAN"));
        // The policy: selects the pod, egress only, the judge's address and port, DNS to kube-dns.
        let yaml = cluster.applied_yaml();
        let policy = yaml
            .split("\n---\n")
            .find(|doc| doc.contains("kind: NetworkPolicy"))
            .unwrap_or_else(|| panic!("no policy applied:\n{yaml}"));
        let (host, port) = judge.trim_start_matches("http://").split_once(':').unwrap();
        for needle in [
            "name: sforge-iso-",
            "sforge-pod:",
            "- Egress",
            &format!("cidr: {host}/32"),
            &format!("port: {port}"),
            "k8s-app: kube-dns",
        ] {
            assert!(policy.contains(needle), "{needle:?} not in:\n{policy}");
        }
        assert!(cluster.leftovers().is_empty(), "{:?}", cluster.leftovers());
    }
}

#[test]
fn dry_run_on_k8s_prints_kubectl_commands_without_the_key() {
    require_docker!();
    let kubectl = kubectls()[0].clone();
    let cluster = Cluster::start(&kubectl);
    let key = support::unique_name("sk-dry-secret");
    let mut cmd = cluster.run_k8s(
        "echo hi\n",
        &judge_url(),
        &["--dry-run", "--disable-internet"],
    );
    cmd.env("SFORGE_AGENT_API_KEY", &key);
    let outcome = run(cmd);
    outcome
        .expect_code(0)
        .expect_stdout("apply -f -")
        .expect_stdout("kind: Pod")
        .expect_stdout("***")
        .expect_stdout("kind: NetworkPolicy")
        .expect_stdout("k8s-app: kube-dns");
    assert!(!outcome.stdout.contains(&key) && !outcome.stderr.contains(&key));
    assert!(cluster.leftovers().is_empty(), "a dry run creates nothing");
}

#[test]
fn pods_that_cannot_start_fail_in_seconds_naming_the_reason() {
    require_docker!();
    let kubectl = kubectls()[0].clone();
    let cluster = Cluster::start(&kubectl);
    let archive = cluster.dir.join("empty.tar.gz");
    let empty = tempfile::tempdir().unwrap();
    std::fs::write(&archive, support::tar_gz_of_dir(empty.path())).unwrap();
    for (var, value, needle) in [
        // No node has this label: the scheduler says so at once.
        (
            "SFORGE_K8S_NODE_SELECTOR",
            "pool=gpu-nodes",
            "pool=gpu-nodes",
        ),
        // The image cannot be pulled (the double looks it up on the local engine).
        (
            "SFORGE_K8S_IMAGE_REGISTRY",
            "127.0.0.1:1/no-such-namespace",
            "no-such-namespace",
        ),
    ] {
        let started = Instant::now();
        let mut cmd = cluster.eval(&archive);
        cmd.env(var, value);
        let outcome = run(cmd);
        outcome.expect_code(1).expect_output(needle);
        // Far below the 300-second start timeout: the pod's state is read, not waited out.
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "{var}: {:?}",
            started.elapsed()
        );
        assert!(
            cluster.leftovers().is_empty(),
            "{var}: {:?}",
            cluster.leftovers()
        );
    }
}

#[test]
fn the_deadline_stops_the_agent_in_its_pod() {
    require_docker!();
    let kubectl = kubectls()[0].clone();
    let cluster = Cluster::start(&kubectl);
    let cmd = cluster.run_k8s(
        "echo AGENT SLEEPING\nsleep 600\necho NEVER\n",
        &judge_url(),
        &[
            "--run-id",
            "k8sdeadline",
            "--timeout",
            "15",
            "--grace",
            "3",
            "--eval-interval",
            "0",
        ],
    );
    run(cmd).expect_code(0);
    let task_dir = cluster.dir.join("logs/runs/k8sdeadline").join(TASK);
    let result = read_json(&task_dir.join("final_result.json"));
    assert_eq!(result["timed_out"], true, "{result:#}");
    let output = std::fs::read_to_string(task_dir.join("agent_output.txt")).unwrap();
    assert!(
        output.contains("AGENT SLEEPING") && !output.contains("NEVER"),
        "{output}"
    );
    assert!(cluster.leftovers().is_empty(), "{:?}", cluster.leftovers());
}

#[test]
fn an_unreachable_cluster_is_reported_before_any_pod_with_hints() {
    require_docker!();
    let kubectl = kubectls()[0].clone();
    let cluster = Cluster::start(&kubectl);
    let dead = cluster.dir.join("dead.kubeconfig");
    // Nothing listens on port 1 of this machine.
    std::fs::write(
        &dead,
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: 'http://127.0.0.1:1'}\ncontexts:\n- name: c\n  context: {cluster: c, user: u}\nusers:\n- name: u\n  user: {}\ncurrent-context: c\n",
    )
    .unwrap();
    let mut cmd = cluster.run_k8s("echo hi\n", &judge_url(), &[]);
    cmd.env("SFORGE_K8S_KUBECONFIG", &dead);
    run(cmd)
        .expect_code(1)
        .expect_output("kubectl cannot reach the cluster")
        .expect_output("SFORGE_K8S_KUBECONFIG");
    let argv = cluster.argv_log();
    assert!(!argv.contains(" apply "), "nothing was created: {argv}");
}

#[test]
fn images_come_from_the_registry_and_a_missing_one_is_named_before_any_pod() {
    require_docker!();
    let Some(registry) = support::registry::LocalRegistry::start() else {
        return;
    };
    let kubectl = kubectls()[0].clone();
    let cluster = Cluster::start(&kubectl);
    let mut push = cluster.fixture.bench.sforge();
    push.args([
        "--silent",
        "push",
        "--registry",
        &registry.addr,
        "--task",
        TASK,
    ]);
    SforgeRun::of(&mut push).expect_code(0);
    let archive = cluster.solution_archive();
    // Found in the registry (the double then runs the same image from the local engine).
    let mut cmd = cluster.eval(&archive);
    cmd.env("SFORGE_K8S_IMAGE_REGISTRY", &registry.addr);
    run(cmd)
        .expect_code(0)
        .expect_output("Pass rate:   100.00%");
    // Not in the registry: named before any pod is created.
    std::fs::remove_file(cluster.dir.join("kubectl-argv.log")).unwrap();
    let elsewhere = format!("{}/elsewhere", registry.addr);
    let mut cmd = cluster.eval(&archive);
    cmd.env("SFORGE_K8S_IMAGE_REGISTRY", &elsewhere);
    run(cmd)
        .expect_code(1)
        .expect_output(&format!("is not in the registry {}", registry.addr))
        .expect_output("sforge push --registry");
    let argv = cluster.argv_log();
    assert!(!argv.contains(" apply "), "no pod was created: {argv}");
}

#[test]
fn serve_on_k8s_grades_submissions_in_pods() {
    use sforge::run::judge_client::{JudgeClient, Registration};
    require_docker!();
    let kubectl = kubectls()[0].clone();
    let cluster = Cluster::start(&kubectl);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let secret = support::unique_name("admin");
    let mut cmd = cluster.sforge("serve-logs");
    cmd.args(["serve", "--host", "127.0.0.1", "--port", &port.to_string()])
        .env("SFORGE_BACKEND", "k8s")
        .env("SFORGE_JUDGE_ADMIN_SECRET", &secret)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(cluster.dir.join("serve.stderr")).unwrap());
    let mut server = support::KillOnDrop(cmd.spawn().unwrap());
    let client = JudgeClient::new(&format!("http://127.0.0.1:{port}"), &secret);
    support::serve::wait_until_up(&mut server, &client);
    let token = client
        .register(TASK, "srvrun", &Registration::default())
        .unwrap();
    let solution = cluster
        .fixture
        .bench
        .tasks_dir()
        .join("solutions")
        .join(TASK)
        .join("full");
    client
        .submit(&token, &support::tar_gz_of_dir(&solution), "agent")
        .unwrap();
    let until = Instant::now() + Duration::from_secs(180);
    let entry = loop {
        let history = client.history(&token).unwrap();
        let entry = history.entries[0].clone();
        if !entry.is_pending() {
            break entry;
        }
        assert!(Instant::now() < until, "not graded: {history:?}");
        thread::sleep(Duration::from_millis(300));
    };
    assert_eq!(
        entry.status,
        sforge::judge::api::EntryStatus::Completed,
        "{entry:?}"
    );
    assert_eq!(
        entry.grade.as_ref().map(|g| g.pass_rate),
        Some(1.0),
        "{entry:?}"
    );
    let argv = cluster.argv_log();
    assert!(argv.contains(" exec "), "graded through kubectl: {argv}");
    support::run_ok(
        Command::new("kill").args(["-TERM", &server.0.id().to_string()]),
        None,
    );
    let _ = server.0.wait();
    assert!(cluster.leftovers().is_empty(), "{:?}", cluster.leftovers());
}

#[test]
fn an_experiment_mixes_backends_per_task() {
    require_docker!();
    let kubectl = kubectls()[0].clone();
    let cluster = Cluster::start(&kubectl);
    let solvers = Path::new(env!("CARGO_MANIFEST_DIR")).join("tasks/agents");
    let experiment = cluster.dir.join("mixed.yaml");
    std::fs::write(
        &experiment,
        format!(
            "defaults:\n  agent: script\n  eval_interval: 0\ntasks:\n  {TASK}:\n    backend: k8s\n  {OTHER_TASK}:\n    backend: docker\n"
        ),
    )
    .unwrap();
    // One script for both tasks: each runs its own task's solver.
    let solver =
        |task: &str| std::fs::read_to_string(solvers.join(format!("{task}_solver.sh"))).unwrap();
    let agent = cluster.agent_script(&format!(
        "case \"$SFORGE_PATCH_DIR\" in\n  *{TASK}*)\n{}\n;;\n  *)\n{}\n;;\nesac\n",
        solver(TASK),
        solver(OTHER_TASK),
    ));
    let mut cmd = cluster.sforge("logs");
    cmd.args(["run", "--run-id", "mixed", "--experiment"])
        .arg(&experiment)
        .args(["--timeout", "120", "--judge-url", &judge_url()])
        .arg("--agent-script")
        .arg(&agent);
    run(cmd).expect_code(0);
    for task in [TASK, OTHER_TASK] {
        let result = read_json(
            &cluster
                .dir
                .join("logs/runs/mixed")
                .join(task)
                .join("final_result.json"),
        );
        assert_eq!(result["best_pass_rate"], 1.0, "{task}: {result:#}");
    }
    // text_utils ran (and was graded) in pods, coin_change in plain containers.
    let argv = cluster.argv_log();
    assert!(argv.contains("text-utils"), "{argv}");
    assert!(
        !argv.contains("coin-change") && !argv.contains("coin_change"),
        "{argv}"
    );
    assert!(cluster.leftovers().is_empty(), "{:?}", cluster.leftovers());
}

#[test]
fn the_extra_ca_reaches_the_pod_on_stdin_and_is_trusted_there() {
    require_docker!();
    let cluster = Cluster::start(&kubectls()[0]);
    let gateway = support::bridge_gateway().0;
    let pki = support::pki::TestPki::new("sforge k8s CA test", &[&gateway.to_string()]);
    let server = support::pki::HttpsServer::start(
        std::net::IpAddr::V4(gateway),
        Arc::clone(&pki.server),
        "hello",
    );
    let url = format!("https://{gateway}:{}/", server.addr.port());
    let script = format!(
        "if curl -fsS --max-time 10 {url} >/dev/null; then echo 'CURL trusts'; else echo 'CURL refuses'; fi\n\
         echo \"bundle $SSL_CERT_FILE\"\nexit 0\n"
    );
    let ca = pki.ca_file.to_str().unwrap();
    let cmd = cluster.run_k8s(
        &script,
        &judge_url(),
        &["--run-id", "carun", "--timeout", "60", "--ca-file", ca],
    );
    run(cmd).expect_code(0);
    let task_dir = cluster.dir.join("logs/runs/carun").join(TASK);
    let output = std::fs::read_to_string(task_dir.join("agent_output.txt")).unwrap();
    assert!(output.contains("CURL trusts"), "{output}");
    assert!(
        output.contains("bundle /etc/ssl/certs/sforge-ca-bundle.pem"),
        "{output}"
    );
    // The certificate went in through `kubectl exec` stdin, never as an argument.
    let cert_line = std::fs::read_to_string(&pki.ca_file)
        .unwrap()
        .lines()
        .nth(1)
        .unwrap()
        .to_owned();
    assert!(!cluster.argv_log().contains(&cert_line));
    assert!(cluster.leftovers().is_empty(), "{:?}", cluster.leftovers());
}

#[test]
fn gc_removes_the_pod_and_secret_of_a_killed_run() {
    require_docker!();
    let kubectl = kubectls().into_iter().next().expect("a kubectl");
    let cluster = Cluster::start(&kubectl);
    let mut cmd = cluster.run_k8s(
        "echo AGENT WAITING\nsleep 300\n",
        &judge_url(),
        &["--run-id", "k8sgc", "--timeout", "200"],
    );
    cmd.env("SFORGE_AGENT_API_KEY", "sk-gc-test")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = support::KillOnDrop(cmd.spawn().unwrap());
    let pid = child.0.id();
    cluster.wait_for_agent(&mut child, "k8sgc", "AGENT WAITING");
    // While sforge runs, gc keeps everything of it.
    let gc_command = || {
        let mut cmd = cluster.sforge("logs");
        cmd.args(["-v", "gc", "--backend", "k8s"]);
        cmd
    };
    let kept = run(gc_command());
    kept.expect_code(0);
    assert!(
        !kept.stdout.lines().any(|l| l.starts_with("removed ")),
        "{kept}"
    );
    assert!(kept.stderr.contains("in use by sforge process"), "{kept}");
    child.0.kill().unwrap();
    child.0.wait().unwrap();
    // Its pod and secret, and the warm judge pod (with its policy) when it was up already.
    let left = cluster.leftovers();
    assert!(
        left.iter().any(|l| l.starts_with("\"Pod\"/\"run-"))
            && left.iter().any(|l| l.starts_with("\"Secret\"")),
        "a killed run leaves its pod and secret: {left:?}"
    );
    let gc = run(gc_command());
    gc.expect_code(0)
        .expect_stdout(&format!("(its sforge process {pid} is gone)"))
        .expect_stdout("removed pod ")
        .expect_stdout("removed secret ");
    assert!(cluster.leftovers().is_empty(), "{:?}", cluster.leftovers());
}
