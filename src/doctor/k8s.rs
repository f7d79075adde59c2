//! The Kubernetes backend's checks: kubectl, the cluster, the namespace, the rights sforge
//! needs, and the task images in the registry pods pull from.

use std::sync::Arc;
use std::time::Duration;

use super::check::{first_line, Check};
use crate::config::Settings;
use crate::process::Runner;
use crate::sandbox::k8s::{K8sConfig, Kubectl};
use crate::task::Task;

/// What sforge creates, with why it needs it.
const RIGHTS: [(&str, &str); 4] = [
    ("pods", "Work and judge pods"),
    ("secrets", "the agent's key and environment"),
    ("networkpolicies", "--disable-internet"),
    ("pods/exec", "every command in a pod"),
];

pub(super) fn checks(settings: &Settings, runner: &Arc<dyn Runner>, tasks: &[Task]) -> Vec<Check> {
    let config = K8sConfig::from_settings(settings);
    let namespace = config.namespace.clone();
    let kubectl = Kubectl::new(config);
    let mut out = Vec::new();
    let client = kubectl
        .base()
        .args(["version", "--client", "-o", "json"])
        .read_only()
        .timeout(Duration::from_secs(20));
    match runner.run(&client) {
        Ok(_) => out.push(Check::pass("kubectl", settings.kubectl.value.clone())),
        Err(e) => {
            out.push(Check::fail(
                "kubectl",
                first_line(&e.to_string()),
                "install kubectl or point SFORGE_KUBECTL at it",
            ));
            return out;
        }
    }
    if let Err(e) = runner.run(&kubectl.cluster_info()) {
        out.push(Check::fail(
            "cluster",
            first_line(&e.to_string()),
            format!(
                "check `kubectl -n {namespace} cluster-info`; set SFORGE_K8S_KUBECONFIG and \
                 SFORGE_K8S_NAMESPACE if needed"
            ),
        ));
        return out;
    }
    out.push(Check::pass("cluster", "cluster-info answers"));
    out.push(namespace_exists(runner.as_ref(), &kubectl, &namespace));
    out.extend(
        RIGHTS
            .iter()
            .map(|(what, why)| can_i(runner.as_ref(), &kubectl, what, why)),
    );
    out.push(registry(settings, tasks));
    out
}

fn namespace_exists(runner: &dyn Runner, kubectl: &Kubectl, namespace: &str) -> Check {
    let get = kubectl
        .base()
        .args(["get", "namespace", namespace, "-o", "name"])
        .read_only()
        .timeout(Duration::from_secs(20));
    match runner.run(&get) {
        Ok(_) => Check::pass("namespace", namespace),
        Err(e) => Check::fail(
            "namespace",
            format!("{namespace}: {}", first_line(&e.to_string())),
            format!("kubectl create namespace {namespace}, or set SFORGE_K8S_NAMESPACE"),
        ),
    }
}

fn can_i(runner: &dyn Runner, kubectl: &Kubectl, what: &str, why: &str) -> Check {
    let name = format!("may create {what}");
    let cmd = kubectl
        .base()
        .args(["auth", "can-i", "create", what])
        .read_only()
        .timeout(Duration::from_secs(20));
    // `can-i` exits 1 when the answer is no.
    match runner.run_unchecked(&cmd) {
        Ok(out) if out.stdout_str().trim() == "yes" => Check::pass(&name, format!("for {why}")),
        Ok(out) => Check::fail(
            &name,
            format!(
                "the cluster says {:?} (needed for {why})",
                out.stdout_str().trim()
            ),
            format!(
                "grant your identity `create` on {what} in the namespace (a Role and RoleBinding)"
            ),
        ),
        Err(e) => Check::fail(&name, first_line(&e.to_string()), "check the cluster"),
    }
}

/// Each task image where pods pull it from.
fn registry(settings: &Settings, tasks: &[Task]) -> Check {
    let registry = settings.k8s_image_registry.value.clone();
    if registry.is_empty() {
        return Check::warn(
            "image registry",
            "SFORGE_K8S_IMAGE_REGISTRY is not set: pods use local image names",
            "set SFORGE_K8S_IMAGE_REGISTRY to a registry the cluster pulls from, and sforge push --all there",
        );
    }
    if tasks.is_empty() {
        return Check::skip("image registry", "no tasks directory");
    }
    let opts = crate::image::CheckOptions::with_insecure_list(&settings.insecure_registries.value);
    let check = crate::image::pod_image_check(opts, registry.clone());
    let mut missing = Vec::new();
    for image in tasks
        .iter()
        .flat_map(|t| [t.images.work.to_string(), t.images.judge.to_string()])
    {
        if let Err(e) = check(&image) {
            missing.push(first_line(&e.to_string()));
        }
    }
    match missing.first() {
        None => Check::pass(
            "image registry",
            format!("every task image is in {registry}"),
        ),
        Some(first) => Check::fail(
            "image registry",
            format!("{} of the task images unavailable: {first}", missing.len()),
            format!("sforge push --all --registry {registry}"),
        ),
    }
}
