use super::*;
use crate::golden::assert_golden;

fn net(ipv6: bool) -> ContainerNet {
    ContainerNet {
        id: "0123456789abcdef0123".into(),
        ipv4: Ipv4Addr::new(172, 17, 0, 5),
        ipv6: ipv6.then(|| "fd00:5f0:e::242:ac11:5".parse().unwrap()),
        ipv6_link_local: ipv6.then(|| link_local_from_mac("02:42:ac:11:00:05").unwrap()),
        gateway: Ipv4Addr::new(172, 17, 0, 1),
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
        let n = rule.spec.len();
        assert_eq!(rule.spec[n - 2], "-j", "{rule:?}");
        assert!(rule.spec.contains(&comment), "{rule:?}");
    }
    // Established first, drop last, one RETURN per distinct endpoint.
    let v4: Vec<&Rule> = p.rules.iter().filter(|r| r.family == Family::V4).collect();
    assert!(v4[0].spec.contains(&"ESTABLISHED,RELATED".to_owned()));
    assert_eq!(v4.last().unwrap().spec.last().unwrap(), "DROP");
    assert_eq!(v4.len(), 2 + 3);
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
