//! Pure construction of the Pod, Secret and `NetworkPolicy` for a container from its
//! [`ContainerSpec`] and the cluster settings ([`K8sConfig`]).

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use super::config::K8sConfig;
use super::manifest::{
    Capabilities, Container, EgressRule, EnvVar, EnvVarSource, HostAlias, IpBlock, KeyRef,
    LabelSelector, NetworkPolicy, NetworkPolicySpec, ObjectMeta, Peer, Pod, PodSecurityContext,
    PodSpec, PolicyPort, Resources, Secret, SecurityContext, Sysctl,
};
use super::names::{label_value, pod_name, policy_name, secret_name, short_hash};
use super::units::{k8s_memory, MemoryError};
use crate::redact::is_secret_env;
use crate::sandbox::lease::keep_alive_argv;
use crate::sandbox::{ContainerSpec, Network};

/// The annotation keeping sforge's own container name on the pod.
pub const NAME_ANNOTATION: &str = "sforge.container-name";
/// Seconds a pod gets between SIGTERM and SIGKILL (the keep-alive loop exits on TERM at once).
const GRACE_SECONDS: u32 = 5;

/// What [`objects`] produces for one container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodObjects {
    pub pod: Pod,
    /// Present when the container has secret environment values.
    pub secret: Option<Secret>,
    /// Present when the container is walled in from the start (see [`Network`]): created before
    /// the pod, so it is never reachable unwalled.
    pub policy: Option<NetworkPolicy>,
}

/// `<registry>/<image>` (no double slash); the image unchanged without a registry or when it
/// already starts with the registry.
#[must_use]
pub fn image_ref(registry: &str, image: &str) -> String {
    let registry = registry.trim().trim_end_matches('/');
    if registry.is_empty() || image.starts_with(&format!("{registry}/")) {
        image.to_owned()
    } else {
        format!("{registry}/{image}")
    }
}

/// The labels of every object of a pod: the container's labels (values in label syntax),
/// `app=sforge` and `sforge-pod=<pod>`.
#[must_use]
pub fn pod_labels(spec_labels: &BTreeMap<String, String>, pod: &str) -> BTreeMap<String, String> {
    let mut labels: BTreeMap<String, String> = spec_labels
        .iter()
        .map(|(k, v)| (k.clone(), label_value(v)))
        .collect();
    labels.insert("app".to_owned(), "sforge".to_owned());
    labels.insert("sforge-pod".to_owned(), pod.to_owned());
    labels
}

fn meta(name: String, config: &K8sConfig, labels: BTreeMap<String, String>) -> ObjectMeta {
    ObjectMeta {
        name,
        namespace: config.namespace.clone(),
        labels,
        annotations: BTreeMap::new(),
    }
}

/// The Pod (and Secret, if needed) for `spec`.
pub fn objects(spec: &ContainerSpec, config: &K8sConfig) -> Result<PodObjects, MemoryError> {
    let pod = pod_name(&spec.name);
    let labels = pod_labels(&spec.labels, &pod);
    let secret_name = secret_name(&pod);
    let (env, secret_data) = split_env(&spec.env, &secret_name);
    let secret = (!secret_data.is_empty()).then(|| Secret {
        api_version: "v1",
        kind: "Secret",
        metadata: meta(secret_name.clone(), config, labels.clone()),
        kind_of_secret: "Opaque",
        string_data: secret_data,
    });
    let policy = walls_policy(&pod, &labels, spec.network, config);
    let mut metadata = meta(pod.clone(), config, labels);
    metadata
        .annotations
        .insert(NAME_ANNOTATION.to_owned(), spec.name.clone());
    let container = Container {
        name: "work",
        image: image_ref(&config.image_registry, &spec.image),
        image_pull_policy: "Always",
        command: keep_alive_argv(spec.lifetime),
        env,
        working_dir: spec.workdir.clone(),
        resources: resources(spec)?,
        security_context: security_context(spec),
    };
    let pod = Pod {
        api_version: "v1",
        kind: "Pod",
        metadata,
        spec: PodSpec {
            restart_policy: "Never",
            automount_service_account_token: false,
            enable_service_links: false,
            termination_grace_period_seconds: GRACE_SECONDS,
            node_selector: config.node_selector.clone(),
            host_aliases: host_aliases(&spec.add_hosts),
            // `net.ipv4.ping_group_range` (what isolation sets) is one of Kubernetes' safe sysctls.
            security_context: (!spec.sysctls.is_empty()).then(|| PodSecurityContext {
                sysctls: spec
                    .sysctls
                    .iter()
                    .map(|(name, value)| Sysctl {
                        name: name.clone(),
                        value: value.clone(),
                    })
                    .collect(),
            }),
            containers: vec![container],
        },
    };
    Ok(PodObjects {
        pod,
        secret,
        policy,
    })
}

/// Plain values stay literal; secret ones become `secretKeyRef`s into `secret` (the last value
/// of a repeated name wins, as in Docker).
fn split_env(env: &[(String, String)], secret: &str) -> (Vec<EnvVar>, BTreeMap<String, String>) {
    let mut last: Vec<(&str, &str)> = Vec::new();
    for (k, v) in env {
        last.retain(|(name, _)| name != k);
        last.push((k, v));
    }
    let mut vars = Vec::new();
    let mut data = BTreeMap::new();
    for (name, value) in last {
        if is_secret_env(name, value) {
            let key = secret_key(name);
            data.insert(key.clone(), value.to_owned());
            let key_ref = KeyRef {
                name: secret.to_owned(),
                key,
            };
            vars.push(EnvVar {
                name: name.to_owned(),
                value: None,
                value_from: Some(EnvVarSource {
                    secret_key_ref: key_ref,
                }),
            });
        } else {
            vars.push(EnvVar {
                name: name.to_owned(),
                value: Some(value.to_owned()),
                value_from: None,
            });
        }
    }
    (vars, data)
}

