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
            &[resource(
                "networkpolicies",
                "NetworkPolicy",
                true,
                &["netpol"],
                ALL_VERBS,
            )],
        ),
        "/apis/authorization.k8s.io/v1" => resource_list(
            "authorization.k8s.io/v1",
            &[resource(
                "selfsubjectaccessreviews",
                "SelfSubjectAccessReview",
                false,
                &[],
                &["create"],
            )],
        ),
        "/openapi/v3" => json!({"paths": {
            "api/v1": {"serverRelativeURL": "/openapi/v3/api/v1?hash=sforge-double-1"},
            "apis/networking.k8s.io/v1": {"serverRelativeURL": "/openapi/v3/apis/networking.k8s.io/v1?hash=sforge-double-1"},
        }}),
        "/openapi/v3/api/v1" => openapi_group(&[
            ("/api/v1/namespaces/{namespace}/pods/{name}", "", "Pod"),
            (
                "/api/v1/namespaces/{namespace}/secrets/{name}",
                "",
                "Secret",
            ),
            ("/api/v1/namespaces/{namespace}/events/{name}", "", "Event"),
        ]),
        "/openapi/v3/apis/networking.k8s.io/v1" => openapi_group(&[(
            "/apis/networking.k8s.io/v1/namespaces/{namespace}/networkpolicies/{name}",
            "networking.k8s.io",
            "NetworkPolicy",
        )]),
        _ => return None,
    };
    Some(doc)
}

/// A minimal `OpenAPI` v3 document of one group version: for each kind, the PATCH operation of its
/// object path, declaring the `fieldValidation` query parameter. That tells kubectl that the
/// server validates fields itself, so `kubectl apply` (default `--validate=true`, i.e. Strict)
/// skips client-side schema validation and sends `fieldValidation=Strict` instead. The double
/// does not validate: it stores what it gets.
fn openapi_group(paths: &[(&str, &str, &str)]) -> Value {
    let mut items = serde_json::Map::new();
    for (path, group, kind) in paths {
        let operation = json!({
            "x-kubernetes-group-version-kind": {"group": group, "version": "v1", "kind": kind},
            "parameters": [{"name": "fieldValidation", "in": "query", "schema": {"type": "string"}}],
            "responses": {"200": {"description": "OK"}}
        });
        items.insert((*path).to_owned(), json!({"patch": operation}));
    }
    json!({"openapi": "3.0.0", "info": {"title": "sforge k8s double", "version": "v1.33.0"}, "paths": items})
}

const ALL_VERBS: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

fn core_resources() -> Vec<Value> {
    vec![
        resource("pods", "Pod", true, &["po"], ALL_VERBS),
        resource("pods/exec", "PodExecOptions", true, &[], &["create", "get"]),
        resource("pods/log", "Pod", true, &[], &["get"]),
        resource("pods/status", "Pod", true, &[], &["get", "patch", "update"]),
        resource("secrets", "Secret", true, &[], ALL_VERBS),
        resource("events", "Event", true, &["ev"], ALL_VERBS),
        resource(
            "services",
            "Service",
            true,
            &["svc"],
            &["get", "list", "watch"],
        ),
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
