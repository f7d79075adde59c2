//! Isolation of Docker Work containers: preflight (iptables rights), the container's network
//! settings, applying the chain, the self-check, removal, and the sweep of stale chains.

use std::net::Ipv4Addr;
use std::sync::Arc;

use serde_json::Value;

use super::egress::Egress;
use super::firewall::Firewall;
use super::plan::owner_comment;
use super::plan::{link_local_from_mac, plan, ChainPlan, ContainerNet};
use super::selfcheck::SelfCheck;
use super::{Applied, IsolationError, Isolator, Owner};
use crate::process::{Cmd, ProcessError, Runner};
use crate::sandbox::{lease, ContainerSpec, Sandbox};

/// An iptables chain in place for a container.
#[derive(Debug, Clone)]
pub struct AppliedIsolation {
    pub net: ContainerNet,
    pub plan: ChainPlan,
}

/// Isolation on the Docker backend.
pub struct DockerIsolation {
    runner: Arc<dyn Runner>,
    docker: String,
    firewall: Firewall,
    /// Test hook (`SFORGE_TEST_SKIP_ISOLATION_RULES`): rules are not applied, so the self-check
    /// must fail the run.
    skip_rules: bool,
}

impl DockerIsolation {
    #[must_use]
    pub fn new(
        runner: Arc<dyn Runner>,
        docker: &str,
        firewall: Firewall,
        skip_rules: bool,
    ) -> Self {
        DockerIsolation {
            runner,
            docker: docker.to_owned(),
            firewall,
            skip_rules,
        }
    }

    /// Before any container starts: can sforge change the firewall?
    pub fn preflight(&self) -> Result<(), IsolationError> {
        self.firewall.check_rights()
    }

    /// Remove chains whose container no longer exists (left by a run that was killed).
    pub fn sweep(&self) -> Result<Vec<String>, IsolationError> {
        self.firewall.sweep(|| {
            let cmd = Cmd::new(&self.docker)
                .args(["ps", "-a", "-q", "--no-trunc"])
                .read_only();
            let out = self.runner.run(&cmd).map_err(|e| IsolationError::Inspect {
                name: "(all)".into(),
                detail: e.to_string(),
            })?;
            Ok(out
                .stdout_str()
                .lines()
                .map(|id| id.trim().chars().take(12).collect())
                .collect())
        })
    }

    /// The container's addresses and bridge.
    pub fn inspect(&self, name: &str) -> Result<ContainerNet, IsolationError> {
        let fail = |detail: String| IsolationError::Inspect {
            name: name.to_owned(),
            detail,
        };
        let cmd = Cmd::new(&self.docker)
            .args(["inspect", "--type", "container", "-f", "{{json .}}", name])
            .read_only();
        let out = self.runner.run(&cmd).map_err(|e| fail(e.to_string()))?;
        let info: Value =
            serde_json::from_slice(&out.stdout).map_err(|e| fail(format!("bad JSON: {e}")))?;
        let ns = &info["NetworkSettings"];
        let (network, settings) = ns["Networks"]
            .as_object()
            .and_then(|n| n.iter().next())
            .ok_or_else(|| fail("the container is on no network".into()))?;
        let text = |key: &str| settings[key].as_str().unwrap_or_default().to_owned();
        let ipv4 = text("IPAddress")
            .parse()
            .map_err(|_| fail("no IPv4 address (is the container running?)".into()))?;
        let gateway = text("Gateway")
            .parse()
            .map_err(|_| fail("Cannot determine gateway IP for network isolation".into()))?;
        let bridge = self.bridge(network).map_err(|e| fail(e.to_string()))?;
        Ok(ContainerNet {
            id: info["Id"].as_str().unwrap_or_default().to_owned(),
            ipv4,
            ipv6: text("GlobalIPv6Address").parse().ok(),
            ipv6_link_local: link_local_from_mac(&text("MacAddress")),
            gateway,
            gateway6: text("IPv6Gateway").parse().ok(),
            bridge,
        })
    }

    fn bridge(&self, network: &str) -> Result<String, ProcessError> {
        let cmd = Cmd::new(&self.docker)
            .args(["network", "inspect", "-f", "{{json .Options}}", network])
            .read_only();
        let out = self.runner.run(&cmd)?;
        let options: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        Ok(match options["com.docker.network.bridge.name"].as_str() {
            Some(name) => name.to_owned(),
            None if network == "bridge" => "docker0".to_owned(),
            None => format!("br-{}", network.chars().take(12).collect::<String>()),
        })
    }
}

/// How long the self-check's peer container may live (the check takes seconds).
const PEER_LIFETIME: std::time::Duration = std::time::Duration::from_secs(120);

/// A container beside the Work container, for the self-check to prove it unreachable (nothing
/// listens in it: a refused connection proves it reachable). Removed on drop.
struct Peer<'a> {
    sandbox: &'a dyn Sandbox,
    name: String,
    ip: Ipv4Addr,
}

