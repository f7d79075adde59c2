//! The Kubernetes objects sforge creates, as typed serde structs (`BTreeMap`s keep the output
//! deterministic): the Pod of a container, the Secret holding its secret environment, and the
//! `NetworkPolicy` that isolates it.

use std::collections::BTreeMap;

use serde::Serialize;

type Map = BTreeMap<String, String>;

/// `metadata` of every object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ObjectMeta {
    pub name: String,
    pub namespace: String,
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub labels: Map,
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub annotations: Map,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Pod {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub metadata: ObjectMeta,
    pub spec: PodSpec,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodSpec {
    pub restart_policy: &'static str,
    pub automount_service_account_token: bool,
    pub enable_service_links: bool,
    pub termination_grace_period_seconds: u32,
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub node_selector: Map,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub host_aliases: Vec<HostAlias>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub security_context: Option<PodSecurityContext>,
    pub containers: Vec<Container>,
}

/// Pod-level security settings: namespaced kernel parameters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PodSecurityContext {
    pub sysctls: Vec<Sysctl>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Sysctl {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HostAlias {
    pub ip: String,
    pub hostnames: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Container {
    pub name: &'static str,
    pub image: String,
    pub image_pull_policy: &'static str,
    pub command: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<EnvVar>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub working_dir: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resources: Option<Resources>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub security_context: Option<SecurityContext>,
}

/// A literal `value`, or `valueFrom.secretKeyRef` for secret values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EnvVar {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_from: Option<EnvVarSource>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EnvVarSource {
    pub secret_key_ref: KeyRef,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyRef {
    pub name: String,
    pub key: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Resources {
    pub requests: Map,
    pub limits: Map,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SecurityContext {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_privilege_escalation: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capabilities: Option<Capabilities>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run_as_user: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Capabilities {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub add: Vec<String>,
    pub drop: Vec<String>,
}

/// An Opaque Secret; `string_data` holds the values in clear, so only [`Secret::redacted`]
/// copies may be shown or written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Secret {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub metadata: ObjectMeta,
    #[serde(rename = "type")]
    pub kind_of_secret: &'static str,
    pub string_data: Map,
}

impl Secret {
    /// The same Secret with every value replaced by `***`.
    #[must_use]
    pub fn redacted(&self) -> Secret {
        let mut copy = self.clone();
        for value in copy.string_data.values_mut() {
            crate::redact::MASK.clone_into(value);
        }
        copy
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NetworkPolicy {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub metadata: ObjectMeta,
    pub spec: NetworkPolicySpec,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NetworkPolicySpec {
    pub pod_selector: LabelSelector,
    pub policy_types: Vec<&'static str>,
    /// Omitted with `Egress` in `policy_types`: no egress at all. (No `ingress` field is ever
    /// written: with `Ingress` in `policy_types`, nothing may connect to the pod; replies to its
    /// own connections still pass.)
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub egress: Vec<EgressRule>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LabelSelector {
    pub match_labels: Map,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EgressRule {
    pub to: Vec<Peer>,
    pub ports: Vec<PolicyPort>,
}

/// One of `ipBlock`, or `namespaceSelector` + `podSelector`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Peer {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip_block: Option<IpBlock>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace_selector: Option<LabelSelector>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pod_selector: Option<LabelSelector>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IpBlock {
    pub cidr: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyPort {
    pub protocol: &'static str,
    pub port: u16,
}

/// Any of the objects above as YAML.
///
/// # Panics
/// Never: these structs always serialise.
#[must_use]
pub fn yaml_of(object: &impl Serialize) -> String {
    let value = serde_json::to_value(object).expect("k8s objects serialise to JSON");
    crate::yaml::to_yaml(&value)
}
