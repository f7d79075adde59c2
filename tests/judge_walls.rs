//! Judge containers are walled too (issue 12, item 1), with real runs, real judge containers and
//! real iptables. The agent of an isolated run listens in its Work container and submits code
//! whose grading tries to connect to that listener and to a decoy this test starts on the host:
//! both are blocked — by `--network none` for the judge by default, and by the Work container's
//! chain (no new inbound connections) when the task opts its judge into the network. With
//! internet on, the judge reaches the host decoy (so the probe works) but still not the Work
//! container, whose listener the agent itself reaches: judge containers with network live on a
//! bridge of their own without inter-container traffic.

// Tests observe the system directly (docker, iptables).
#![allow(clippy::disallowed_methods)]

mod support;

use std::net::{Ipv4Addr, TcpListener};
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, Mutex, Weak};
use std::thread;
use std::time::Duration;

use support::{BenchFixture, SforgeRun};

const TASK: &str = "text_utils";
/// Where the agent listens inside its Work container.
const LISTEN_PORT: u16 = 7777;

static FIXTURE: Mutex<Weak<BenchFixture>> = Mutex::new(Weak::new());

fn fixture() -> Arc<BenchFixture> {
    support::built_benchmark(&FIXTURE, "sforge-test-walls", &[TASK])
}

/// A TCP listener on every IPv4 address of this host that records who connected.
struct Decoy {
    port: u16,
    peers: Arc<Mutex<Vec<String>>>,
}

impl Decoy {
    fn start() -> Self {
        let listener = TcpListener::bind((Ipv4Addr::UNSPECIFIED, 0)).expect("bind the decoy");
        let port = listener.local_addr().unwrap().port();
        let peers = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&peers);
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                if let Ok(peer) = stream.peer_addr() {
                    seen.lock().unwrap().push(peer.ip().to_string());
                }
            }
        });
        Decoy { port, peers }
    }

    fn peers(&self) -> Vec<String> {
        self.peers.lock().unwrap().clone()
    }
}

