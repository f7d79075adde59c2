//! TEST DOUBLE: the discovery documents of the Kubernetes API double (`/version`, `/api`,
//! `/apis`, `/api/v1`, `/apis/networking.k8s.io/v1`, `/apis/authorization.k8s.io/v1`). Only the
//! legacy (unaggregated) format is served: kubectl asks for aggregated discovery first and falls
//! back to this when the answer's content type is plain `application/json`.

use serde_json::{json, Value};

/// The document served at `path`, if it is a discovery path.
#[must_use]
pub fn document(path: &str, address: &str) -> Option<Value> {
    let doc = match path.trim_end_matches('/') {
        "/version" => json!({
            "major": "1", "minor": "33", "gitVersion": "v1.33.0-sforge-double",
            "gitCommit": "0000000000000000000000000000000000000000", "gitTreeState": "clean",
            "buildDate": "2025-01-01T00:00:00Z", "goVersion": "go1.24.0", "compiler": "gc",
            "platform": "linux/amd64"
        }),
        "/api" => json!({
            "kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": address}]
        }),
        "/apis" => json!({
            "kind": "APIGroupList", "apiVersion": "v1",
            "groups": [group("networking.k8s.io"), group("authorization.k8s.io")]
        }),
        "/api/v1" => resource_list("v1", &core_resources()),
        "/apis/networking.k8s.io/v1" => resource_list(
            "networking.k8s.io/v1",
            &[resource("networkpolicies", "NetworkPolicy", true, &["netpol"], ALL_VERBS)],
        ),
        "/apis/authorization.k8s.io/v1" => resource_list(
            "authorization.k8s.io/v1",
            &[resource("selfsubjectaccessreviews", "SelfSubjectAccessReview", false, &[], &["create"])],
        ),
        _ => return None,
    };
    Some(doc)
}

const ALL_VERBS: &[&str] = &["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];

fn core_resources() -> Vec<Value> {
    vec![
        resource("pods", "Pod", true, &["po"], ALL_VERBS),
        resource("pods/exec", "PodExecOptions", true, &[], &["create", "get"]),
        resource("pods/log", "Pod", true, &[], &["get"]),
        resource("pods/status", "Pod", true, &[], &["get", "patch", "update"]),
        resource("secrets", "Secret", true, &[], ALL_VERBS),
        resource("events", "Event", true, &["ev"], ALL_VERBS),
        resource("services", "Service", true, &["svc"], &["get", "list", "watch"]),
        resource("namespaces", "Namespace", false, &["ns"], &["get", "list"]),
    ]
}

fn group(name: &str) -> Value {
    let version = json!({"groupVersion": format!("{name}/v1"), "version": "v1"});
    json!({"name": name, "versions": [version.clone()], "preferredVersion": version})
}

fn resource_list(group_version: &str, resources: &[Value]) -> Value {
    json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": resources})
}

fn resource(name: &str, kind: &str, namespaced: bool, short: &[&str], verbs: &[&str]) -> Value {
    let singular = if name.contains('/') { "" } else { kind };
    let mut value = json!({
        "name": name, "singularName": singular.to_lowercase(), "namespaced": namespaced,
        "kind": kind, "verbs": verbs
    });
    if !short.is_empty() {
        value["shortNames"] = json!(short);
    }
    value
}
