//! The Kubernetes sandbox: one pod per container, driven only through the real `kubectl`
//! (see `kubectl.rs` for the exact operations). Secret environment values reach pods through a
//! per-pod Secret or an exec's stdin, never an argv; pods that cannot start fail fast.

mod build;
mod config;
mod exec;
mod kubectl;
mod manifest;
mod names;
mod replay;
mod sandbox;
mod status;
mod units;

pub use build::{image_ref, isolation_policy, objects, pod_labels, walls_policy, PodObjects};
pub use config::{DnsSelector, K8sConfig, DEFAULT_DNS_SELECTOR};
pub use kubectl::{Kubectl, CONTAINER};
pub use manifest::{yaml_of, NetworkPolicy, Pod, Secret};
pub use names::{dns_label, label_value, pod_name, policy_name, secret_name, short_hash};
pub use sandbox::{ImageCheck, K8sSandbox};
pub use status::{assess, PodState};
pub use units::{k8s_memory, MemoryError};

#[cfg(test)]
mod tests;
