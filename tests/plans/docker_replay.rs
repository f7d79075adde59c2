//! A Docker plan replayed by `sh` creates the Work container and iptables rules a real run
//! creates (compared while each one's agent waits), and removes them again.

use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::require_docker;
use crate::support;
use crate::support::run_case::Case;

const TASK: &str = "coin_change";
/// Labels of the real run's liveness lease, which a replayed plan has no sforge to renew.
const LEASE_LABELS: [&str; 3] = ["sforge.expires", "sforge.host", "sforge.pid"];

/// The agent: says it started, then waits (up to two minutes) for the test to let it go.
const AGENT: &str = "#!/bin/bash\ntouch /tmp/sforge-plan-started\nfor i in $(seq 1200); do [ -e /tmp/sforge-plan-go ] && exit 0; sleep 0.1; done\nexit 1\n";

fn container(run_id: &str) -> String {
    format!("sforge.run.{TASK}.{run_id}")
}

/// Waits until the agent in `name` has started; `alive` says whether its driver still runs.
fn wait_started(name: &str, alive: &mut dyn FnMut() -> bool) {
    let until = Instant::now() + Duration::from_secs(240);
    loop {
        let probe = support::docker()
            .args(["exec", name, "test", "-e", "/tmp/sforge-plan-started"])
            .stderr(Stdio::null())
            .status()
            .unwrap();
        if probe.success() {
            return;
        }
        assert!(alive(), "the run ended before its agent started");
        assert!(Instant::now() < until, "the agent of {name} did not start");
        thread::sleep(Duration::from_millis(200));
    }
}

fn release(name: &str) {
    support::run_ok(
        support::docker().args(["exec", name, "touch", "/tmp/sforge-plan-go"]),
        None,
    );
}

/// The iptables (v4 and v6) rules that mention `chain`.
fn rules(chain: &str) -> Vec<String> {
    let mut out = Vec::new();
    for program in ["iptables", "ip6tables"] {
        let listed = support::run_ok(Command::new(program).args(["-w", "-S"]), None);
        out.extend(
            String::from_utf8_lossy(&listed.stdout)
                .lines()
                .filter(|l| l.contains(chain))
                .map(|l| format!("{program} {l}")),
        );
    }
    out
}

