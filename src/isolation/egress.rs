//! What an isolated Work container may reach (the judge and the API, resolved), and, for
//! printed plans, the hosts that are resolved only when the plan is replayed.

use std::fmt::Write as _;
use std::net::{Ipv4Addr, SocketAddrV4};

use super::endpoints::{resolve, Endpoint, Target};
use super::IsolationError;
use crate::process::replay::{lookup_for, ReplayLookup};
use crate::sandbox::ContainerSpec;

/// What an isolated Work container may reach.
#[derive(Debug, Clone)]
pub struct Egress {
    pub endpoints: Vec<Endpoint>,
    /// Plans only: endpoints whose host could not be resolved here stand in a documentation
    /// address that the printed script replaces by addresses it looks up when replayed.
    pub replay: Vec<ReplayLookup>,
}

impl Egress {
    /// The judge (as the container sees it) and, when there is one, the LLM API.
    pub fn resolve(
        judge_url: &str,
        api_url: Option<&str>,
        lookup: &dyn Fn(&str) -> std::io::Result<Vec<Ipv4Addr>>,
    ) -> Result<Self, IsolationError> {
        let mut endpoints = vec![resolve("judge", judge_url, lookup)?];
        if let Some(api) = api_url {
            endpoints.push(resolve("API", api, lookup)?);
        }
        Ok(Egress {
            endpoints,
            replay: Vec::new(),
        })
    }

    /// For a printed plan: like [`Egress::resolve`], but a host that cannot be resolved here
    /// (within a few seconds) becomes a [`ReplayLookup`] with a warning, resolved when the plan
    /// is replayed.
    pub fn resolve_for_plan(
        judge_url: &str,
        api_url: Option<&str>,
        lookup: &dyn Fn(&str) -> std::io::Result<Vec<Ipv4Addr>>,
    ) -> Result<Self, IsolationError> {
        let mut egress = Egress {
            endpoints: Vec::new(),
            replay: Vec::new(),
        };
        let urls = [("judge", Some(judge_url)), ("API", api_url)];
        for (role, url) in urls {
            let Some(url) = url else { continue };
            match resolve(role, url, lookup) {
                Ok(endpoint) => egress.endpoints.push(endpoint),
                Err(IsolationError::Resolve { host, detail }) => {
                    let later = lookup_for(role, &host, &detail);
                    let sentinel = later.sentinel;
                    egress
                        .endpoints
                        .push(resolve(role, url, &|_| Ok(vec![sentinel]))?);
                    egress.replay.push(later);
                }
                Err(e) => return Err(e),
            }
        }
        Ok(egress)
    }

    /// The lookup standing for `ip`, if `ip` is a sentinel of one.
    fn replayed(&self, ip: Ipv4Addr) -> Option<&ReplayLookup> {
        self.replay.iter().find(|l| l.sentinel == ip)
    }

    /// Pin the endpoints' names, drop `NET_RAW` and disable unprivileged ICMP sockets.
    pub fn adjust(&self, spec: &mut ContainerSpec) {
        for e in &self.endpoints {
            spec.add_hosts.extend(e.pins());
        }
        if !spec.cap_drop.iter().any(|c| c == "NET_RAW") {
            spec.cap_drop.push("NET_RAW".into());
        }
        spec.sysctls
            .push(("net.ipv4.ping_group_range".into(), "1 0".into()));
    }

    /// For `run --dry-run`: what the isolation of a task will do, as shell comments; `how`
    /// names the backend's mechanism (`iptables chain SFORGE_<container id>`).
    #[must_use]
    pub fn describe(&self, how: &str) -> String {
        let mut text = format!(
            "# internet is off: after the install steps, {how} lets the container\n\
             # open TCP connections only to these addresses (then a self-check proves it):\n",
        );
        for e in &self.endpoints {
            let to = match &e.target {
                Target::Gateway => "the bridge gateway".to_owned(),
                Target::Addresses(ips) if ips.len() == 1 && self.replayed(ips[0]).is_some() => self
                    .replayed(ips[0])
                    .map(|l| format!("${} (looked up when replayed)", l.var))
                    .unwrap_or_default(),
                Target::Addresses(ips) => ips
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
            };
            let _ = writeln!(text, "#   {} {}:{} -> {to}", e.role, e.host, e.port);
        }
        text
    }

    /// The judge's address as seen by the container.
    #[must_use]
    pub fn judge(&self, gateway: Ipv4Addr) -> Option<SocketAddrV4> {
        let judge = self.endpoints.iter().find(|e| e.role == "judge")?;
        judge
            .allowed(gateway)
            .first()
            .map(|a| SocketAddrV4::new(a.ip, a.port))
    }
}
