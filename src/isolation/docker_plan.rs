//! The iptables part of a printed Docker plan (docs/architecture.md#plans): the same chain
//! plan as a real run, with the container's id, IPv4 address, gateway and IPv6 addresses
//! (global and link-local) read back by `docker inspect` when the script is replayed, and hosts that could not be
//! resolved here looped over the addresses looked up then.

use std::fmt::Write as _;
use std::net::{Ipv4Addr, Ipv6Addr};

use super::egress::Egress;
use super::firewall::Firewall;
use super::plan::{owner_comment, plan, ChainPlan, ContainerNet, Family};
use super::Owner;

/// Stand-ins for the container's values, replaced by shell variables in the printed lines.
const ID: &str = "0c0c0c0c0c0c";
const IP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 2);
const GATEWAY: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
const LINK_LOCAL: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0xdead, 0xbeef, 0xdead, 0xbeef);
const GLOBAL_V6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0xdead, 0xbeef, 0xdead, 0xbeef);

/// The chain plan with the stand-ins (the parent chains are those of this host).
fn stand_in_plan(firewall: &Firewall, egress: &Egress, owner: &Owner<'_>) -> ChainPlan {
    let net = ContainerNet {
        id: ID.to_owned(),
        ipv4: IP,
        ipv6: Some(GLOBAL_V6),
        ipv6_link_local: Some(LINK_LOCAL),
        gateway: GATEWAY,
        gateway6: None,
        bridge: "docker0".to_owned(),
    };
    let allowed: Vec<_> = egress
        .endpoints
        .iter()
        .flat_map(|e| e.allowed(GATEWAY))
        .collect();
    let comment = owner_comment(owner.run_id, owner.task, owner.owner);
    plan(&net, &allowed, firewall.parents(), &comment)
}

/// One printed iptables line: program, `-w`, the arguments with the stand-ins replaced.
fn line(firewall: &Firewall, family: Family, args: &[String], egress: &Egress) -> String {
    let program = match family {
        Family::V4 => firewall.program_v4(),
        Family::V6 => firewall.program_v6(),
    };
    let words = crate::shell::join(args.iter().map(String::as_str));
    let text = format!("{program} -w {words}")
        .replace(&format!("SFORGE_{ID}"), "\"$SFORGE_CHAIN\"")
        .replace(&format!("{IP}/32"), "\"$CONTAINER_IP/32\"")
        .replace(&format!("{GATEWAY}/32"), "\"$GATEWAY/32\"")
        .replace(&format!("{LINK_LOCAL}/128"), "\"$CONTAINER_LL/128\"")
        .replace(&format!("{GLOBAL_V6}/128"), "\"$CONTAINER_IP6/128\"");
    // A container without that address gets no rule for it.
    let text = ["CONTAINER_LL", "CONTAINER_IP6"]
        .iter()
        .find(|var| text.contains(&format!("${var}/")))
        .map_or(text.clone(), |var| format!("[ -z \"${var}\" ] || {text}"));
    match egress
        .replay
        .iter()
        .find(|l| text.contains(&format!("{}/32", l.sentinel)))
    {
        Some(lookup) => lookup.loop_line(&text),
        None => format!("{text}\n"),
    }
}

/// `lines` for one family; IPv6 lines only run when the container has a link-local address.
fn per_family(family: Family, lines: &str) -> String {
    match family {
        Family::V4 => lines.to_owned(),
        Family::V6 => format!("if [ -n \"$CONTAINER_LL$CONTAINER_IP6\" ]; then\n{lines}fi\n"),
    }
}

/// The variables read back from the container, then the chain and its jumps.
pub fn apply_text(
    firewall: &Firewall,
    docker: &str,
    container: &str,
    egress: &Egress,
    owner: &Owner<'_>,
) -> String {
    let plan = stand_in_plan(firewall, egress, owner);
    let docker = crate::shell::quote(docker);
    let name = crate::shell::quote(container);
    let mut text = String::new();
    let _ = writeln!(
        text,
        "CONTAINER_IP=$({docker} inspect -f '{{{{.NetworkSettings.IPAddress}}}}' {name})\n\
         GATEWAY=$({docker} inspect -f '{{{{.NetworkSettings.Gateway}}}}' {name})\n\
         SFORGE_CHAIN=SFORGE_$({docker} inspect -f '{{{{.Id}}}}' {name} | cut -c1-12)\n\
         CONTAINER_IP6=$({docker} inspect -f '{{{{.NetworkSettings.GlobalIPv6Address}}}}' {name})\n\
         # the IPv6 link-local address Docker derives from the MAC address (EUI-64)\n\
         CONTAINER_LL=$(mac=$({docker} inspect -f '{{{{.NetworkSettings.MacAddress}}}}' {name}); \
         [ -z \"$mac\" ] || (IFS=:; set -- $mac; printf 'fe80::%x:%x:%x:%x' \
         $(( (0x$1 ^ 2) << 8 | 0x$2 )) $(( 0x$3 << 8 | 0xff )) $(( 0xfe << 8 | 0x$4 )) \
         $(( 0x$5 << 8 | 0x$6 ))))"
    );
    for &family in &plan.families {
        let mut lines = line(
            firewall,
            family,
            &["-N".to_owned(), plan.chain.clone()],
            egress,
        );
        for rule in plan.rules.iter().chain(&plan.jumps) {
            if rule.family == family {
                lines.push_str(&line(firewall, family, &rule.add_args(), egress));
            }
        }
        text.push_str(&per_family(family, &lines));
    }
    text
}

/// What removing the rules does in a real run: the jumps deleted, the chains flushed and
/// deleted.
pub fn remove_text(
    firewall: &Firewall,
    container: &str,
    egress: &Egress,
    owner: &Owner<'_>,
) -> String {
    let plan = stand_in_plan(firewall, egress, owner);
    let mut text = format!(
        "# remove the iptables rules of {container} (if the plan got that far)\n\
         if [ -n \"${{SFORGE_CHAIN:-}}\" ]; then\n"
    );
    for &family in &plan.families {
        let mut lines = String::new();
        for jump in plan.jumps.iter().filter(|j| j.family == family) {
            lines.push_str(&line(firewall, family, &jump.delete_args(), egress));
        }
        for op in ["-F", "-X"] {
            lines.push_str(&line(
                firewall,
                family,
                &[op.to_owned(), plan.chain.clone()],
                egress,
            ));
        }
        text.push_str(&per_family(family, &lines));
    }
    text.push_str("fi\n");
    text
}
