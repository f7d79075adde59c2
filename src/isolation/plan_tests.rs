use super::*;
use crate::golden::assert_golden;

fn net(ipv6: bool) -> ContainerNet {
    ContainerNet {
        id: "0123456789abcdef0123".into(),
        ipv4: Ipv4Addr::new(172, 17, 0, 5),
        ipv6: ipv6.then(|| "fd00:5f0:e::242:ac11:5".parse().unwrap()),
        ipv6_link_local: ipv6.then(|| link_local_from_mac("02:42:ac:11:00:05").unwrap()),
        gateway: Ipv4Addr::new(172, 17, 0, 1),
        gateway6: None,
        bridge: "docker0".into(),
    }
}

fn allowed() -> Vec<Allowed> {
    vec![
        Allowed {
            ip: Ipv4Addr::new(172, 17, 0, 1),
            port: 8080,
        },
        Allowed {
            ip: Ipv4Addr::new(10, 0, 0, 2),
            port: 443,
        },
        Allowed {
            ip: Ipv4Addr::new(10, 0, 0, 1),
            port: 443,
        },
        Allowed {
            ip: Ipv4Addr::new(10, 0, 0, 1),
            port: 443,
        },
    ]
}

#[test]
fn plan_with_docker_user_and_ipv6() {
    let parents = Parents {
        docker_user_v4: true,
        docker_user_v6: false,
    };
    let p = plan(
        &net(true),
        &allowed(),
        parents,
        &owner_comment("r1", "demo", "alice"),
    );
    assert_eq!(p.chain, "SFORGE_0123456789ab");
    assert_golden("isolation/plan_ipv6.txt", &p.to_string());
}

#[test]
fn plan_without_docker_user_jumps_from_forward() {
    let p = plan(&net(false), &allowed()[..1], Parents::default(), "c");
    assert_golden("isolation/plan_forward.txt", &p.to_string());
    assert_eq!(p.families, vec![Family::V4]);
}

#[test]
fn every_rule_carries_the_owner_comment_and_ends_in_a_target() {
    let comment = owner_comment("run 1", "t\"x", "bob");
    assert_eq!(comment, "sforge run=run_1 task=t_x role=work owner=bob");
    let p = plan(&net(true), &allowed(), Parents::default(), &comment);
    for rule in p.rules.iter().chain(&p.jumps) {
        let j = rule.spec.iter().position(|w| w == "-j").unwrap();
        assert!(j + 2 <= rule.spec.len(), "{rule:?}");
        assert!(rule.spec[..j].contains(&comment), "{rule:?}");
    }
    // One mark per distinct endpoint, then marked connections return, drop last.
    let v4: Vec<&Rule> = p.rules.iter().filter(|r| r.family == Family::V4).collect();
    assert_eq!(v4.len(), 3 + 2);
    assert!(v4[..3].iter().all(|r| r.spec.ends_with(&[
        "-j".to_owned(),
        "CONNMARK".to_owned(),
        "--set-xmark".to_owned(),
        CONNMARK.to_owned()
    ])));
    assert!(v4[3].spec.contains(&"connmark".to_owned()));
    assert_eq!(v4.last().unwrap().spec.last().unwrap(), "DROP");
    let v6: Vec<&Rule> = p.rules.iter().filter(|r| r.family == Family::V6).collect();
    assert_eq!(v6.len(), 1, "IPv6: everything dropped");
}

#[test]
fn the_container_is_walled_both_ways() {
    let p = plan(&net(true), &allowed(), Parents::default(), "c");
    let jumps = |family, flag: &str| -> Vec<String> {
        p.jumps
            .iter()
            .filter(|j| j.family == family && j.spec.iter().any(|w| w == flag))
            .map(|j| j.chain.clone())
            .collect()
    };
    assert_eq!(jumps(Family::V4, "-s"), ["FORWARD", "INPUT"]);
    assert_eq!(jumps(Family::V4, "-d"), ["FORWARD", "OUTPUT"]);
    // Two IPv6 addresses, each both ways.
    assert_eq!(
        jumps(Family::V6, "-d"),
        ["FORWARD", "OUTPUT", "FORWARD", "OUTPUT"]
    );
    let inbound = p
        .jumps
        .iter()
        .find(|j| j.chain == "OUTPUT" && j.family == Family::V4)
        .unwrap();
    assert_eq!(inbound.spec[..4], ["-o", "docker0", "-d", "172.17.0.5/32"]);
}

#[test]
fn chain_ids_and_link_local() {
    assert_eq!(chain_id("SFORGE_0123456789ab"), Some("0123456789ab"));
    assert_eq!(chain_id("SFORGE_0123"), None);
    assert_eq!(chain_id("SFORGE_0123456789zz"), None);
    assert_eq!(chain_id("DOCKER"), None);
    assert_eq!(
        link_local_from_mac("02:42:ac:11:00:02")
            .unwrap()
            .to_string(),
        "fe80::42:acff:fe11:2"
    );
    assert_eq!(link_local_from_mac("nonsense"), None);
}

#[test]
fn rule_argument_forms() {
    let r = Rule {
        family: Family::V4,
        chain: "INPUT".into(),
        insert: true,
        spec: vec!["-j".into(), "X".into()],
    };
    assert_eq!(r.add_args(), ["-I", "INPUT", "-j", "X"]);
    assert_eq!(r.check_args(), ["-C", "INPUT", "-j", "X"]);
    assert_eq!(r.delete_args(), ["-D", "INPUT", "-j", "X"]);
}
