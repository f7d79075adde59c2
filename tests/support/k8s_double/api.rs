//! TEST DOUBLE: routing of the Kubernetes API double: discovery, the REST verbs on pods, secrets,
//! network policies and events (get, list, watch, create, merge-patch, delete), pod logs and exec,
//! and the few extras kubectl asks for (services, namespaces, access reviews).

use std::sync::Arc;

use base64::Engine as _;
use serde_json::{json, Value};

use super::http::{Request, Response};
use super::selector::Selector;
use super::store::{Kind, StoreError};
use super::{discovery, pods, Shared};

pub use super::watch::{serve_watch, Watch};

/// What the server does with a request.
pub enum Outcome {
    Respond(Response),
    Watch(Watch),
    Exec(super::exec::Session),
}

/// A Kubernetes `Status` failure response.
#[must_use]
pub fn status(code: u16, reason: &str, message: &str) -> Response {
    Response::json(
        code,
        &json!({
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code
        }),
    )
}

fn not_found(kind: Kind, name: &str) -> Response {
    let mut response = status(
        404,
        "NotFound",
        &format!("{} \"{name}\" not found", kind.plural()),
    );
    let mut body: Value = serde_json::from_slice(&response.body).expect("own JSON");
    body["details"] = json!({"name": name, "kind": kind.plural()});
    response.body = serde_json::to_vec(&body).expect("JSON");
    response
}

/// Answers one request.
pub fn handle(shared: &Arc<Shared>, request: &Request) -> Outcome {
    if let Some(doc) = discovery::document(&request.path, &shared.address) {
        return Outcome::Respond(Response::json(200, &doc));
    }
    let segments: Vec<&str> = request.path.trim_matches('/').split('/').collect();
    let (group, rest) = match segments.as_slice() {
        ["api", "v1", rest @ ..] => ("", rest),
        ["apis", group, "v1", rest @ ..] => (*group, rest),
        _ => {
            return Outcome::Respond(status(
                404,
                "NotFound",
                &format!(
                    "the server could not find the requested resource ({})",
                    request.path
                ),
            ))
        }
    };
    match rest {
        ["selfsubjectaccessreviews"] if request.method == "POST" => Outcome::Respond(access_review(request)),
        ["namespaces", ns] => Outcome::Respond(namespace(shared, ns)),
        ["namespaces", ns, "services"] => Outcome::Respond(namespace_checked(shared, ns).unwrap_or_else(|| {
            Response::json(200, &json!({"kind": "ServiceList", "apiVersion": "v1", "metadata": {}, "items": []}))
        })),
        ["namespaces", ns, plural, tail @ ..] => match Kind::from_plural(group, plural) {
            Some(kind) => namespace_checked(shared, ns)
                .map_or_else(|| resource(shared, request, kind, Some(ns), tail), Outcome::Respond),
            None => Outcome::Respond(status(404, "NotFound", &format!("the server could not find the requested resource ({plural})"))),
        },
        [plural] => match Kind::from_plural(group, plural) {
            Some(kind) => resource(shared, request, kind, None, &[]),
            None => Outcome::Respond(status(404, "NotFound", &format!("the server could not find the requested resource ({plural})"))),
        },
        _ => Outcome::Respond(status(404, "NotFound", &format!("the server could not find the requested resource ({})", request.path))),
    }
}

fn namespace_exists(shared: &Shared, ns: &str) -> bool {
    shared.opts.namespaces.is_empty() || shared.opts.namespaces.iter().any(|have| have == ns)
}

/// A 404 when namespace `ns` does not exist.
fn namespace_checked(shared: &Shared, ns: &str) -> Option<Response> {
    (!namespace_exists(shared, ns))
        .then(|| status(404, "NotFound", &format!("namespaces \"{ns}\" not found")))
}

fn namespace(shared: &Shared, ns: &str) -> Response {
    namespace_checked(shared, ns).unwrap_or_else(|| {
        Response::json(200, &json!({
            "kind": "Namespace", "apiVersion": "v1",
            "metadata": {"name": ns}, "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}
        }))
    })
}

fn access_review(request: &Request) -> Response {
    let mut review: Value = serde_json::from_slice(&request.body).unwrap_or_else(|_| json!({}));
    review["status"] =
        json!({"allowed": true, "reason": "the sforge k8s double allows everything"});
    Response::json(201, &review)
}

fn resource(
    shared: &Arc<Shared>,
    request: &Request,
    kind: Kind,
    ns: Option<&str>,
    tail: &[&str],
) -> Outcome {
    let respond = Outcome::Respond;
    match (request.method.as_str(), ns, tail) {
        ("GET", _, []) if request.flag("watch") => match Watch::from_request(request, kind, ns) {
            Ok(watch) => Outcome::Watch(watch),
            Err(message) => respond(status(400, "BadRequest", &message)),
        },
        ("GET", _, []) => respond(list(shared, request, kind, ns)),
        ("POST", Some(ns), []) => respond(create(shared, request, kind, ns)),
        ("GET", Some(ns), [name]) => respond(shared.store.get(kind, ns, name).map_or_else(
            || not_found(kind, name),
            |object| Response::json(200, &object),
        )),
        ("DELETE", Some(ns), [name]) => respond(delete(shared, request, kind, ns, name)),
        ("PATCH", Some(ns), [name]) => respond(patch(shared, request, kind, ns, name)),
        ("GET", Some(ns), [name, "log"]) if kind == Kind::Pod => {
            respond(pods::logs(shared, ns, name))
        }
        ("GET" | "POST", Some(ns), [name, "exec"]) if kind == Kind::Pod => {
            super::exec::accept(shared, request, ns, name)
        }
        _ => respond(status(
            405,
            "MethodNotAllowed",
            &format!(
                "{} {} is not supported by the sforge k8s double",
                request.method, request.path
            ),
        )),
    }
}

