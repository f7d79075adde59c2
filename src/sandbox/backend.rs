//! The sandbox of a backend, made from the resolved settings (a Kubernetes sandbox with a
//! registry also checks each pod's image there first).

use std::sync::Arc;

use super::docker::DockerSandbox;
use super::k8s::{self, K8sSandbox};
use super::Sandbox;
use crate::config::{Backend, Settings};
use crate::process::Runner;

/// The sandbox of the configured backend (`settings.backend`), running its commands with
/// `runner` (a dry-run runner makes it print its plan).
#[must_use]
pub fn sandbox_for(settings: &Settings, runner: Arc<dyn Runner>) -> Arc<dyn Sandbox> {
    match settings.backend.value {
        Backend::Docker => Arc::new(DockerSandbox::new(runner, settings.docker.value.clone())),
        Backend::K8s => k8s_sandbox(settings, runner),
    }
}

/// The Kubernetes sandbox of `settings` (its namespace, kubeconfig, registry…).
/// With an image registry configured, every image is looked up there before its pod is created.
#[must_use]
pub fn k8s_sandbox(settings: &Settings, runner: Arc<dyn Runner>) -> Arc<K8sSandbox> {
    let config = k8s::K8sConfig::from_settings(settings);
    let registry = config.image_registry.clone();
    let sandbox = K8sSandbox::new(runner, config);
    if registry.is_empty() {
        // Local image names (a kind/minikube node's own images): no registry to ask.
        return Arc::new(sandbox);
    }
    let opts = crate::image::CheckOptions::with_insecure_list(&settings.insecure_registries.value);
    let check = crate::image::pod_image_check(opts, registry);
    Arc::new(sandbox.with_image_check(Arc::new(move |image: &str| {
        check(image).map_err(Into::into)
    })))
}
