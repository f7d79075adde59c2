//! The isolation self-check and the Work chain's handling of old connections, against the real
//! Docker engine and real iptables (issue 12, item 8). Each probe of the self-check — a UDP
//! canary, an IPv6 canary, another container on the bridge — is shown to fail the check when
//! the rules miss exactly what it probes; and a connection the container opened before the rules
//! is cut by them, both ways. Every address used is on this machine.

// Tests drive docker and iptables directly.
#![allow(clippy::disallowed_methods)]

mod support;

use std::collections::BTreeMap;
use std::io::{Read as _, Write as _};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use sforge::isolation::{
    system_lookup, DockerIsolation, Egress, Firewall, IsolationError, Isolator, Owner, SelfCheck,
};
use sforge::sandbox::DockerSandbox;

/// Has bash and coreutils' `timeout` (the probe's second choice), no python3.
const IMAGE: &str = "debian:bookworm-slim";

/// A container for one test, with the sforge sandbox that execs in it.
struct Subject {
    container: support::TestContainer,
    sandbox: DockerSandbox,
    ip: Ipv4Addr,
    ip6: Option<String>,
}

impl Subject {
    fn start() -> Self {
        let container = support::TestContainer::start(
            IMAGE,
            &["--add-host", "host.docker.internal:host-gateway"],
            &["sleep", "infinity"],
        );
        let inspect = |field: &str| -> String {
            let out = support::run_ok(
                support::docker().args(["inspect", "-f", field, container.name()]),
                None,
            );
            String::from_utf8_lossy(&out.stdout).trim().to_owned()
        };
        let ip = inspect("{{.NetworkSettings.IPAddress}}").parse().unwrap();
        let ip6 = Some(inspect("{{.NetworkSettings.GlobalIPv6Address}}")).filter(|s| !s.is_empty());
        let sandbox = DockerSandbox::new(sforge::process::runner(false), support::docker_bin());
        Subject {
            container,
            sandbox,
            ip,
            ip6,
        }
    }
}

/// A TCP listener standing in for the judge (the self-check only connects to it).
fn judge_stand_in() -> (TcpListener, u16) {
    let listener = TcpListener::bind((Ipv4Addr::UNSPECIFIED, 0)).unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    (listener, port)
}