fn list(shared: &Shared, request: &Request, kind: Kind, ns: Option<&str>) -> Response {
    let selectors =
        Selector::labels(request.param("labelSelector").unwrap_or_default()).and_then(|labels| {
            Ok((
                labels,
                Selector::fields(request.param("fieldSelector").unwrap_or_default())?,
            ))
        });
    let (labels, fields) = match selectors {
        Ok(selectors) => selectors,
        Err(message) => return status(400, "BadRequest", &message),
    };
    let (items, rv) = shared.store.list(kind, ns, |object| {
        labels.matches_labels(object) && fields.matches_fields(object)
    });
    Response::json(
        200,
        &json!({
            "kind": format!("{}List", kind.name()), "apiVersion": kind.api_version(),
            "metadata": {"resourceVersion": rv.to_string()}, "items": items
        }),
    )
}

fn create(shared: &Arc<Shared>, request: &Request, kind: Kind, ns: &str) -> Response {
    let mut object: Value = match serde_json::from_slice(&request.body) {
        Ok(object @ Value::Object(_)) => object,
        _ => return status(400, "BadRequest", "the request body is not a JSON object"),
    };
    let name = object["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    if name.is_empty() {
        return status(
            422,
            "Invalid",
            &format!("{} is invalid: metadata.name: Required value", kind.name()),
        );
    }
    if let Some(body_ns) = object["metadata"]["namespace"].as_str() {
        if body_ns != ns {
            return status(
                400,
                "BadRequest",
                "the namespace of the object does not match the namespace of the request",
            );
        }
    }
    match kind {
        Kind::Secret => normalise_secret(&mut object),
        Kind::Pod => pods::prepare(&mut object),
        Kind::NetworkPolicy | Kind::Event => {}
    }
    match shared.store.create(kind, ns, object) {
        Ok(stored) => {
            if kind == Kind::Pod {
                pods::launch(shared, &stored);
            }
            Response::json(201, &stored)
        }
        Err(_) => status(
            409,
            "AlreadyExists",
            &format!("{} \"{name}\" already exists", kind.plural()),
        ),
    }
}

/// Moves `stringData` into base64 `data`, as the API server does on write.
fn normalise_secret(secret: &mut Value) {
    if let Some(Value::Object(plain)) = secret
        .as_object_mut()
        .and_then(|map| map.remove("stringData"))
    {
        let data = secret["data"].as_object().cloned().unwrap_or_default();
        let mut data = data;
        for (key, value) in plain {
            let text = value.as_str().unwrap_or_default();
            data.insert(
                key,
                json!(base64::engine::general_purpose::STANDARD.encode(text)),
            );
        }
        secret["data"] = Value::Object(data);
    }
    if secret["type"].is_null() {
        secret["type"] = json!("Opaque");
    }
}

fn delete(shared: &Arc<Shared>, request: &Request, kind: Kind, ns: &str, name: &str) -> Response {
    if kind != Kind::Pod {
        return shared.store.remove(kind, ns, name).map_or_else(
            |_| not_found(kind, name),
            |object| Response::json(200, &object),
        );
    }
    let options: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
    let grace = request
        .param("gracePeriodSeconds")
        .and_then(|value| value.parse::<u64>().ok())
        .or_else(|| options["gracePeriodSeconds"].as_u64());
    match pods::delete(shared, ns, name, grace) {
        Ok(object) => Response::json(200, &object),
        Err(StoreError::NotFound | StoreError::AlreadyExists) => not_found(kind, name),
    }
}

fn patch(shared: &Shared, request: &Request, kind: Kind, ns: &str, name: &str) -> Response {
    let Ok(patch) = serde_json::from_slice::<Value>(&request.body) else {
        return status(400, "BadRequest", "the patch is not JSON");
    };
    let mut patch = patch;
    if let Some(map) = patch.as_object_mut() {
        map.remove("status");
    }
    let result = shared
        .store
        .update(kind, ns, name, |object| merge(object, &patch));
    result.map_or_else(
        |_| not_found(kind, name),
        |object| Response::json(200, &object),
    )
}

/// RFC 7386 JSON merge patch (keys starting with `$` are strategic-merge directives: skipped).
fn merge(target: &mut Value, patch: &Value) {
    let Value::Object(changes) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = json!({});
    }
    let map = target.as_object_mut().expect("an object");
    for (key, value) in changes {
        if key.starts_with('$') {
            continue;
        }
        if value.is_null() {
            map.remove(key);
        } else {
            merge(map.entry(key.clone()).or_insert(Value::Null), value);
        }
    }
}