/// What a run created for the Work container of run `run_id`, with its ids replaced by
/// placeholders (the run id, the container id and addresses, the per-run token).
fn snapshot(run_id: &str) -> Value {
    let name = container(run_id);
    let out = support::run_ok(support::docker().args(["inspect", &name]), None);
    let info: Value = serde_json::from_slice::<Value>(&out.stdout).unwrap()[0].clone();
    let id = info["Id"].as_str().unwrap()[..12].to_owned();
    let ip = info["NetworkSettings"]["IPAddress"]
        .as_str()
        .unwrap()
        .to_owned();
    let chain = format!("SFORGE_{id}");
    let ip6 = info["NetworkSettings"]["GlobalIPv6Address"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let link_local = link_local(info["NetworkSettings"]["MacAddress"].as_str().unwrap());
    let host = &info["HostConfig"];
    let mut env: Vec<&str> = info["Config"]["Env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .filter(|e| !e.starts_with("SFORGE_TOKEN="))
        .collect();
    env.sort_unstable();
    let labels: serde_json::Map<String, Value> = info["Config"]["Labels"]
        .as_object()
        .unwrap()
        .iter()
        // The lease of a running sforge (docs/architecture.md): a replayed plan has none.
        .filter(|(k, _)| !LEASE_LABELS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let mut rules = rules(&chain);
    rules.sort();
    let seen = json!({
        "image": info["Config"]["Image"],
        "user": info["Config"]["User"],
        "env": env,
        "labels": labels,
        "extra_hosts": host["ExtraHosts"],
        "cap_drop": host["CapDrop"],
        "cap_add": host["CapAdd"],
        "sysctls": host["Sysctls"],
        "pids_limit": host["PidsLimit"],
        "memory": host["Memory"],
        "nano_cpus": host["NanoCpus"],
        "security_opt": host["SecurityOpt"],
        "network_mode": host["NetworkMode"],
        "privileged": host["Privileged"],
        "rules": rules,
    });
    let text = seen
        .to_string()
        .replace(&chain, "SFORGE_<id>")
        .replace(&format!("{ip}/32"), "<ip>/32")
        .replace(&format!("{link_local}/128"), "<link-local>/128")
        .replace(&format!(" {ip6}/128"), " <ip6>/128")
        .replace(run_id, "<run>");
    serde_json::from_str(&text).unwrap()
}

/// The IPv6 link-local address of a MAC address (EUI-64), as `Ipv6Addr` shows it.
fn link_local(mac: &str) -> String {
    let b: Vec<u16> = mac
        .split(':')
        .map(|h| u16::from_str_radix(h, 16).unwrap())
        .collect();
    std::net::Ipv6Addr::new(
        0xfe80,
        0,
        0,
        0,
        ((b[0] ^ 2) << 8) | b[1],
        (b[2] << 8) | 0xff,
        0xfe00 | b[3],
        (b[4] << 8) | b[5],
    )
    .to_string()
}

#[test]
fn a_replayed_docker_plan_creates_what_the_real_run_creates() {
    require_docker!();
    let fixture = crate::fixture();
    let flags = [
        "--disable-internet",
        "--no-final-eval",
        "--disable-auto-eval",
    ];
    // `localhost` resolves here; the plan is told it does not, so the replayed script looks it
    // up itself (getent), as on a machine without DNS.
    let api = "http://localhost:9";

    let real = Case::new(fixture.clone(), AGENT);
    let mut cmd = real.command(&[TASK], &flags);
    cmd.env("SFORGE_AGENT_API_BASE_URL", api);
    let mut running = real.spawn(cmd);
    wait_started(&container(&real.run_id), &mut || running.exited().is_none());
    let from_run = snapshot(&real.run_id);
    release(&container(&real.run_id));
    running.wait(Duration::from_secs(240));
    real.assert_no_containers();

    let mut planned = Case::new(fixture, AGENT);
    planned.port = real.port;
    let mut cmd = planned.command(&[TASK], &flags);
    cmd.arg("--dry-run")
        .env("SFORGE_AGENT_API_BASE_URL", api)
        .env("SFORGE_TEST_PLAN_UNRESOLVED_HOSTS", "localhost");
    let printed = cmd.output().unwrap();
    assert!(
        printed.status.success(),
        "{}",
        String::from_utf8_lossy(&printed.stderr)
    );
    let plan = String::from_utf8(printed.stdout).unwrap();
    assert!(plan.contains("getent ahostsv4 localhost"), "{plan}");
    let script = planned.dir.join("plan.sh");
    std::fs::write(&script, &plan).unwrap();
    let mut replay = Command::new("sh");
    replay
        .arg(&script)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("SFORGE_TOKEN", "replayed-token")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = support::KillOnDrop(replay.spawn().unwrap());
    wait_started(&container(&planned.run_id), &mut || {
        child.0.try_wait().unwrap().is_none()
    });
    let from_plan = snapshot(&planned.run_id);
    release(&container(&planned.run_id));
    let status = child.0.wait().unwrap();
    assert!(status.success(), "the replayed plan failed:\n{plan}");
    planned.assert_no_containers();

    assert_eq!(
        from_plan, from_run,
        "the replayed plan (left) differs from the real run (right)"
    );
    let left = support::run_ok(Command::new("iptables").args(["-w", "-S"]), None);
    let left = String::from_utf8_lossy(&left.stdout);
    assert!(
        !left.contains(&format!("run={} ", planned.run_id)),
        "rules left behind"
    );
}

#[test]
fn a_replayed_plan_that_fails_removes_what_it_created() {
    require_docker!();
    let case = Case::new(
        crate::fixture(),
        "#!/bin/bash\necho failing on purpose\nexit 3\n",
    );
    let mut cmd = case.command(&[TASK], &["--disable-internet", "--dry-run"]);
    cmd.env("SFORGE_AGENT_API_BASE_URL", "http://127.0.0.1:9");
    let printed = cmd.output().unwrap();
    assert!(
        printed.status.success(),
        "{}",
        String::from_utf8_lossy(&printed.stderr)
    );
    let script = case.dir.join("plan.sh");
    std::fs::write(&script, &printed.stdout).unwrap();
    let out = support::run(
        Command::new("sh")
            .arg(&script)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("SFORGE_TOKEN", "replayed-token"),
        None,
    );
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    case.assert_no_containers();
    let left = support::run_ok(Command::new("iptables").args(["-w", "-S"]), None);
    let left = String::from_utf8_lossy(&left.stdout);
    assert!(
        !left.contains(&format!("run={} ", case.run_id)),
        "rules left behind"
    );
}
