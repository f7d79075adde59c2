//! iptables rule plans for one isolated Work container, as plain data: the chain, its rules and
//! the jumps that send the container's traffic into it. Pure: golden-tested, applied elsewhere.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

/// IPv4 (`iptables`) or IPv6 (`ip6tables`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Family {
    V4,
    V6,
}

/// Where a container sits on the Docker bridge, as `docker inspect` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerNet {
    /// The full container id; the chain is named after its first 12 characters.
    pub id: String,
    pub ipv4: Ipv4Addr,
    /// Global IPv6 address, when the network has IPv6.
    pub ipv6: Option<Ipv6Addr>,
    /// Link-local IPv6 address (derived from the MAC address), when known.
    pub ipv6_link_local: Option<Ipv6Addr>,
    /// The bridge's gateway on the host (what `host.docker.internal` means).
    pub gateway: Ipv4Addr,
    /// The bridge's IPv6 gateway on the host, when the network has IPv6.
    pub gateway6: Option<Ipv6Addr>,
    /// The bridge interface on the host, e.g. `docker0`.
    pub bridge: String,
}

/// One TCP destination the container may reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Allowed {
    pub ip: Ipv4Addr,
    pub port: u16,
}

/// One rule: `-A chain spec…` (or `-I chain spec…` for jumps placed first in a parent chain).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub family: Family,
    pub chain: String,
    /// Insert at the top (jumps) rather than append (the chain's own rules).
    pub insert: bool,
    pub spec: Vec<String>,
}

impl Rule {
    /// `-A|-I chain spec…`
    #[must_use]
    pub fn add_args(&self) -> Vec<String> {
        self.with(if self.insert { "-I" } else { "-A" })
    }

    /// `-C chain spec…` (exit 0 when the rule exists).
    #[must_use]
    pub fn check_args(&self) -> Vec<String> {
        self.with("-C")
    }

    /// `-D chain spec…`
    #[must_use]
    pub fn delete_args(&self) -> Vec<String> {
        self.with("-D")
    }

    fn with(&self, op: &str) -> Vec<String> {
        let mut args = vec![op.to_owned(), self.chain.clone()];
        args.extend(self.spec.iter().cloned());
        args
    }
}

/// The whole plan for one container: per family, its chain rules (in order) and its jumps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainPlan {
    pub chain: String,
    pub families: Vec<Family>,
    /// The chain's own rules, in order, per family.
    pub rules: Vec<Rule>,
    /// Jumps from parent chains into the chain.
    pub jumps: Vec<Rule>,
}

/// Which parent chains exist on the host (DOCKER-USER does not when Docker manages no iptables).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Parents {
    pub docker_user_v4: bool,
    pub docker_user_v6: bool,
}

/// `SFORGE_<first 12 characters of the container id>`.
#[must_use]
pub fn chain_name(container_id: &str) -> String {
    let short: String = container_id.chars().take(12).collect();
    format!("SFORGE_{short}")
}

/// Is `name` a chain sforge creates (and the 12-character id it belongs to)?
#[must_use]
pub fn chain_id(name: &str) -> Option<&str> {
    let id = name.strip_prefix("SFORGE_")?;
    (id.len() == 12 && id.bytes().all(|b| b.is_ascii_hexdigit())).then_some(id)
}

/// The owner comment every rule carries (`iptables -S` shows whose rule it is).
#[must_use]
pub fn owner_comment(run_id: &str, task: &str, owner: &str) -> String {
    let clean = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "._-@".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .take(60)
            .collect()
    };
    format!(
        "sforge run={} task={} role=work owner={}",
        clean(run_id),
        clean(task),
        clean(owner)
    )
}

/// The connection mark (value/mask, one bit) the chain sets on connections it allows; only
/// packets of marked connections pass later. A connection opened before the rules (during the
/// install steps) carries no mark, so it is cut like any other (docs/security.md#network-isolation).
pub const CONNMARK: &str = "0x800000/0x800000";

/// The plan: the container may only open TCP connections to `allowed` over IPv4; packets of those
/// connections (replies included) pass, everything else it sends or is sent is dropped — new
/// connections *into* the container too, and all of IPv6.
#[must_use]
pub fn plan(net: &ContainerNet, allowed: &[Allowed], parents: Parents, comment: &str) -> ChainPlan {
    let chain = chain_name(&net.id);
    let mut rules = v4_rules(&chain, allowed, comment);
    let v4 = [format!("{}/32", net.ipv4)];
    let mut jumps = jumps_into(
        Family::V4,
        &v4,
        &net.bridge,
        parents.docker_user_v4,
        &chain,
        comment,
    );
    let mut families = vec![Family::V4];
    let v6: Vec<String> = [net.ipv6, net.ipv6_link_local]
        .into_iter()
        .flatten()
        .map(|ip| format!("{ip}/128"))
        .collect();
    if !v6.is_empty() {
        families.push(Family::V6);
        rules.push(rule(Family::V6, &chain, false, &["-j", "DROP"], comment));
        jumps.extend(jumps_into(
            Family::V6,
            &v6,
            &net.bridge,
            parents.docker_user_v6,
            &chain,
            comment,
        ));
    }
    ChainPlan {
        chain,
        families,
        rules,
        jumps,
    }
}

