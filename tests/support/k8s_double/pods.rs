//! TEST DOUBLE: the pod lifecycle of the Kubernetes API double, as a kubelet and scheduler would
//! report it: scheduling on the one node (or `FailedScheduling`), image lookup (or `ErrImagePull`
//! then `ImagePullBackOff`), `docker run`, Running/Ready with the container's IP, and
//! Succeeded/Failed with the exit code; events for each step; graceful deletion.

use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::Duration;

use base64::Engine as _;
use serde_json::{json, Value};

use super::api::status;
use super::http::Response;
use super::pod_status::{
    condition, record, record_from, set_running, set_terminated, set_waiting, update, PodRef,
};
use super::store::{Kind, StoreError};
use super::{docker, Shared};

/// How long a pod shows `ErrImagePull` before `ImagePullBackOff`.
const BACKOFF_DELAY: Duration = Duration::from_millis(500);

/// Per pod: the container it runs, if started, and whether deletion has begun.
#[derive(Debug, Default)]
pub struct Runtime {
    container: Option<String>,
    deleted: bool,
}

/// Fills in what the API server defaults on create.
pub fn prepare(pod: &mut Value) {
    pod["status"] = json!({"phase": "Pending", "qosClass": "BestEffort"});
    let spec = &mut pod["spec"];
    for (field, value) in [
        ("restartPolicy", json!("Always")),
        ("terminationGracePeriodSeconds", json!(30)),
        ("schedulerName", json!("default-scheduler")),
        ("dnsPolicy", json!("ClusterFirst")),
    ] {
        if spec[field].is_null() {
            spec[field] = value;
        }
    }
}

