//! The cluster settings the k8s backend needs, taken once from the resolved [`Settings`].

use std::collections::BTreeMap;
use std::time::Duration;

use crate::config::Settings;

pub use crate::config::{DnsSelector, DEFAULT_DNS_SELECTOR};

/// Everything the backend reads from the settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct K8sConfig {
    /// The kubectl client (`SFORGE_KUBECTL`, default `kubectl`).
    pub kubectl: String,
    pub namespace: String,
    pub kubeconfig: Option<String>,
    /// Prefix of pod images (`SFORGE_K8S_IMAGE_REGISTRY`); empty means local names.
    pub image_registry: String,
    pub node_selector: BTreeMap<String, String>,
    pub dns: DnsSelector,
    /// How long a pod may take to become Running.
    pub start_timeout: Duration,
    /// Pause between two looks at a starting pod.
    pub poll_interval: Duration,
}

impl K8sConfig {
    /// The backend's settings. The environment layer refuses a malformed DNS selector, so the
    /// default here is only a safety net.
    #[must_use]
    pub fn from_settings(settings: &Settings) -> Self {
        let dns = DnsSelector::parse(&settings.k8s_dns_selector.value).unwrap_or_else(|e| {
            log::warn!(
                "invalid k8s_dns_selector {:?} ({e}): using {DEFAULT_DNS_SELECTOR}",
                settings.k8s_dns_selector.value
            );
            DnsSelector::parse(DEFAULT_DNS_SELECTOR).expect("the default parses")
        });
        K8sConfig {
            kubectl: settings.kubectl.value.clone(),
            namespace: settings.k8s_namespace.value.clone(),
            kubeconfig: settings.k8s_kubeconfig.value.clone(),
            image_registry: settings.k8s_image_registry.value.clone(),
            node_selector: settings.k8s_node_selector.value.clone(),
            dns,
            start_timeout: Duration::from_secs(settings.k8s_start_timeout.value),
            poll_interval: Duration::from_secs(2),
        }
    }

    /// A configuration for tests and examples: namespace `default`, no registry.
    #[must_use]
    pub fn example() -> Self {
        K8sConfig {
            kubectl: "kubectl".to_owned(),
            namespace: "default".to_owned(),
            kubeconfig: None,
            image_registry: String::new(),
            node_selector: BTreeMap::new(),
            dns: DnsSelector::parse(DEFAULT_DNS_SELECTOR).expect("the default parses"),
            start_timeout: Duration::from_secs(300),
            poll_interval: Duration::from_secs(2),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_selector_parses_namespace_and_pod_labels() {
        let dns = DnsSelector::parse(DEFAULT_DNS_SELECTOR).unwrap();
        assert_eq!(dns.namespace, "kube-system");
        assert_eq!(dns.pod_labels["k8s-app"], "kube-dns");
        let dns = DnsSelector::parse("namespace=dns, app=coredns").unwrap();
        assert_eq!(dns.namespace, "dns");
        assert_eq!(dns.namespace_labels()["kubernetes.io/metadata.name"], "dns");
        assert_eq!(
            DnsSelector::parse("k8s-app=kube-dns"),
            Err(crate::config::SelectorError::NoNamespace)
        );
        assert!(DnsSelector::parse("ns")
            .unwrap_err()
            .to_string()
            .contains("KEY=VALUE"));
    }

    #[test]
    fn settings_feed_the_config() {
        let settings = Settings::merge(&[]);
        let config = K8sConfig::from_settings(&settings);
        assert_eq!(config, K8sConfig::example());
    }
}