/// One rule carrying the owner comment.
fn rule(family: Family, chain: &str, insert: bool, spec: &[&str], comment: &str) -> Rule {
    Rule {
        family,
        chain: chain.to_owned(),
        insert,
        spec: tagged(spec, comment),
    }
}

/// The IPv4 chain: mark new TCP connections to each allowed endpoint, let packets of marked
/// connections return, drop the rest.
fn v4_rules(chain: &str, allowed: &[Allowed], comment: &str) -> Vec<Rule> {
    let mut allowed: Vec<Allowed> = allowed.to_vec();
    allowed.sort();
    allowed.dedup();
    let mut rules: Vec<Rule> = allowed
        .iter()
        .map(|a| {
            let (dst, port) = (format!("{}/32", a.ip), a.port.to_string());
            let spec = ["-d", &dst, "-p", "tcp", "--dport", &port];
            let mark = ["-j", "CONNMARK", "--set-xmark", CONNMARK];
            rule(
                Family::V4,
                chain,
                false,
                &[&spec[..], &mark[..]].concat(),
                comment,
            )
        })
        .collect();
    let marked = ["-m", "connmark", "--mark", CONNMARK, "-j", "RETURN"];
    rules.push(rule(Family::V4, chain, false, &marked, comment));
    rules.push(rule(Family::V4, chain, false, &["-j", "DROP"], comment));
    rules
}

/// The jumps into `chain` for every address of the container, out of it and into it.
fn jumps_into(
    family: Family,
    addrs: &[String],
    bridge: &str,
    docker_user: bool,
    chain: &str,
    comment: &str,
) -> Vec<Rule> {
    let mut out = Vec::new();
    for addr in addrs {
        for flag in ["-s", "-d"] {
            for (parent, spec) in jump_specs(family, bridge, flag, addr, docker_user, chain) {
                let spec: Vec<&str> = spec.iter().map(String::as_str).collect();
                out.push(rule(family, parent, true, &spec, comment));
            }
        }
    }
    out
}

/// `spec` with the owner comment put before its target (`-j …`).
fn tagged(spec: &[&str], comment: &str) -> Vec<String> {
    let at = spec.iter().position(|w| *w == "-j").unwrap_or(spec.len());
    let mut out: Vec<String> = spec[..at].iter().map(|s| (*s).to_owned()).collect();
    out.extend(["-m", "comment", "--comment", comment].map(str::to_owned));
    out.extend(spec[at..].iter().map(|s| (*s).to_owned()));
    out
}

/// The jumps that send the container's packets into `chain`: `flag` `-s` for what it sends,
/// `-d` for what is sent to it. Forwarded traffic (other hosts, other containers) goes through
/// DOCKER-USER (which runs first in FORWARD) or else FORWARD; traffic to the host itself through
/// INPUT, traffic from the host to the container through OUTPUT.
fn jump_specs(
    family: Family,
    bridge: &str,
    flag: &str,
    addr: &str,
    docker_user: bool,
    chain: &str,
) -> Vec<(&'static str, Vec<String>)> {
    let words = |w: &[&str]| w.iter().map(|s| (*s).to_owned()).collect::<Vec<String>>();
    let iface = if flag == "-s" { "-i" } else { "-o" };
    let mut out = Vec::new();
    // IPv4 forwarded traffic goes through DOCKER-USER when it exists; IPv6 through both (Docker
    // 20.10 jumps to DOCKER-USER only in its own IPv6 setups).
    if docker_user {
        out.push(("DOCKER-USER", words(&[flag, addr, "-j", chain])));
    }
    if !docker_user || family == Family::V6 {
        out.push(("FORWARD", words(&[iface, bridge, flag, addr, "-j", chain])));
    }
    let local = if flag == "-s" { "INPUT" } else { "OUTPUT" };
    out.push((local, words(&[iface, bridge, flag, addr, "-j", chain])));
    out
}

/// The link-local IPv6 address the kernel derives from a MAC address (modified EUI-64).
#[must_use]
pub fn link_local_from_mac(mac: &str) -> Option<Ipv6Addr> {
    let bytes: Vec<u8> = mac
        .split(':')
        .map(|h| u8::from_str_radix(h, 16).ok())
        .collect::<Option<_>>()?;
    let [m0, m1, m2, m3, m4, m5] = bytes.as_slice() else {
        return None;
    };
    let words = [
        0xfe80,
        0,
        0,
        0,
        u16::from_be_bytes([m0 ^ 0x02, *m1]),
        u16::from_be_bytes([*m2, 0xff]),
        u16::from_be_bytes([0xfe, *m3]),
        u16::from_be_bytes([*m4, *m5]),
    ];
    Some(Ipv6Addr::from(words))
}

impl fmt::Display for ChainPlan {
    /// The plan as the iptables commands that create it (one per line).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for family in &self.families {
            let prog = match family {
                Family::V4 => "iptables",
                Family::V6 => "ip6tables",
            };
            writeln!(f, "{prog} -N {}", self.chain)?;
            for rule in self.rules.iter().chain(&self.jumps) {
                if rule.family == *family {
                    let args: Vec<String> = rule.add_args();
                    writeln!(
                        f,
                        "{prog} {}",
                        crate::shell::join(args.iter().map(String::as_str))
                    )?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
