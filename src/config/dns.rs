//! `SFORGE_K8S_DNS_SELECTOR`: where cluster DNS runs, a setting the Kubernetes backend's
//! `NetworkPolicy` allows egress to.

use std::collections::BTreeMap;

/// Why a DNS selector is malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelectorError {
    #[error("{0:?} is not KEY=VALUE")]
    NotKeyValue(String),
    #[error("no ns=<namespace> entry")]
    NoNamespace,
}

/// Where cluster DNS runs: egress on port 53 is allowed only to these pods.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsSelector {
    /// Matched through the `kubernetes.io/metadata.name` label every namespace carries.
    pub namespace: String,
    /// Labels of the DNS pods (empty: every pod of the namespace).
    pub pod_labels: BTreeMap<String, String>,
}

/// The default of `SFORGE_K8S_DNS_SELECTOR`: kube-dns/CoreDNS as most clusters deploy it.
pub const DEFAULT_DNS_SELECTOR: &str = "ns=kube-system,k8s-app=kube-dns";

impl DnsSelector {
    /// Parses `ns=<namespace>,<label>=<value>,…` (`namespace=` is accepted for `ns=`).
    pub fn parse(text: &str) -> Result<Self, SelectorError> {
        let mut namespace = None;
        let mut pod_labels = BTreeMap::new();
        for item in text.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let (k, v) = item
                .split_once('=')
                .map(|(k, v)| (k.trim(), v.trim()))
                .filter(|(k, v)| !k.is_empty() && !v.is_empty())
                .ok_or_else(|| SelectorError::NotKeyValue(item.to_owned()))?;
            if k == "ns" || k == "namespace" {
                namespace = Some(v.to_owned());
            } else {
                pod_labels.insert(k.to_owned(), v.to_owned());
            }
        }
        let namespace = namespace.ok_or(SelectorError::NoNamespace)?;
        Ok(DnsSelector {
            namespace,
            pod_labels,
        })
    }

    /// The namespace selector's labels.
    #[must_use]
    pub fn namespace_labels(&self) -> BTreeMap<String, String> {
        [(
            "kubernetes.io/metadata.name".to_owned(),
            self.namespace.clone(),
        )]
        .into()
    }
}
