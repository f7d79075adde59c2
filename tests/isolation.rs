//! Network isolation on the real Docker engine with real iptables (issue 6): an isolated Work
//! container reaches the judge and the API and nothing else (decoys started by the test on this
//! host and in a second container, IPv6, raw and ICMP sockets, DNS), the self-check fails the run
//! closed when the rules are missing, and no chain or jump is left behind — after a normal run,
//! SIGINT and SIGTERM. Every address used is on this machine.

// Tests observe the system directly (docker, iptables, kill).
#![allow(clippy::disallowed_methods)]

mod support;

use std::io::{Read as _, Write as _};
use std::net::{Ipv4Addr, TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, Weak};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::{BenchFixture, SforgeRun};

const TASK: &str = "text_utils";
const RUN_LIMIT: Duration = Duration::from_secs(240);

static FIXTURE: Mutex<Weak<BenchFixture>> = Mutex::new(Weak::new());

/// The example benchmark with the images of the tasks these tests run built once.
fn fixture() -> Arc<BenchFixture> {
    support::built_benchmark(&FIXTURE, "sforge-test-iso", &[TASK])
}

/// A TCP server on all addresses of this host (IPv4 and IPv6) that answers every connection
/// with a tiny HTTP response and remembers who connected.
struct Decoy {
    port: u16,
    peers: Arc<Mutex<Vec<String>>>,
    requests: Arc<Mutex<Vec<String>>>,
}

impl Decoy {
    fn start() -> Self {
        let listener = TcpListener::bind("[::]:0").expect("bind a decoy on [::]");
        let port = listener.local_addr().unwrap().port();
        let peers = Arc::new(Mutex::new(Vec::new()));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let (seen, heads) = (Arc::clone(&peers), Arc::clone(&requests));
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                if let Ok(peer) = stream.peer_addr() {
                    seen.lock()
                        .unwrap()
                        .push(peer.ip().to_canonical().to_string());
                }
                let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
                let mut buf = [0u8; 4096];
                let n = stream.read(&mut buf).unwrap_or(0);
                heads
                    .lock()
                    .unwrap()
                    .push(String::from_utf8_lossy(&buf[..n]).into_owned());
                let body = br#"{"usage": {"input_tokens": 11, "output_tokens": 7}}"#;
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.write_all(body);
            }
        });
        Decoy {
            port,
            peers,
            requests,
        }
    }

    fn peers(&self) -> Vec<String> {
        self.peers.lock().unwrap().clone()
    }
}

const REAL_KEY: &str = "sk-real-key-only-the-proxy-holds";
const PROXY_ADMIN_SECRET: &str = "isolation-test-admin-secret";

/// `sforge proxy` in keyless mode (the real binary), stopped on drop.
struct Proxy {
    port: u16,
    child: Child,
}