/// Starts the lifecycle of the freshly stored `pod` in the background.
pub fn launch(shared: &Arc<Shared>, pod: &Value) {
    let meta = &pod["metadata"];
    let pod_ref = PodRef {
        ns: meta["namespace"].as_str().unwrap_or_default().to_owned(),
        name: meta["name"].as_str().unwrap_or_default().to_owned(),
        uid: meta["uid"].as_str().unwrap_or_default().to_owned(),
    };
    let runtime = Arc::new(Mutex::new(Runtime::default()));
    lock(&shared.runtimes).insert(pod_ref.uid.clone(), Arc::clone(&runtime));
    let shared = Arc::clone(shared);
    let pod = pod.clone();
    thread::spawn(move || run_pod(&shared, &pod_ref, &pod, &runtime));
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn run_pod(shared: &Shared, pod_ref: &PodRef, pod: &Value, runtime: &Mutex<Runtime>) {
    if !schedule(shared, pod_ref, pod) {
        return;
    }
    let env = match resolve_env(shared, &pod_ref.ns, &pod["spec"]["containers"][0]) {
        Ok(env) => env,
        Err(message) => {
            set_waiting(shared, pod_ref, "CreateContainerConfigError", &message);
            record(
                shared,
                pod_ref,
                "Warning",
                "Failed",
                &format!("Error: {message}"),
            );
            return;
        }
    };
    let image = pod["spec"]["containers"][0]["image"]
        .as_str()
        .unwrap_or_default();
    let Some(local) = pull(shared, pod_ref, image) else {
        return;
    };
    let plan = docker::plan_run(&shared.id, pod, &local, &env);
    let started = {
        let mut state = lock(runtime);
        if state.deleted || shared.stopping() {
            return;
        }
        let started = docker::start(&shared.opts.docker, &plan);
        if started.is_ok() {
            state.container = Some(docker::container_name(
                &shared.id,
                &pod_ref.ns,
                &pod_ref.name,
            ));
        }
        started
    };
    let container_id = match started {
        Ok(id) => id,
        Err(message) => {
            set_terminated(shared, pod_ref, 128, "StartError", &message, "");
            record(
                shared,
                pod_ref,
                "Warning",
                "Failed",
                &format!("Error: {message}"),
            );
            return;
        }
    };
    record(
        shared,
        pod_ref,
        "Normal",
        "Created",
        "Created container work",
    );
    record(
        shared,
        pod_ref,
        "Normal",
        "Started",
        "Started container work",
    );
    set_running(shared, pod_ref, &container_id);
    if let Some(code) = docker::wait(&shared.opts.docker, &container_id) {
        let reason = if code == 0 { "Completed" } else { "Error" };
        set_terminated(shared, pod_ref, code, reason, "", &container_id);
    }
}

/// Binds the pod to the node, or leaves it Unschedulable; true when bound.
fn schedule(shared: &Shared, pod_ref: &PodRef, pod: &Value) -> bool {
    let node = &shared.opts.node_name;
    let mut labels = shared.opts.node_labels.clone();
    labels.insert("kubernetes.io/hostname".into(), node.clone());
    labels.insert("kubernetes.io/os".into(), "linux".into());
    labels.insert("kubernetes.io/arch".into(), "amd64".into());
    let fits = pod["spec"]["nodeSelector"]
        .as_object()
        .is_none_or(|wanted| {
            wanted
                .iter()
                .all(|(key, value)| labels.get(key).map(String::as_str) == value.as_str())
        });
    if !fits {
        let message = "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector. \
                       preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.";
        update(shared, pod_ref, |pod| {
            pod["status"]["conditions"] = json!([condition(
                "PodScheduled",
                false,
                Some(("Unschedulable", message))
            )]);
        });
        record_from(
            shared,
            pod_ref,
            "default-scheduler",
            "Warning",
            "FailedScheduling",
            message,
        );
        return false;
    }
    update(shared, pod_ref, |pod| {
        pod["spec"]["nodeName"] = json!(node);
        pod["status"]["conditions"] = json!([condition("PodScheduled", true, None)]);
    });
    let message = format!(
        "Successfully assigned {}/{} to {node}",
        pod_ref.ns, pod_ref.name
    );
    record_from(
        shared,
        pod_ref,
        "default-scheduler",
        "Normal",
        "Scheduled",
        &message,
    );
    true
}

/// The local image for `image`, or the pull failure states and events.
fn pull(shared: &Shared, pod_ref: &PodRef, image: &str) -> Option<String> {
    if let Some(local) = docker::resolve_image(&shared.opts.docker, image) {
        record(
            shared,
            pod_ref,
            "Normal",
            "Pulled",
            &format!("Container image \"{image}\" already present on machine"),
        );
        return Some(local);
    }
    record(
        shared,
        pod_ref,
        "Normal",
        "Pulling",
        &format!("Pulling image \"{image}\""),
    );
    let failure = format!(
        "Failed to pull image \"{image}\": rpc error: code = NotFound desc = failed to pull and unpack image \"{image}\": not found (the sforge k8s double only runs images of the local Docker engine)"
    );
    set_waiting(shared, pod_ref, "ErrImagePull", &failure);
    record(shared, pod_ref, "Warning", "Failed", &failure);
    record(shared, pod_ref, "Warning", "Failed", "Error: ErrImagePull");
    thread::sleep(BACKOFF_DELAY);
    let backoff = format!("Back-off pulling image \"{image}\"");
    set_waiting(shared, pod_ref, "ImagePullBackOff", &backoff);
    record(shared, pod_ref, "Normal", "BackOff", &backoff);
    record(
        shared,
        pod_ref,
        "Warning",
        "Failed",
        "Error: ImagePullBackOff",
    );
    None
}

/// The container's environment: `(name, value, from a Secret)`, `envFrom` first, then `env`.
fn resolve_env(
    shared: &Shared,
    ns: &str,
    container: &Value,
) -> Result<Vec<(String, String, bool)>, String> {
    let secret_data =
        |name: &str, optional: bool| -> Result<Option<serde_json::Map<String, Value>>, String> {
            match shared.store.get(Kind::Secret, ns, name) {
                Some(secret) => Ok(Some(
                    secret["data"].as_object().cloned().unwrap_or_default(),
                )),
                None if optional => Ok(None),
                None => Err(format!("secret \"{name}\" not found")),
            }
        };
    let decode = |value: &Value| {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(value.as_str().unwrap_or_default())
            .unwrap_or_default();
        String::from_utf8_lossy(&bytes).into_owned()
    };
    let mut env = Vec::new();
    for source in container["envFrom"].as_array().into_iter().flatten() {
        let reference = &source["secretRef"];
        let Some(name) = reference["name"].as_str() else {
            continue;
        };
        let prefix = source["prefix"].as_str().unwrap_or_default();
        for (key, value) in secret_data(name, reference["optional"] == true)?.unwrap_or_default() {
            env.push((format!("{prefix}{key}"), decode(&value), true));
        }
    }
    for var in container["env"].as_array().into_iter().flatten() {
        let name = var["name"].as_str().unwrap_or_default().to_owned();
        let reference = &var["valueFrom"]["secretKeyRef"];
        if let Some(secret) = reference["name"].as_str() {
            let key = reference["key"].as_str().unwrap_or_default();
            let optional = reference["optional"] == true;
            match secret_data(secret, optional)?.and_then(|data| data.get(key).cloned()) {
                Some(value) => env.push((name, decode(&value), true)),
                None if optional => {}
                None => return Err(format!("couldn't find key {key} in Secret {ns}/{secret}")),
            }
        } else {
            env.push((
                name,
                var["value"].as_str().unwrap_or_default().to_owned(),
                false,
            ));
        }
    }
    Ok(env)
}

/// Marks the pod as terminating and removes it (and its container) in the background within
/// `grace` seconds (default: its `terminationGracePeriodSeconds`).
pub fn delete(
    shared: &Arc<Shared>,
    ns: &str,
    name: &str,
    grace: Option<u64>,
) -> Result<Value, StoreError> {
    let pod = shared
        .store
        .get(Kind::Pod, ns, name)
        .ok_or(StoreError::NotFound)?;
    if !pod["metadata"]["deletionTimestamp"].is_null() {
        return Ok(pod);
    }
    let grace = grace
        .or_else(|| pod["spec"]["terminationGracePeriodSeconds"].as_u64())
        .unwrap_or(30);
    let deadline = std::time::SystemTime::now() + Duration::from_secs(grace);
    let marked = shared.store.update(Kind::Pod, ns, name, |pod| {
        pod["metadata"]["deletionTimestamp"] =
            json!(humantime::format_rfc3339_seconds(deadline).to_string());
        pod["metadata"]["deletionGracePeriodSeconds"] = json!(grace);
    })?;
    let uid = pod["metadata"]["uid"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let runtime = lock(&shared.runtimes).get(&uid).cloned();
    let shared = Arc::clone(shared);
    let (ns, name) = (ns.to_owned(), name.to_owned());
    thread::spawn(move || {
        if let Some(runtime) = runtime {
            let mut state = lock(&runtime);
            state.deleted = true;
            if let Some(container) = state.container.take() {
                docker::stop_and_remove(&shared.opts.docker, &container, grace);
            }
        }
        let _ = shared.store.remove(Kind::Pod, &ns, &name);
        lock(&shared.runtimes).remove(&uid);
    });
    Ok(marked)
}

/// `GET .../pods/NAME/log`: the container's output.
pub fn logs(shared: &Shared, ns: &str, name: &str) -> Response {
    let Some(pod) = shared.store.get(Kind::Pod, ns, name) else {
        return status(404, "NotFound", &format!("pods \"{name}\" not found"));
    };
    let state = &pod["status"]["containerStatuses"][0]["state"];
    if state.get("running").is_none() && state.get("terminated").is_none() {
        let reason = state["waiting"]["reason"]
            .as_str()
            .unwrap_or("ContainerCreating");
        return status(
            400,
            "BadRequest",
            &format!("container \"work\" in pod \"{name}\" is waiting to start: {reason}"),
        );
    }
    let container = docker::container_name(&shared.id, ns, name);
    Response::text(200, docker::logs(&shared.opts.docker, &container))
}
