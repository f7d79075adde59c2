//! Network isolation of Work containers when internet is off: iptables rule plans and their
//! application on Docker, the endpoints that stay reachable, and the self-check that proves
//! egress is blocked before the agent starts (and fails the run closed when it is not).

mod docker;
mod docker_plan;
mod egress;
mod endpoints;
mod firewall;
mod k8s;
mod plan;
mod probe;
mod proxies;
mod selfcheck;

pub use crate::owner::is_root;
pub use docker::{AppliedIsolation, DockerIsolation};
pub use egress::Egress;
pub use endpoints::{
    host_port, plan_lookup, resolve, system_lookup, Endpoint, Target, HOST_GATEWAY_NAME,
};
pub use firewall::Firewall;
pub use k8s::{is_host_address, K8sIsolation};
pub use plan::{
    chain_id, chain_name, link_local_from_mac, owner_comment, plan, Allowed, ChainPlan,
    ContainerNet, Family, Parents, Rule,
};
pub use probe::{probe, Canary, Proto, Reach, UdpCanary};
pub use proxies::{check_proxies, is_inherited_proxy};
pub use selfcheck::{Proof, SelfCheck};

use crate::process::ProcessError;
use crate::sandbox::Sandbox;

/// Rules in place for one Work container, to be removed when it goes.
#[derive(Debug, Clone)]
pub enum Applied {
    /// An iptables chain and its jumps (Docker).
    Chain(AppliedIsolation),
    /// A `NetworkPolicy` for the pod of this container (Kubernetes).
    Policy { container: String },
}

/// A backend's way of cutting a Work container off, proven by the [`SelfCheck`].
pub trait Isolator: Send + Sync {
    /// Apply the egress rules for `container` and prove them. `applied` is set as soon as
    /// something exists that [`Isolator::remove`] must undo, whatever happens next.
    fn isolate(
        &self,
        sandbox: &dyn Sandbox,
        container: &str,
        egress: &Egress,
        owner: &Owner<'_>,
        applied: &mut Option<Applied>,
        log: &dyn Fn(&str),
    ) -> Result<(), IsolationError>;

    /// Remove what [`Isolator::isolate`] applied; problems come back as warnings.
    fn remove(&self, applied: &Applied) -> Vec<String>;

    /// For `--dry-run`: the isolation of `container` as shell lines for the printed script (or
    /// printed through the sandbox's dry-run runner, returning only comments).
    fn dry_run(
        &self,
        sandbox: &dyn Sandbox,
        container: &str,
        egress: &Egress,
        owner: &Owner<'_>,
    ) -> String;

    /// For `--dry-run`: the lines that undo [`Isolator::dry_run`] (printed before the container
    /// is removed; empty when removing the container is enough).
    fn dry_run_remove(&self, container: &str, egress: &Egress, owner: &Owner<'_>) -> String {
        let _ = (container, egress, owner);
        String::new()
    }
}

/// Whose container it is (for rule comments and policy labels).
pub struct Owner<'a> {
    pub run_id: &'a str,
    pub task: &'a str,
    pub owner: &'a str,
    pub labels: &'a std::collections::BTreeMap<String, String>,
}

/// Why isolation could not be set up, or why it failed its self-check.
#[derive(Debug, thiserror::Error)]
pub enum IsolationError {
    #[error(
        "network isolation needs root or passwordless sudo for iptables, and `{command}` failed: \
         {detail}\n  fix: run sforge as root, allow `sudo -n iptables` (and ip6tables) for this \
         user, or run without --disable-internet"
    )]
    NoRights { command: String, detail: String },
    #[error("cannot change the firewall: {0}")]
    Firewall(Box<ProcessError>),
    #[error("cannot use {url} as an allowed endpoint of an isolated container: {detail}")]
    Endpoint { url: String, detail: String },
    #[error("Failed to resolve hostname '{host}': {detail}")]
    Resolve { host: String, detail: String },
    #[error(
        "network isolation cannot be combined with a proxy inside the Work container ({vars}); \
         an isolated container reaches only the judge and the API.\n  fix: remove that proxy \
         setting, run `sforge proxy --target <API URL>` on the host (it uses SFORGE_HTTPS_PROXY/HTTPS_PROXY \
         itself) and point SFORGE_AGENT_API_BASE_URL at http://host.docker.internal:9090"
    )]
    ProxyConflict { vars: String },
    #[error("cannot read the network settings of container {name}: {detail}")]
    Inspect { name: String, detail: String },
    #[error("isolation self-check could not run: {0}")]
    Probe(String),
    #[error(
        "isolation self-check failed, egress is NOT blocked: {0}. The run stops before the agent \
         starts."
    )]
    Leak(String),
}