impl Proxy {
    fn start(upstream: &Decoy) -> Self {
        let port = TcpListener::bind("0.0.0.0:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let log_dir = tempfile::tempdir().unwrap();
        let child = Command::new(assert_cmd::cargo::cargo_bin("sforge"))
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("SFORGE_TEST_REAL_KEY", REAL_KEY)
            .env("SFORGE_PROXY_ADMIN_SECRET", PROXY_ADMIN_SECRET)
            .arg("--log-dir")
            .arg(log_dir.path())
            .args([
                "proxy",
                "--target",
                &format!("http://127.0.0.1:{}", upstream.port),
            ])
            .args([
                "--port",
                &port.to_string(),
                "--inject-key-from-env",
                "SFORGE_TEST_REAL_KEY",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start sforge proxy");
        let until = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < until, "sforge proxy did not listen");
            thread::sleep(Duration::from_millis(50));
        }
        Proxy { port, child }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A UDP socket on the bridge gateway that counts datagrams (a DNS-like decoy).
struct UdpDecoy {
    port: u16,
    peers: Arc<Mutex<Vec<String>>>,
}

impl UdpDecoy {
    fn start(ip: Ipv4Addr) -> Self {
        let socket = UdpSocket::bind((ip, 0)).expect("bind the UDP decoy");
        let port = socket.local_addr().unwrap().port();
        let peers = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&peers);
        thread::spawn(move || {
            let mut buf = [0u8; 512];
            while let Ok((n, peer)) = socket.recv_from(&mut buf) {
                seen.lock().unwrap().push(peer.ip().to_string());
                let _ = socket.send_to(&buf[..n], peer);
            }
        });
        UdpDecoy { port, peers }
    }
}

/// The bridge's IPv4 gateway and (when the engine has IPv6) its IPv6 address on the host.
fn bridge_addresses() -> (Ipv4Addr, Option<String>) {
    let (v4, v6) = support::bridge_gateway();
    (v4, v6.map(|a| a.to_string()))
}

/// Every reachability check, as a Python program run inside a container; prints `PROBE {json}`.
const PROBE: &str = r#"
import json, socket, sys, urllib.request, urllib.error
a = sys.argv[1:]
def tcp(fam, host, port):
    s = socket.socket(fam, socket.SOCK_STREAM); s.settimeout(3)
    try:
        s.connect((host, int(port))); return "open"
    except Exception as e:
        return "closed " + type(e).__name__
    finally:
        s.close()
def http(url, headers={}):
    try:
        urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=5); return "answered"
    except urllib.error.HTTPError:
        return "answered"
    except Exception as e:
        return "failed " + type(e).__name__
def udp(host, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(3)
    try:
        s.sendto(b"probe", (host, int(port))); s.recv(64); return "answered"
    except Exception as e:
        return "failed " + type(e).__name__
r = {}
if a[0] != "-": r["judge"] = http(a[0] + "/api/v1/history")
import os
key = os.environ.get("SFORGE_AGENT_API_KEY", "")
r["key_prefix"] = key[:4]
if a[1] != "-": r["api"] = http(a[1] + "/v1/messages", {"x-api-key": key})
r["decoy_host"] = tcp(socket.AF_INET, a[2], a[3])
r["decoy_container"] = tcp(socket.AF_INET, a[4], a[5])
if a[6] != "-": r["decoy_ipv6"] = tcp(socket.AF_INET6, a[6], a[3])
r["udp"] = udp(a[2], a[7])
try:
    socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP); r["raw"] = "allowed"
except Exception as e:
    r["raw"] = "denied " + type(e).__name__
try:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_ICMP); s.settimeout(3)
    s.sendto(b"\x08\x00\xf7\xff\x00\x00\x00\x00", (a[2], 0)); s.recv(64); r["ping"] = "answered"
except Exception as e:
    r["ping"] = "failed " + type(e).__name__
if a[8] == "dns":
    try:
        socket.getaddrinfo("sforge-isolation-probe.example", 80); r["dns"] = "resolved"
    except socket.gaierror as e:
        r["dns"] = "failed " + str(e.errno)
print("PROBE " + json.dumps(r), flush=True)
"#;

/// Everything a probe needs to know, on this host.
struct World {
    gateway: Ipv4Addr,
    gateway6: Option<String>,
    decoy: Decoy,
    /// The model API stand-in (a decoy) behind a real `sforge proxy` in keyless mode.
    upstream: Decoy,
    proxy: Proxy,
    udp: UdpDecoy,
    /// A second container serving HTTP on port 8000.
    other: support::TestContainer,
    other_ip: String,
}

impl World {
    fn new() -> Self {
        let (gateway, gateway6) = bridge_addresses();
        if gateway6.is_none() {
            support::skip(
                "the docker engine has no IPv6 (scripts/setup.sh enables it)",
                true,
            );
        }
        let other = support::TestContainer::start(
            support::BUSYBOX_IMAGE,
            &[],
            &["httpd", "-f", "-p", "8000", "-h", "/"],
        );
        let out = support::run_ok(
            support::docker().args([
                "inspect",
                "-f",
                "{{.NetworkSettings.IPAddress}}",
                other.name(),
            ]),
            None,
        );
        let other_ip = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        let upstream = Decoy::start();
        World {
            gateway,
            gateway6,
            decoy: Decoy::start(),
            proxy: Proxy::start(&upstream),
            upstream,
            udp: UdpDecoy::start(gateway),
            other,
            other_ip,
        }
    }

    fn api_url(&self) -> String {
        format!("http://host.docker.internal:{}", self.proxy.port)
    }

