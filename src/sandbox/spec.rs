//! What a container is made of, and what to run in it: plain data for the backends.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::task::Role;

/// A long-lived container.
#[derive(Debug, Clone, Default)]
pub struct ContainerSpec {
    pub name: String,
    pub image: String,
    pub labels: BTreeMap<String, String>,
    /// Environment of the container; values never appear on a command line.
    pub env: Vec<(String, String)>,
    pub user: Option<String>,
    pub workdir: Option<String>,
    pub cpu_limit: Option<u32>,
    pub mem_limit: Option<String>,
    pub pids_limit: Option<u32>,
    /// `host:ip` entries for the container's hosts file (`host-gateway` allowed).
    pub add_hosts: Vec<String>,
    pub cap_drop: Vec<String>,
    /// Capabilities given back after `cap_drop` (with `ALL` dropped: the only ones left).
    pub cap_add: Vec<String>,
    /// No process may gain privileges through `execve` (setuid binaries, file capabilities).
    pub no_new_privileges: bool,
    /// What the container may reach, and what may reach it.
    pub network: Network,
    /// Kernel parameters of the container's namespaces (`--sysctl k=v`).
    pub sysctls: Vec<(String, String)>,
    /// Runs PID 1 on a lease (see `lease.rs`) that ends this long after the start unless
    /// renewed; on Docker the container is then removed (`--rm`).
    pub lifetime: Option<Duration>,
}

/// The network of a container.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Network {
    /// The engine's default network (Docker's bridge, the cluster's pod network).
    #[default]
    Default,
    /// Reaches out, but nothing may open a connection to it (Kubernetes: a `NetworkPolicy` with
    /// no ingress rule; Docker: a bridge of its own with inter-container traffic off).
    NoIngress,
    /// No network at all (Docker `--network none`; Kubernetes: a policy denying ingress and
    /// egress).
    None,
}

/// A command to run inside a container.
#[derive(Debug, Clone, Default)]
pub struct ExecSpec {
    pub argv: Vec<String>,
    pub env: Vec<(String, String)>,
    pub user: Option<String>,
    pub workdir: Option<String>,
    pub stdin: Option<Vec<u8>>,
    /// A host file streamed to the command's stdin (instead of `stdin`; large files are never
    /// held in memory).
    pub stdin_file: Option<std::path::PathBuf>,
    pub timeout: Option<Duration>,
}

/// The ownership labels every sforge resource carries.
#[must_use]
pub fn labels(run_id: &str, task_id: &str, role: Role, owner: &str) -> BTreeMap<String, String> {
    [
        ("app", "sforge"),
        ("sforge.run-id", run_id),
        ("sforge.task", task_id),
        ("sforge.role", role.as_str()),
        ("sforge.owner", owner),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}
