//! Isolation of Kubernetes Work pods: a `NetworkPolicy` `sforge-iso-<pod>` that allows TCP to the
//! judge and the API only (and DNS to the cluster DNS), proven by the self-check — which fails
//! the run closed on clusters whose network plugin ignores `NetworkPolicy`.

use std::net::{Ipv4Addr, SocketAddrV4, TcpListener};
use std::sync::Arc;

use super::endpoints::Target;
use super::selfcheck::SelfCheck;
use super::{Applied, Egress, IsolationError, Isolator, Owner};
use crate::sandbox::{K8sSandbox, Sandbox};

const LEAK_HINT: &str = "; the cluster does not enforce NetworkPolicy (its network plugin ignores \
                         it), so internet isolation cannot be honoured there: use a CNI that \
                         enforces NetworkPolicy, or run with --enable-internet";

/// Isolation on the k8s backend.
pub struct K8sIsolation {
    sandbox: Arc<K8sSandbox>,
}

impl K8sIsolation {
    #[must_use]
    pub fn new(sandbox: Arc<K8sSandbox>) -> Self {
        K8sIsolation { sandbox }
    }
}

/// Is `ip` an address of this host (so that a listener here is reachable at it)?
#[must_use]
pub fn is_host_address(ip: std::net::IpAddr) -> bool {
    ip.is_loopback() || TcpListener::bind((ip, 0)).is_ok()
}

impl Isolator for K8sIsolation {
    fn isolate(
        &self,
        sandbox: &dyn Sandbox,
        container: &str,
        egress: &Egress,
        owner: &Owner<'_>,
        applied: &mut Option<Applied>,
        log: &dyn Fn(&str),
    ) -> Result<(), IsolationError> {
        if let Some(e) = egress
            .endpoints
            .iter()
            .find(|e| e.target == Target::Gateway)
        {
            return Err(IsolationError::Endpoint {
                url: e.url.clone(),
                detail: "host.docker.internal means nothing to a pod; give an address pods reach \
                         (a host IP, a LoadBalancer, an in-cluster Service)"
                    .into(),
            });
        }
        let endpoints: Vec<(Ipv4Addr, u16)> = egress
            .endpoints
            .iter()
            .flat_map(|e| e.allowed(Ipv4Addr::UNSPECIFIED))
            .map(|a| (a.ip, a.port))
            .collect();
        let judge = egress
            .judge(Ipv4Addr::UNSPECIFIED)
            .ok_or_else(|| IsolationError::Probe("no judge endpoint".into()))?;
        if !is_host_address((*judge.ip()).into()) {
            return Err(IsolationError::Probe(format!(
                "the judge at {judge} is not on this host, and the self-check needs a canary \
                 port on the judge's host to prove that the pod's egress is blocked; run the \
                 judge (sforge serve / sforge run) on this host"
            )));
        }
        let check = SelfCheck {
            sandbox,
            container,
            host_ip: *judge.ip(),
            // The judge's host is not on the pod network: no IPv6 address there to probe, and
            // other pods are kept out by the same policy that the canaries prove.
            host_ip6: None,
            peer: None,
            judge: SocketAddrV4::new(*judge.ip(), judge.port()),
            leak_hint: LEAK_HINT,
        };
        let proof = check.run(&mut || {
            *applied = Some(Applied::Policy {
                container: container.to_owned(),
            });
            self.sandbox
                .apply_policy(container, owner.labels, &endpoints)
                .map_err(|e| IsolationError::Probe(e.to_string()))?;
            log("NetworkPolicy applied");
            // Policies take effect asynchronously in real clusters; give the CNI a moment.
            std::thread::sleep(std::time::Duration::from_secs(2));
            Ok(())
        })?;
        log(&format!(
            "isolation self-check passed: judge {judge} reachable; {proof}"
        ));
        Ok(())
    }

    /// The policy is applied through the sandbox's (dry-run) runner, which prints the command.
    fn dry_run(
        &self,
        _sandbox: &dyn Sandbox,
        container: &str,
        egress: &Egress,
        owner: &Owner<'_>,
    ) -> String {
        let endpoints: Vec<(Ipv4Addr, u16)> = egress
            .endpoints
            .iter()
            .flat_map(|e| e.allowed(Ipv4Addr::UNSPECIFIED))
            .map(|a| (a.ip, a.port))
            .collect();
        if let Err(e) = self
            .sandbox
            .apply_policy(container, owner.labels, &endpoints)
        {
            return format!("# cannot plan the NetworkPolicy: {e}\n");
        }
        egress.describe("NetworkPolicy sforge-iso-<pod> (and DNS to the cluster DNS only)")
    }

    fn remove(&self, applied: &Applied) -> Vec<String> {
        match applied {
            Applied::Policy { container } => self
                .sandbox
                .remove_policy(container)
                .err()
                .map(|e| e.to_string())
                .into_iter()
                .collect(),
            Applied::Chain(_) => Vec::new(),
        }
    }
}