    /// The probe's arguments (judge URL and API URL as given).
    fn probe_args(&self, judge: &str, api: &str, dns: bool) -> Vec<String> {
        vec![
            judge.to_owned(),
            api.to_owned(),
            self.gateway.to_string(),
            self.decoy.port.to_string(),
            self.other_ip.clone(),
            "8000".to_owned(),
            self.gateway6.clone().unwrap_or_else(|| "-".to_owned()),
            self.udp.port.to_string(),
            if dns { "dns" } else { "-" }.to_owned(),
        ]
    }

    /// An agent script that runs the probe and then `then` (bash).
    fn agent_script(&self, judge: &str, then: &str) -> String {
        let args: Vec<String> = self
            .probe_args(judge, &self.api_url(), true)
            .iter()
            .map(|a| format!("'{a}'"))
            .collect();
        format!(
            "#!/bin/bash\ncat > /tmp/probe.py <<'PY'\n{PROBE}\nPY\npython3 /tmp/probe.py {}\n{then}\n",
            args.join(" ")
        )
    }
}

fn parse_probe(text: &str) -> Value {
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix("PROBE "))
        .unwrap_or_else(|| panic!("no probe result in:\n{text}"));
    serde_json::from_str(line).unwrap()
}

/// One isolated `sforge run` of a test.
struct Case {
    fixture: Arc<BenchFixture>,
    dir: PathBuf,
    run_id: String,
    port: u16,
}

impl Case {
    fn new(script: &str) -> Self {
        let fixture = fixture();
        let run_id = support::unique_name("iso");
        let dir = fixture.bench.root().join(format!("case-{run_id}"));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("agent.sh"), script).unwrap();
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        Case {
            fixture,
            dir,
            run_id,
            port,
        }
    }

    fn judge_url(&self) -> String {
        format!("http://host.docker.internal:{}", self.port)
    }

    fn command(&self, extra: &[&str]) -> Command {
        let mut cmd = self.fixture.bench.sforge_process(&self.dir.join("logs"));
        cmd.args([
            "run",
            "--run-id",
            &self.run_id,
            "--agent",
            "script",
            "--task",
            TASK,
        ])
        .arg("--agent-script")
        .arg(self.dir.join("agent.sh"))
        .args([
            "--judge-url",
            &self.judge_url(),
            "--disable-internet",
            "--timeout",
            "120",
        ])
        .args(extra);
        cmd
    }

    fn run(cmd: Command) -> SforgeRun {
        let mut cmd = assert_cmd::Command::from_std(cmd);
        cmd.timeout(RUN_LIMIT);
        SforgeRun::of(&mut cmd)
    }

    fn task_file(&self, file: &str) -> String {
        let path = self
            .dir
            .join("logs/runs")
            .join(&self.run_id)
            .join(TASK)
            .join(file);
        std::fs::read_to_string(path).unwrap_or_default()
    }

    /// The chain named in the run log (`iptables chain SFORGE_… applied`).
    fn chain(&self) -> String {
        let log = self.task_file("run_agent.log");
        log.split_whitespace()
            .find(|w| w.starts_with("SFORGE_"))
            .unwrap_or_else(|| panic!("no chain in the run log:\n{log}"))
            .to_owned()
    }

    /// Panics if any rule of this run or `chain` is still in iptables or ip6tables, or a
    /// container of the run is left.
    fn assert_clean(&self, chain: &str) {
        for prog in ["iptables", "ip6tables"] {
            let out = support::run_ok(Command::new(prog).args(["-w", "-S"]), None);
            let rules = String::from_utf8_lossy(&out.stdout);
            let left: Vec<&str> = rules
                .lines()
                .filter(|l| l.contains(chain) || l.contains(&format!("run={} ", self.run_id)))
                .collect();
            assert!(
                left.is_empty(),
                "{prog} still has rules of the run: {left:#?}"
            );
        }
        let containers =
            support::containers_matching(&[&format!("label=sforge.run-id={}", self.run_id)]);
        assert!(containers.is_empty(), "containers left: {containers:?}");
    }
}