/// The agent: listens on `LISTEN_PORT` (recording peers in /tmp/hits), writes a `textkit.py`
/// whose functions try the listener (by the Work container's address) and the decoy, submits it
/// and prints how many connections its listener saw.
fn agent_script(decoy: &str) -> String {
    format!(
        r#"#!/bin/bash
export SFORGE_SUBMIT_POLL_INTERVAL=1
ME=$(python3 -c 'import socket; print(socket.gethostbyname(socket.gethostname()))')
python3 - <<'PY' &
import socket
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", {LISTEN_PORT}))
s.listen(16)
while True:
    c, peer = s.accept()
    with open("/tmp/hits", "a") as f:
        f.write(peer[0] + "\n")
    c.close()
PY
sleep 1
cat > textkit.py <<PY
import socket
def _probe(host, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(2)
    try:
        s.connect((host, port))
        return "open"
    except Exception as e:
        return "closed-" + type(e).__name__
    finally:
        s.close()
def slugify(text):
    return "WALLPROBE work=" + _probe("$ME", {LISTEN_PORT})
def word_count(text):
    return {{"WALLPROBE decoy=" + _probe("{decoy}".split(":")[0], int("{decoy}".split(":")[1])): 1}}
def is_palindrome(text):
    return "WALLPROBE"
PY
echo "SELF PROBE: $(python3 -c 'import socket; s = socket.create_connection(("'"$ME"'", {LISTEN_PORT}), 2); print("open")' 2>/dev/null || echo closed)"
sleep 1
: > /tmp/hits
sforge-submit
echo "LISTENER HITS: $(cat /tmp/hits 2>/dev/null | wc -l)"
"#
    )
}

/// One `sforge run` of the script agent, with its own log directory and judge port.
struct Case {
    /// Keeps the benchmark (and its images) alive while the case runs.
    _fixture: Arc<BenchFixture>,
    dir: PathBuf,
    run_id: String,
    tasks_dir: PathBuf,
}

impl Case {
    /// `judge_internet`: a copy of the benchmark whose task opts its judge into the network.
    fn new(script: &str, judge_internet: bool) -> Self {
        let fixture = fixture();
        let run_id = support::unique_name("walls");
        let dir = fixture.bench.root().join(format!("case-{run_id}"));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("agent.sh"), script).unwrap();
        let tasks_dir = if judge_internet {
            let copy = dir.join("tasks");
            support::copy_tree(&fixture.bench.tasks_dir(), &copy);
            let mut task = fixture.bench.task(TASK);
            task["judge"]["internet"] = true.into();
            let text = serde_json::to_string_pretty(&task).unwrap();
            std::fs::write(copy.join(format!("{TASK}.json")), text).unwrap();
            copy
        } else {
            fixture.bench.tasks_dir()
        };
        Case {
            _fixture: fixture,
            dir,
            run_id,
            tasks_dir,
        }
    }

    fn run(&self, isolated: bool) -> SforgeRun {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut cmd = assert_cmd::Command::cargo_bin("sforge").unwrap();
        cmd.env_clear();
        for var in ["PATH", "HOME"] {
            if let Some(value) = std::env::var_os(var) {
                cmd.env(var, value);
            }
        }
        cmd.env("SFORGE_DOCKER", support::docker_bin())
            .arg("--tasks-dir")
            .arg(&self.tasks_dir)
            .arg("--log-dir")
            .arg(self.dir.join("logs"))
            .args(["run", "--run-id", &self.run_id, "--agent", "script"])
            .args(["--task", TASK, "--timeout", "150", "--no-final-eval"])
            .arg("--agent-script")
            .arg(self.dir.join("agent.sh"))
            .args([
                "--judge-url",
                &format!("http://host.docker.internal:{port}"),
            ]);
        cmd.arg(if isolated {
            "--disable-internet"
        } else {
            "--enable-internet"
        });
        cmd.timeout(Duration::from_secs(300));
        SforgeRun::of(&mut cmd)
    }

    fn task_file(&self, file: &str) -> String {
        let path = self.dir.join("logs/runs").join(&self.run_id).join(TASK);
        std::fs::read_to_string(path.join(file)).unwrap_or_default()
    }

    /// What the graded code saw: `work` (the agent's listener) and `decoy` (this host).
    fn seen_by_the_judge(&self) -> (String, String) {
        let output = self.task_file("submissions/agent-1/test_output.txt");
        let find = |key: &str| -> String {
            let at = output
                .find(&format!("WALLPROBE {key}="))
                .unwrap_or_else(|| panic!("no {key} probe in the grading output:\n{output}"));
            let value = &output[at + "WALLPROBE ".len() + key.len() + 1..];
            value
                .split(|c: char| c == '\'' || c.is_whitespace())
                .next()
                .unwrap_or_default()
                .to_owned()
        };
        (find("work"), find("decoy"))
    }

    /// Whether the agent reached its own listener on the Work container's address.
    fn self_probe(&self) -> String {
        let output = self.task_file("agent_output.txt");
        output
            .lines()
            .find_map(|l| l.strip_prefix("SELF PROBE: "))
            .unwrap_or_else(|| panic!("no self probe in the agent output:\n{output}"))
            .trim()
            .to_owned()
    }

    fn listener_hits(&self) -> usize {
        let output = self.task_file("agent_output.txt");
        output
            .lines()
            .find_map(|l| l.strip_prefix("LISTENER HITS: "))
            .unwrap_or_else(|| panic!("no listener count in the agent output:\n{output}"))
            .trim()
            .parse()
            .unwrap()
    }

    fn assert_no_container_left(&self) {
        let left = support::containers_matching(&[&format!("label=sforge.run-id={}", self.run_id)]);
        assert!(left.is_empty(), "containers left: {left:?}");
    }
}

fn gateway() -> Ipv4Addr {
    support::bridge_gateway().0
}

#[test]
fn with_internet_on_the_graded_code_reaches_the_host_but_not_the_work_container() {
    require_docker!();
    let decoy = Decoy::start();
    let case = Case::new(
        &agent_script(&format!("{}:{}", gateway(), decoy.port)),
        false,
    );
    case.run(false).expect_code(0);
    let (work, host) = case.seen_by_the_judge();
    // Controls: the probe works (it reaches the host decoy from the judge) and the listener
    // answers on the Work container's address (the agent reached it itself).
    assert_eq!(host, "open", "control: the judge reaches the host decoy");
    assert!(!decoy.peers().is_empty());
    assert_eq!(case.self_probe(), "open", "control: the listener answers");
    // The judge's own bridge keeps it from the Work container's.
    assert!(work.starts_with("closed-"), "work: {work}");
    assert_eq!(case.listener_hits(), 0, "the listener saw the judge");
    // Judge containers cannot reach each other either: their bridge has no inter-container
    // traffic.
    let icc = support::run_ok(
        Command::new("docker").args([
            "network",
            "inspect",
            "--format",
            "{{index .Options \"com.docker.network.bridge.enable_icc\"}}",
            "sforge-walled",
        ]),
        None,
    );
    assert_eq!(String::from_utf8_lossy(&icc.stdout).trim(), "false");
    case.assert_no_container_left();
}