/// Secret keys allow `[-._a-zA-Z0-9]`; other names get a hashed key.
fn secret_key(name: &str) -> String {
    let valid = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if valid {
        name.to_owned()
    } else {
        format!("env-{}", short_hash(name))
    }
}

/// Requests equal limits (a guaranteed pod when both are set). The pids limit has no pod-level
/// equivalent and is left to the cluster (the kubelet's `podPidsLimit`).
fn resources(spec: &ContainerSpec) -> Result<Option<Resources>, MemoryError> {
    let mut limits = BTreeMap::new();
    if let Some(cpu) = spec.cpu_limit {
        limits.insert("cpu".to_owned(), cpu.to_string());
    }
    if let Some(mem) = &spec.mem_limit {
        limits.insert("memory".to_owned(), k8s_memory(mem)?);
    }
    Ok((!limits.is_empty()).then(|| Resources {
        requests: limits.clone(),
        limits,
    }))
}

/// Capabilities, no privilege escalation, and `runAsUser` for a numeric user or `root` (named
/// users are switched to per exec, since a pod can only name a uid).
fn security_context(spec: &ContainerSpec) -> Option<SecurityContext> {
    let run_as_user = spec.user.as_deref().and_then(|u| match u {
        "root" => Some(0),
        other => other.parse().ok(),
    });
    let capabilities =
        (!spec.cap_drop.is_empty() || !spec.cap_add.is_empty()).then(|| Capabilities {
            add: spec.cap_add.clone(),
            drop: spec.cap_drop.clone(),
        });
    let allow_privilege_escalation = spec.no_new_privileges.then_some(false);
    (capabilities.is_some() || run_as_user.is_some() || allow_privilege_escalation.is_some())
        .then_some(SecurityContext {
            allow_privilege_escalation,
            capabilities,
            run_as_user,
        })
}

/// The policy of a pod created walled in: no ingress ([`Network::NoIngress`]), or neither
/// ingress nor egress ([`Network::None`]); `None` for the default network.
#[must_use]
pub fn walls_policy(
    pod: &str,
    labels: &BTreeMap<String, String>,
    network: Network,
    config: &K8sConfig,
) -> Option<NetworkPolicy> {
    let policy_types = match network {
        Network::Default => return None,
        Network::NoIngress => vec!["Ingress"],
        Network::None => vec!["Ingress", "Egress"],
    };
    Some(NetworkPolicy {
        api_version: "networking.k8s.io/v1",
        kind: "NetworkPolicy",
        metadata: meta(policy_name(pod), config, labels.clone()),
        spec: NetworkPolicySpec {
            pod_selector: pod_selector(pod),
            policy_types,
            egress: Vec::new(),
        },
    })
}

fn pod_selector(pod: &str) -> LabelSelector {
    LabelSelector {
        match_labels: [("sforge-pod".to_owned(), pod.to_owned())].into(),
    }
}

/// `host:ip` entries grouped by ip. `host-gateway` (Docker's name for the host) has no meaning
/// in a cluster and is skipped: pods must reach the judge at an address given by `--judge-url`.
fn host_aliases(add_hosts: &[String]) -> Vec<HostAlias> {
    let mut by_ip: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for entry in add_hosts {
        let Some((host, ip)) = entry.split_once(':') else {
            continue;
        };
        if ip == "host-gateway" || host.is_empty() || ip.is_empty() {
            continue;
        }
        let hosts = by_ip.entry(ip).or_default();
        if !hosts.iter().any(|h| h == host) {
            hosts.push(host.to_owned());
        }
    }
    by_ip
        .into_iter()
        .map(|(ip, hostnames)| HostAlias {
            ip: ip.to_owned(),
            hostnames,
        })
        .collect()
}

/// The isolation policy of a Work pod: egress TCP to each endpoint and DNS only to the cluster
/// DNS service; no ingress (replies to the pod's own connections pass).
#[must_use]
pub fn isolation_policy(
    pod: &str,
    labels: &BTreeMap<String, String>,
    endpoints: &[(Ipv4Addr, u16)],
    config: &K8sConfig,
) -> NetworkPolicy {
    let dns = &config.dns;
    let mut egress: Vec<EgressRule> = Vec::new();
    for (ip, port) in endpoints {
        let rule = EgressRule {
            to: vec![Peer {
                ip_block: Some(IpBlock {
                    cidr: format!("{ip}/32"),
                }),
                namespace_selector: None,
                pod_selector: None,
            }],
            ports: vec![PolicyPort {
                protocol: "TCP",
                port: *port,
            }],
        };
        if !egress.contains(&rule) {
            egress.push(rule);
        }
    }
    egress.push(EgressRule {
        to: vec![Peer {
            ip_block: None,
            namespace_selector: Some(LabelSelector {
                match_labels: dns.namespace_labels(),
            }),
            pod_selector: Some(LabelSelector {
                match_labels: dns.pod_labels.clone(),
            }),
        }],
        ports: ["UDP", "TCP"]
            .map(|protocol| PolicyPort { protocol, port: 53 })
            .to_vec(),
    });
    NetworkPolicy {
        api_version: "networking.k8s.io/v1",
        kind: "NetworkPolicy",
        metadata: meta(policy_name(pod), config, labels.clone()),
        spec: NetworkPolicySpec {
            pod_selector: pod_selector(pod),
            policy_types: vec!["Ingress", "Egress"],
            egress,
        },
    }
}