fn final_result(case: &Case) -> Value {
    serde_json::from_str(&case.task_file("final_result.json")).expect("final_result.json")
}

#[test]
fn an_isolated_container_reaches_the_judge_and_the_api_and_nothing_else() {
    require_docker!();
    let world = World::new();
    // Control: without isolation, the same probe reaches every decoy (so "closed" below is the
    // firewall's doing, not a decoy that is down).
    let control = support::run_ok(
        support::docker()
            .args([
                "run",
                "--rm",
                "-i",
                "--add-host",
                "host.docker.internal:host-gateway",
            ])
            .args(["debian:bookworm-slim", "python3", "-"])
            .args(world.probe_args("-", &world.api_url(), false)),
        Some(PROBE.as_bytes()),
    );
    let control = parse_probe(&String::from_utf8_lossy(&control.stdout));
    assert_eq!(control["api"], "answered", "control: {control}");
    for key in ["decoy_host", "decoy_container", "decoy_ipv6"] {
        assert_eq!(control[key], "open", "control {key}: {control}");
    }
    assert_eq!(control["udp"], "answered", "control: {control}");
    assert_eq!(control["ping"], "answered", "control: {control}");
    let before = world.decoy.peers().len();

    let case = Case::new("");
    let script = world.agent_script(&case.judge_url(), "echo probe done");
    std::fs::write(case.dir.join("agent.sh"), script).unwrap();
    let mut cmd = case.command(&[]);
    cmd.env("SFORGE_AGENT_API_BASE_URL", world.api_url())
        .env("SFORGE_AGENT_API_KEY", REAL_KEY)
        .env("SFORGE_PROXY_ADMIN_SECRET", PROXY_ADMIN_SECRET);
    let run = Case::run(cmd);
    run.expect_code(0);
    let probe = parse_probe(&case.task_file("agent_output.txt"));
    assert_eq!(probe["judge"], "answered", "{probe}");
    assert_eq!(probe["api"], "answered", "{probe}");
    // Keyless: the container held a run token; the upstream saw the real key, never the token.
    assert_eq!(probe["key_prefix"], "sfp-", "{probe}");
    let upstream = world.upstream.requests.lock().unwrap().clone();
    let through: Vec<&String> = upstream
        .iter()
        .filter(|r| r.contains("/v1/messages"))
        .collect();
    assert_eq!(through.len(), 1, "{upstream:#?}");
    assert!(
        through[0]
            .to_ascii_lowercase()
            .contains(&format!("x-api-key: {REAL_KEY}")),
        "{}",
        through[0]
    );
    assert!(!through[0].contains("sfp-"), "{}", through[0]);
    let usage: Value =
        serde_json::from_str(&case.task_file("proxy_usage.json")).expect("proxy_usage.json");
    assert_eq!(usage["requests"], 1, "{usage}");
    assert_eq!(usage["input_tokens"], 11, "{usage}");
    assert_eq!(usage["output_tokens"], 7, "{usage}");
    for file in ["agent_output.txt", "run_agent.log", "run_config.json"] {
        assert!(
            !case.task_file(file).contains(REAL_KEY),
            "the real key is in {file}"
        );
    }
    for key in ["decoy_host", "decoy_container", "decoy_ipv6"] {
        assert!(
            probe[key].as_str().unwrap().starts_with("closed"),
            "{key}: {probe}"
        );
    }
    assert!(
        probe["udp"].as_str().unwrap().starts_with("failed"),
        "{probe}"
    );
    assert!(
        probe["raw"].as_str().unwrap().starts_with("denied"),
        "{probe}"
    );
    assert!(
        probe["ping"].as_str().unwrap().starts_with("failed"),
        "{probe}"
    );
    // EAI_AGAIN (-3): no resolver could be reached (not "no such name").
    assert_eq!(probe["dns"], "failed -3", "{probe}");
    assert_eq!(
        world.decoy.peers().len(),
        before,
        "the host decoy saw the isolated container"
    );
    assert!(
        world.udp.peers.lock().unwrap().len() == 1,
        "only the control reached the UDP decoy"
    );
    assert_self_check_proved_everything(&case.task_file("run_agent.log"));
    assert!(final_result(&case)["error"].is_null());
    case.assert_clean(&case.chain());
    drop(world.other);
}