#[test]
fn in_an_isolated_run_the_graded_code_reaches_neither_the_work_container_nor_the_host() {
    require_docker!();
    let decoy = Decoy::start();
    let case = Case::new(
        &agent_script(&format!("{}:{}", gateway(), decoy.port)),
        false,
    );
    case.run(true).expect_code(0);
    let (work, host) = case.seen_by_the_judge();
    // No network at all: the connection fails at once (no route), not by a timeout.
    assert!(work.starts_with("closed-"), "work: {work}");
    assert!(host.starts_with("closed-"), "decoy: {host}");
    assert_eq!(case.listener_hits(), 0);
    assert!(
        decoy.peers().is_empty(),
        "the decoy saw {:?}",
        decoy.peers()
    );
    case.assert_no_container_left();
}

#[test]
fn a_judge_opted_into_the_network_still_cannot_connect_into_an_isolated_work_container() {
    require_docker!();
    let decoy = Decoy::start();
    let case = Case::new(
        &agent_script(&format!("{}:{}", gateway(), decoy.port)),
        true,
    );
    case.run(true).expect_code(0);
    let (work, host) = case.seen_by_the_judge();
    // The judge has the network (it reaches the host), yet the Work container refuses it.
    assert_eq!(host, "open", "the opted-in judge has a network");
    assert!(work.starts_with("closed-"), "work: {work}");
    assert_eq!(case.listener_hits(), 0);
    case.assert_no_container_left();
}

/// Judge containers keep only the capabilities grading needs and gain no privileges: checked
/// from inside a real judge container, through a submission graded by `sforge eval`.
#[test]
fn graded_code_runs_without_raw_sockets_new_privileges_or_spare_capabilities() {
    require_docker!();
    let fixture = fixture();
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("src");
    std::fs::create_dir_all(&source).unwrap();
    std::fs::write(
        source.join("textkit.py"),
        r#"import socket
def _status():
    # PID 1 of the container: what the engine gave it (the grader's child sets its own NNP).
    fields = dict(l.split(":\t", 1) for l in open("/proc/1/status").read().splitlines() if ":\t" in l)
    return "CAPS " + fields["CapBnd"].strip() + " NNP " + fields["NoNewPrivs"].strip()
def _raw():
    try:
        socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        return "RAW allowed"
    except Exception as e:
        return "RAW denied"
def slugify(text):
    return "WALLPROBE " + _status() + " " + _raw()
def word_count(text):
    return {}
def is_palindrome(text):
    return False
"#,
    )
    .unwrap();
    let archive = dir.path().join("s.tar.gz");
    support::run_ok(
        Command::new("tar")
            .arg("-czf")
            .arg(&archive)
            .arg("-C")
            .arg(&source)
            .arg("textkit.py"),
        None,
    );
    let mut eval = fixture.bench.sforge();
    eval.args(["eval", "--task", TASK, "--json", "--archive"])
        .arg(&archive);
    let run = SforgeRun::of(&mut eval);
    run.expect_code(0);
    let output = format!("{}{}", run.stdout, run.stderr);
    let after = |key: &str| -> String {
        let at = output
            .find(&format!("WALLPROBE {key} "))
            .unwrap_or_else(|| panic!("no {key} in the grading output\n{run}"));
        output[at..].split_whitespace().nth(2).unwrap().to_owned()
    };
    let caps = u64::from_str_radix(&after("CAPS"), 16).unwrap();
    // Bits of linux/capability.h: CHOWN 0, DAC_OVERRIDE 1, FOWNER 3, FSETID 4, KILL 5,
    // SETGID 6, SETUID 7; NET_RAW is 13, SYS_CHROOT 18, MKNOD 27.
    assert_eq!(caps, 0b1111_1011, "bounding set {caps:#x}");
    let line = &output[output.find("WALLPROBE CAPS").unwrap()..];
    assert!(line.contains(" NNP 1 RAW denied"), "{line}");
}