/// iptables rules a test adds, each removed on drop (`-D` of what was `-I`/`-A`).
#[derive(Default)]
struct Rules(Vec<(&'static str, Vec<String>)>);

impl Rules {
    fn insert(&mut self, prog: &'static str, spec: &[&str]) {
        let spec: Vec<String> = spec.iter().map(|s| (*s).to_owned()).collect();
        support::run_ok(Command::new(prog).arg("-w").arg("-I").args(&spec), None);
        self.0.push((prog, spec));
    }

    fn clear(&mut self) {
        for (prog, spec) in self.0.drain(..).rev() {
            let _ = Command::new(prog).arg("-w").arg("-D").args(&spec).status();
        }
    }
}

impl Drop for Rules {
    fn drop(&mut self) {
        self.clear();
    }
}

/// The self-check with `apply` adding `step` rules of increasing completeness; returns the error
/// text (empty when it passed).
fn check_with(subject: &Subject, peer: Ipv4Addr, step: usize) -> String {
    let (gateway, gateway6) = support::bridge_gateway();
    let (_judge, judge_port) = judge_stand_in();
    let check = SelfCheck {
        sandbox: &subject.sandbox,
        container: subject.container.name(),
        host_ip: gateway,
        host_ip6: gateway6,
        peer: Some(peer),
        judge: std::net::SocketAddrV4::new(gateway, judge_port),
        leak_hint: "",
    };
    let mut rules = Rules::default();
    let src = format!("{}/32", subject.ip);
    let port = judge_port.to_string();
    let result = check.run(&mut || {
        // Host TCP (other than the judge) is always dropped: the check's first canary.
        rules.insert(
            "iptables",
            &[
                "INPUT", "-s", &src, "-p", "tcp", "!", "--dport", &port, "-j", "DROP",
            ],
        );
        if step >= 1 {
            rules.insert(
                "iptables",
                &["INPUT", "-s", &src, "-p", "udp", "-j", "DROP"],
            );
        }
        if step >= 2 {
            let src6 = format!("{}/128", subject.ip6.as_deref().unwrap());
            rules.insert("ip6tables", &["INPUT", "-s", &src6, "-j", "DROP"]);
        }
        if step >= 3 {
            rules.insert("iptables", &["DOCKER-USER", "-s", &src, "-j", "DROP"]);
        }
        Ok(())
    });
    drop(rules);
    match result {
        Ok(_) => String::new(),
        Err(e @ IsolationError::Leak(_)) => e.to_string(),
        Err(e) => panic!("step {step}: the self-check could not run: {e}"),
    }
}

#[test]
fn the_self_check_fails_closed_on_udp_ipv6_and_another_container() {
    require_docker!();
    if support::bridge_gateway().1.is_none() {
        support::skip(
            "the docker engine has no IPv6 (scripts/setup.sh enables it)",
            true,
        );
        return;
    }
    let subject = Subject::start();
    assert!(subject.ip6.is_some(), "the container has no IPv6 address");
    let peer = support::TestContainer::start(support::BUSYBOX_IMAGE, &[], &["sleep", "300"]);
    let out = support::run_ok(
        support::docker().args([
            "inspect",
            "-f",
            "{{.NetworkSettings.IPAddress}}",
            peer.name(),
        ]),
        None,
    );
    let peer_ip: Ipv4Addr = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
    let leaks = [
        (0, "a UDP canary on this host"),
        (1, "an IPv6 TCP canary on this host"),
        (2, "another container"),
    ];
    for (step, what) in leaks {
        let error = check_with(&subject, peer_ip, step);
        assert!(
            error.contains("egress is NOT blocked") && error.contains(what),
            "step {step}: expected a leak of {what}, got: {error:?}"
        );
    }
    // Everything dropped: the check passes.
    assert_eq!(check_with(&subject, peer_ip, 3), "");
}

/// A host TCP server that records what a connected client sends and can send back.
struct Talker {
    port: u16,
    received: Arc<Mutex<Vec<u8>>>,
    client: Arc<Mutex<Option<TcpStream>>>,
}

impl Talker {
    fn start() -> Self {
        let listener = TcpListener::bind((Ipv4Addr::UNSPECIFIED, 0)).unwrap();
        let port = listener.local_addr().unwrap().port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let client = Arc::new(Mutex::new(None));
        let (got, slot) = (Arc::clone(&received), Arc::clone(&client));
        thread::spawn(move || {
            let Ok((mut stream, _)) = listener.accept() else {
                return;
            };
            *slot.lock().unwrap() = stream.try_clone().ok();
            let mut buf = [0u8; 256];
            while let Ok(n) = stream.read(&mut buf) {
                if n == 0 {
                    break;
                }
                got.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        Talker {
            port,
            received,
            client,
        }
    }

    fn received(&self) -> usize {
        self.received.lock().unwrap().len()
    }

    fn send(&self, text: &str) {
        if let Some(stream) = self.client.lock().unwrap().as_mut() {
            let _ = stream.write_all(text.as_bytes());
        }
    }
}

fn wait_until(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let until = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < until, "timed out waiting until {what}");
        thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_connection_opened_before_the_rules_is_cut_both_ways() {
    require_docker!();
    let subject = Subject::start();
    let gateway = support::bridge_gateway().0;
    let talker = Talker::start();
    // Before isolation: a connection to the host that the container keeps open, sending a line
    // every 200 ms and writing what it receives to /tmp/got.
    let script = format!(
        "exec 3<>/dev/tcp/{gateway}/{}; cat <&3 >/tmp/got & while echo ping >&3; do sleep 0.2; done",
        talker.port
    );
    support::run_ok(
        support::docker().args([
            "exec",
            "-d",
            subject.container.name(),
            "bash",
            "-c",
            &script,
        ]),
        None,
    );
    wait_until(
        "the talker hears the container",
        Duration::from_secs(20),
        || talker.received() > 10,
    );
    talker.send("BEFORE\n");
    let got = || {
        String::from_utf8_lossy(&subject.container.exec(&["cat", "/tmp/got"]).stdout).into_owned()
    };
    wait_until(
        "the container hears the talker",
        Duration::from_secs(10),
        || got().contains("BEFORE"),
    );

    let (_judge, judge_port) = judge_stand_in();
    let runner = sforge::process::runner(false);
    let isolation = DockerIsolation::new(
        Arc::clone(&runner),
        &support::docker_bin(),
        Firewall::new(runner, "iptables", "ip6tables", true),
        false,
    );
    let egress = Egress::resolve(
        &format!("http://host.docker.internal:{judge_port}"),
        None,
        &system_lookup,
    )
    .unwrap();
    let labels: BTreeMap<String, String> = [("sforge.test".to_owned(), "1".to_owned())].into();
    let owner = Owner {
        run_id: "selfcheck-test",
        task: "t",
        owner: "test",
        labels: &labels,
    };
    let mut applied = None;
    let result = isolation.isolate(
        &subject.sandbox,
        subject.container.name(),
        &egress,
        &owner,
        &mut applied,
        &|_| {},
    );
    // Whatever happens next, the rules go.
    let _cleanup = Removal(&isolation, applied.clone());
    result.unwrap();

    // Container → host: the old connection carries nothing any more.
    thread::sleep(Duration::from_millis(500));
    let heard = talker.received();
    thread::sleep(Duration::from_secs(2));
    assert_eq!(
        talker.received(),
        heard,
        "the old connection still reaches the host"
    );
    // Host → container: nothing arrives either.
    talker.send("AFTER\n");
    thread::sleep(Duration::from_secs(2));
    assert!(
        !got().contains("AFTER"),
        "the old connection still reaches the container"
    );
    // The self-check's peer container is gone.
    let peers = support::containers_matching(&[&format!("name={}.peer", subject.container.name())]);
    assert!(peers.is_empty(), "{peers:?}");
}

/// Removes the applied isolation on drop.
struct Removal<'a>(&'a DockerIsolation, Option<sforge::isolation::Applied>);

impl Drop for Removal<'_> {
    fn drop(&mut self) {
        if let Some(applied) = &self.1 {
            let warnings = self.0.remove(applied);
            assert!(warnings.is_empty() || thread::panicking(), "{warnings:?}");
        }
    }
}