/// The self-check proved each of its targets reachable before the rules and blocked after.
fn assert_self_check_proved_everything(log: &str) {
    let proof = log
        .lines()
        .find_map(|l| l.split_once("isolation self-check passed").map(|(_, p)| p))
        .unwrap_or_else(|| panic!("no passed self-check in the log:\n{log}"));
    let blocked = proof.split("; unreachable even before").next().unwrap();
    for what in [
        "a TCP canary on this host",
        "a UDP canary on this host",
        "an IPv6 TCP canary on this host",
        "another container",
    ] {
        assert!(blocked.contains(what), "{what} not proven blocked: {proof}");
    }
}

#[test]
fn without_rules_the_self_check_fails_the_run_before_the_agent_starts() {
    require_docker!();
    let case = Case::new("#!/bin/bash\necho AGENT RAN\n");
    let mut cmd = case.command(&[]);
    cmd.env("SFORGE_TEST_SKIP_ISOLATION_RULES", "1");
    let run = Case::run(cmd);
    run.expect_code(1);
    let error = final_result(&case)["error"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(error.contains("egress is NOT blocked"), "{error}\n{run}");
    assert!(!case.task_file("agent_output.txt").contains("AGENT RAN"));
    assert!(!case.task_file("run_agent.log").contains("agent started"));
    let containers =
        support::containers_matching(&[&format!("label=sforge.run-id={}", case.run_id)]);
    assert!(containers.is_empty(), "{containers:?}");
}

#[test]
fn sigint_and_sigterm_mid_run_leave_no_chain_behind() {
    require_docker!();
    for signal in ["INT", "TERM"] {
        let case = Case::new("#!/bin/bash\necho AGENT WAITING\nsleep 300\n");
        let stderr = case.dir.join("stderr");
        let mut cmd = case.command(&[]);
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&stderr).unwrap());
        let mut child = support::KillOnDrop(cmd.spawn().unwrap());
        let until = Instant::now() + Duration::from_secs(180);
        while !case.task_file("agent_output.txt").contains("AGENT WAITING") {
            assert!(
                child.0.try_wait().unwrap().is_none(),
                "sforge exited early: {}",
                read(&stderr)
            );
            assert!(Instant::now() < until, "the agent did not start");
            thread::sleep(Duration::from_millis(100));
        }
        let chain = case.chain();
        let out = support::run_ok(Command::new("iptables").args(["-w", "-S", &chain]), None);
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("DROP"),
            "chain in place"
        );
        support::run_ok(
            Command::new("kill")
                .arg(format!("-{signal}"))
                .arg(child.0.id().to_string()),
            None,
        );
        let until = Instant::now() + Duration::from_secs(60);
        let status = loop {
            if let Some(status) = child.0.try_wait().unwrap() {
                break status;
            }
            assert!(
                Instant::now() < until,
                "sforge did not stop after SIG{signal}"
            );
            thread::sleep(Duration::from_millis(100));
        };
        assert_eq!(status.code(), Some(130), "SIG{signal}: {}", read(&stderr));
        case.assert_clean(&chain);
    }
}

#[test]
fn missing_iptables_rights_fail_before_any_container_starts() {
    require_docker!();
    let case = Case::new("#!/bin/bash\necho AGENT RAN\n");
    // A test double for an iptables that refuses (as for a user without rights).
    let fake = case.dir.join("iptables-denied");
    std::fs::write(
        &fake,
        "#!/bin/sh\necho 'iptables: Permission denied (you must be root).' >&2\nexit 4\n",
    )
    .unwrap();
    support::make_executable(&fake);
    let mut cmd = case.command(&[]);
    cmd.env("SFORGE_IPTABLES", &fake);
    let run = Case::run(cmd);
    run.expect_code(1)
        .expect_output("passwordless sudo for iptables");
    let containers =
        support::containers_matching(&[&format!("label=sforge.run-id={}", case.run_id)]);
    assert!(containers.is_empty(), "{containers:?}");
}

