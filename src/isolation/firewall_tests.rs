use std::net::Ipv4Addr;
use std::sync::Arc;

use super::*;
use crate::isolation::plan::{plan, Allowed, ContainerNet};
use crate::process::{Output, RecordingRunner};

fn sample_plan() -> ChainPlan {
    let net = ContainerNet {
        id: "abcdefabcdef0011".into(),
        ipv4: Ipv4Addr::new(172, 17, 0, 3),
        ipv6: None,
        ipv6_link_local: None,
        gateway: Ipv4Addr::new(172, 17, 0, 1),
        gateway6: None,
        bridge: "docker0".into(),
    };
    let allowed = [Allowed {
        ip: Ipv4Addr::new(172, 17, 0, 1),
        port: 8080,
    }];
    plan(
        &net,
        &allowed,
        Parents {
            docker_user_v4: true,
            docker_user_v6: false,
        },
        "c",
    )
}

fn lines(r: &RecordingRunner) -> Vec<String> {
    r.command_lines()
}

#[test]
fn apply_uses_sudo_unless_root_and_checks_jumps_before_inserting() {
    // `-S chain` fails (no chain yet), `-C` fails (no jump yet): everything is created.
    let r = Arc::new(
        RecordingRunner::new()
            .on_output(
                &["sudo", "-n", "iptables", "-w", "-S"],
                Output::failed(1, "No chain"),
            )
            .on_output(
                &["sudo", "-n", "iptables", "-w", "-C"],
                Output::failed(1, "Bad rule"),
            )
            .on_output(&["sudo", "-n", "iptables", "-w", "-N"], Output::empty())
            .on_output(&["sudo", "-n", "iptables", "-w", "-I"], Output::empty())
            .on_output(&["sudo", "-n", "iptables", "-w", "-A"], Output::empty()),
    );
    let fw = Firewall::new(r.clone(), "iptables", "ip6tables", false);
    fw.apply(&sample_plan()).unwrap();
    let l = lines(&r);
    assert!(
        l.iter().all(|c| c.starts_with("sudo -n iptables -w ")),
        "{l:#?}"
    );
    assert!(l.contains(&"sudo -n iptables -w -N SFORGE_abcdefabcdef".to_owned()));
    // Out of and into the container: DOCKER-USER and INPUT, DOCKER-USER and OUTPUT.
    assert_eq!(l.iter().filter(|c| c.contains(" -I ")).count(), 4, "{l:#?}");

    // Applied again with the jumps present: no second insertion, the chain is rebuilt.
    let r = Arc::new(
        RecordingRunner::new()
            .on_output(&["iptables", "-w", "-S"], Output::empty())
            .on_output(&["iptables", "-w", "-C"], Output::empty())
            .on_output(&["iptables", "-w", "-F"], Output::empty())
            .on_output(&["iptables", "-w", "-A"], Output::empty()),
    );
    let fw = Firewall::new(r.clone(), "iptables", "ip6tables", true);
    fw.apply(&sample_plan()).unwrap();
    let l = lines(&r);
    assert!(l.iter().all(|c| c.starts_with("iptables -w ")), "{l:#?}");
    assert!(
        !l.iter().any(|c| c.contains(" -I ") || c.contains(" -N ")),
        "{l:#?}"
    );
    assert!(l.contains(&"iptables -w -F SFORGE_abcdefabcdef".to_owned()));
}

#[test]
fn a_failed_step_rolls_back_what_was_added() {
    let r = Arc::new(
        RecordingRunner::new()
            .on_output(&["iptables", "-w", "-S"], Output::failed(1, "No chain"))
            .on_output(&["iptables", "-w", "-C"], Output::failed(1, "Bad rule"))
            .on_output(
                &["iptables", "-w", "-I", "INPUT"],
                Output::failed(4, "resource problem"),
            )
            .allow_output(&["iptables", "-w"], Output::empty()),
    );
    let fw = Firewall::new(r.clone(), "iptables", "ip6tables", true);
    let err = fw.apply(&sample_plan()).unwrap_err().to_string();
    assert!(err.contains("resource problem"), "{err}");
    let l = lines(&r);
    let pos = |needle: &str| l.iter().position(|c| c.starts_with(needle));
    // The DOCKER-USER jump that succeeded is deleted, then the chain flushed and deleted.
    let del = pos("iptables -w -D DOCKER-USER").expect("jump removed");
    let x = pos("iptables -w -X SFORGE_abcdefabcdef").expect("chain removed");
    assert!(del < x, "{l:#?}");
}

#[test]
fn sweep_removes_only_chains_without_a_container() {
    let listing =
        "-P INPUT ACCEPT\n-N DOCKER-USER\n-N SFORGE_aaaaaaaaaaaa\n-N SFORGE_bbbbbbbbbbbb\n";
    let input = "-P INPUT ACCEPT\n-A INPUT -s 172.17.0.9/32 -i docker0 -m comment --comment \"sforge run=x\" -j SFORGE_bbbbbbbbbbbb\n-A INPUT -j SFORGE_aaaaaaaaaaaa\n";
    let r = Arc::new(
        RecordingRunner::new()
            .on_output(
                &["iptables", "-w", "-S", "INPUT"],
                Output::with_stdout(input),
            )
            .on_output(
                &["iptables", "-w", "-S", "SFORGE_bbbbbbbbbbbb"],
                Output::failed(1, "gone"),
            )
            .on_output(&["iptables", "-w", "-S"], Output::with_stdout(listing))
            .on_output(
                &["ip6tables", "-w", "-S"],
                Output::with_stdout("-P INPUT ACCEPT\n"),
            )
            .on_output(&["iptables", "-w", "-D", "INPUT"], Output::empty())
            .allow_output(&["iptables", "-w", "-F"], Output::empty())
            .allow_output(&["iptables", "-w", "-X"], Output::empty()),
    );
    let fw = Firewall::new(r.clone(), "iptables", "ip6tables", true);
    let existing = || Ok::<_, ()>(["aaaaaaaaaaaa".to_owned()].into_iter().collect());
    assert_eq!(
        fw.sweep(existing).unwrap(),
        vec!["SFORGE_bbbbbbbbbbbb".to_owned()]
    );
    let l = lines(&r);
    assert!(l.contains(
        &"iptables -w -D INPUT -s 172.17.0.9/32 -i docker0 -m comment --comment 'sforge run=x' -j SFORGE_bbbbbbbbbbbb".to_owned()
    ), "{l:#?}");
    assert!(
        !l.iter()
            .any(|c| c.contains("-X SFORGE_aaaaaaaaaaaa") || c.contains("-D INPUT -j SFORGE_aaaa")),
        "{l:#?}"
    );
}

#[test]
fn rights_failure_names_the_command() {
    let r = Arc::new(
        RecordingRunner::new().otherwise(|_| Ok(Output::failed(1, "sudo: a password is required"))),
    );
    let fw = Firewall::new(r, "iptables", "ip6tables", false);
    let err = fw.check_rights().unwrap_err().to_string();
    assert!(err.contains("passwordless sudo for iptables"), "{err}");
    assert!(err.contains("sudo -n iptables -w -L INPUT -n"), "{err}");
}