impl<'a> Peer<'a> {
    /// `<work>.peer`, from the Work container's image, with its owner's labels, no capabilities
    /// and small limits.
    fn start(
        isolation: &DockerIsolation,
        sandbox: &'a dyn Sandbox,
        work: &str,
        owner: &Owner<'_>,
    ) -> Result<Self, IsolationError> {
        let fail = |detail: String| {
            IsolationError::Probe(format!("cannot start a peer container: {detail}"))
        };
        let cmd = Cmd::new(&isolation.docker)
            .args([
                "inspect",
                "--type",
                "container",
                "-f",
                "{{.Config.Image}}",
                work,
            ])
            .read_only();
        let out = isolation
            .runner
            .run(&cmd)
            .map_err(|e| fail(e.to_string()))?;
        let mut labels = owner.labels.clone();
        labels.insert("sforge.probe".into(), "peer".into());
        // Ends by itself (and `sforge gc` knows it is garbage) if sforge is killed meanwhile.
        labels.extend(lease::process_labels(
            crate::clock::epoch_secs() + PEER_LIFETIME.as_secs(),
        ));
        let spec = ContainerSpec {
            name: format!("{work}.peer"),
            image: out.stdout_str().trim().to_owned(),
            labels,
            lifetime: Some(PEER_LIFETIME),
            mem_limit: Some("64m".into()),
            pids_limit: Some(16),
            cap_drop: vec!["ALL".into()],
            no_new_privileges: true,
            ..ContainerSpec::default()
        };
        let _ = sandbox.remove(&spec.name);
        sandbox.start(&spec).map_err(|e| fail(e.to_string()))?;
        let mut peer = Peer {
            sandbox,
            name: spec.name,
            ip: Ipv4Addr::UNSPECIFIED,
        };
        peer.ip = isolation.inspect(&peer.name)?.ipv4;
        Ok(peer)
    }
}

impl Drop for Peer<'_> {
    fn drop(&mut self) {
        if let Err(e) = self.sandbox.remove(&self.name) {
            log::warn!("{e}");
        }
    }
}

impl Isolator for DockerIsolation {
    /// Apply the rules for `name` and prove them (see [`SelfCheck`]). `applied` is set as soon
    /// as rules exist, so the caller removes them whatever happens.
    fn isolate(
        &self,
        sandbox: &dyn Sandbox,
        name: &str,
        egress: &Egress,
        owner: &Owner<'_>,
        applied: &mut Option<Applied>,
        log: &dyn Fn(&str),
    ) -> Result<(), IsolationError> {
        let comment = owner_comment(owner.run_id, owner.task, owner.owner);
        let net = self.inspect(name)?;
        let judge = egress
            .judge(net.gateway)
            .ok_or_else(|| IsolationError::Probe("no judge endpoint".into()))?;
        let allowed: Vec<_> = egress
            .endpoints
            .iter()
            .flat_map(|e| e.allowed(net.gateway))
            .collect();
        let plan = plan(&net, &allowed, self.firewall.parents(), &comment);
        let peer = Peer::start(self, sandbox, name, owner)?;
        let check = SelfCheck {
            sandbox,
            container: name,
            host_ip: net.gateway,
            host_ip6: net.gateway6,
            peer: Some(peer.ip),
            judge,
            leak_hint: "",
        };
        let proof = check.run(&mut || {
            if self.skip_rules {
                log("TEST HOOK SFORGE_TEST_SKIP_ISOLATION_RULES: iptables rules NOT applied");
                return Ok(());
            }
            *applied = Some(Applied::Chain(AppliedIsolation {
                net: net.clone(),
                plan: plan.clone(),
            }));
            self.firewall.apply(&plan)?;
            log(&format!("iptables chain {} applied", plan.chain));
            Ok(())
        })?;
        drop(peer);
        log(&format!(
            "isolation self-check passed: judge {judge} reachable; {proof}"
        ));
        Ok(())
    }

    fn remove(&self, applied: &Applied) -> Vec<String> {
        match applied {
            Applied::Chain(chain) => self.firewall.remove(&chain.plan),
            Applied::Policy { .. } => Vec::new(),
        }
    }

    /// The plan with the container's id and addresses as shell variables read back by `docker
    /// inspect` when the script is replayed (see `docker_plan.rs`).
    fn dry_run(
        &self,
        _sandbox: &dyn Sandbox,
        container: &str,
        egress: &Egress,
        owner: &Owner<'_>,
    ) -> String {
        let mut text = egress.describe("iptables chain SFORGE_<container id>");
        text.push_str(&super::docker_plan::apply_text(
            &self.firewall,
            &self.docker,
            container,
            egress,
            owner,
        ));
        text
    }

    fn dry_run_remove(&self, container: &str, egress: &Egress, owner: &Owner<'_>) -> String {
        super::docker_plan::remove_text(&self.firewall, container, egress, owner)
    }
}