#[test]
fn a_proxy_for_the_container_is_refused_and_an_inherited_one_left_out() {
    require_docker!();
    let case =
        Case::new("#!/bin/bash\nenv | grep -iE '^https?_proxy=' || echo NO PROXY VARIABLES\n");
    let mut cmd = case.command(&[]);
    cmd.env("SFORGE_HTTPS_PROXY", "http://127.0.0.1:3128");
    Case::run(cmd)
        .expect_code(1)
        .expect_output("SFORGE_HTTPS_PROXY")
        .expect_output("sforge proxy");
    let mut cmd = case.command(&[]);
    cmd.env("HTTP_PROXY", "http://127.0.0.1:3128");
    Case::run(cmd).expect_code(0);
    assert!(case
        .task_file("agent_output.txt")
        .contains("NO PROXY VARIABLES"));
    case.assert_clean(&case.chain());
}

#[test]
fn the_sweep_removes_chains_of_gone_containers_only() {
    require_docker!();
    let live = support::TestContainer::start(support::BUSYBOX_IMAGE, &[], &["sleep", "300"]);
    let out = support::run_ok(
        support::docker().args(["inspect", "-f", "{{.Id}}", live.name()]),
        None,
    );
    let live_chain = format!("SFORGE_{}", &String::from_utf8_lossy(&out.stdout)[..12]);
    // A chain named after an id no container has (ids are hex; this one is not a prefix of any).
    let stale_chain = format!(
        "SFORGE_{:012x}",
        u64::from(std::process::id()) * 0x1_0001 + 0xdead
    );
    let _guard = Chains(vec![live_chain.clone(), stale_chain.clone()]);
    for chain in [&live_chain, &stale_chain] {
        support::run_ok(Command::new("iptables").args(["-w", "-N", chain]), None);
        // A jump that matches no real traffic (TEST-NET-1).
        support::run_ok(
            Command::new("iptables").args([
                "-w",
                "-I",
                "INPUT",
                "-s",
                "192.0.2.77/32",
                "-j",
                chain,
            ]),
            None,
        );
    }
    let case = Case::new("#!/bin/bash\necho done\n");
    Case::run(case.command(&[])).expect_code(0);
    let out = support::run_ok(Command::new("iptables").args(["-w", "-S"]), None);
    let rules = String::from_utf8_lossy(&out.stdout);
    assert!(!rules.contains(&stale_chain), "stale chain left:\n{rules}");
    assert!(
        rules.contains(&format!("-N {live_chain}")),
        "live chain removed:\n{rules}"
    );
    assert!(
        rules.contains(&format!("-j {live_chain}")),
        "live jump removed:\n{rules}"
    );
}

/// Removes test-made chains (and their jumps) on drop.
struct Chains(Vec<String>);

impl Drop for Chains {
    fn drop(&mut self) {
        for chain in &self.0 {
            while Command::new("iptables")
                .args(["-w", "-D", "INPUT", "-s", "192.0.2.77/32", "-j", chain])
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
            {}
            let _ = Command::new("iptables")
                .args(["-w", "-X", chain])
                .stderr(Stdio::null())
                .status();
        }
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

#[test]
fn dry_run_shows_the_container_changes_and_the_allowed_endpoints() {
    require_docker!();
    let case = Case::new("#!/bin/bash\necho hi\n");
    let mut cmd = case.command(&["--dry-run"]);
    cmd.env("SFORGE_AGENT_API_BASE_URL", "http://10.9.8.7:9090");
    let run = Case::run(cmd);
    run.expect_code(0)
        .expect_stdout("--cap-drop NET_RAW")
        .expect_stdout("--sysctl 'net.ipv4.ping_group_range=1 0'")
        .expect_stdout("#   judge host.docker.internal:")
        .expect_stdout("#   API 10.9.8.7:9090 -> 10.9.8.7")
        .expect_stdout("iptables -w -N \"$SFORGE_CHAIN\"")
        .expect_stdout("-d 10.9.8.7/32 -p tcp --dport 9090")
        .expect_stdout("-I INPUT -i docker0 -s \"$CONTAINER_IP/32\"");
    let chains = support::run_ok(Command::new("iptables").args(["-w", "-S"]), None);
    assert!(!String::from_utf8_lossy(&chains.stdout).contains(&format!("run={} ", case.run_id)));
}
