//! TEST DOUBLE: how the Kubernetes API double writes a pod's status (conditions, container
//! states waiting/running/terminated, phase, IPs) and the events it records about the pod.

use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{json, Value};

use super::docker;
use super::store::{now_rfc3339, Kind};
use super::Shared;

/// Identifies one pod (its uid guards against a later pod of the same name).
#[derive(Clone)]
pub struct PodRef {
    pub ns: String,
    pub name: String,
    pub uid: String,
}

pub fn condition(kind: &str, ok: bool, reason: Option<(&str, &str)>) -> Value {
    let mut value = json!({"type": kind, "status": if ok { "True" } else { "False" }, "lastProbeTime": null, "lastTransitionTime": now_rfc3339()});
    if let Some((reason, message)) = reason {
        value["reason"] = json!(reason);
        value["message"] = json!(message);
    }
    value
}

pub fn update(shared: &Shared, pod_ref: &PodRef, change: impl FnOnce(&mut Value)) {
    let _ = shared
        .store
        .update_uid(Kind::Pod, &pod_ref.ns, &pod_ref.name, &pod_ref.uid, change);
}

pub fn container_status(pod: &Value, state: &Value, ready: bool, container_id: &str) -> Value {
    let mut status = json!({
        "name": "work", "image": pod["spec"]["containers"][0]["image"], "imageID": "",
        "ready": ready, "restartCount": 0, "started": state.get("running").is_some(), "state": state.clone()
    });
    if !container_id.is_empty() {
        status["containerID"] = json!(format!("docker://{container_id}"));
    }
    status
}

pub fn set_waiting(shared: &Shared, pod_ref: &PodRef, reason: &str, message: &str) {
    update(shared, pod_ref, |pod| {
        let state = json!({"waiting": {"reason": reason, "message": message}});
        pod["status"]["containerStatuses"] = json!([container_status(pod, &state, false, "")]);
        pod["status"]["conditions"] = json!([
            condition("PodScheduled", true, None),
            condition("Initialized", true, None),
            condition(
                "ContainersReady",
                false,
                Some((
                    "ContainersNotReady",
                    "containers with unready status: [work]"
                ))
            ),
            condition(
                "Ready",
                false,
                Some((
                    "ContainersNotReady",
                    "containers with unready status: [work]"
                ))
            ),
        ]);
    });
}

pub fn set_running(shared: &Shared, pod_ref: &PodRef, container_id: &str) {
    let (ip, host_ip) = docker::addresses(&shared.opts.docker, container_id);
    let now = now_rfc3339();
    update(shared, pod_ref, |pod| {
        let state = json!({"running": {"startedAt": now}});
        let status = &mut pod["status"];
        status["phase"] = json!("Running");
        status["podIP"] = json!(ip);
        status["podIPs"] = json!([{"ip": ip}]);
        status["hostIP"] = json!(host_ip);
        status["startTime"] = json!(now);
        status["conditions"] = json!([
            "PodReadyToStartContainers",
            "Initialized",
            "Ready",
            "ContainersReady",
            "PodScheduled"
        ]
        .map(|kind| condition(kind, true, None)));
        let statuses = json!([container_status(pod, &state, true, container_id)]);
        pod["status"]["containerStatuses"] = statuses;
    });
}

pub fn set_terminated(
    shared: &Shared,
    pod_ref: &PodRef,
    code: i64,
    reason: &str,
    message: &str,
    container_id: &str,
) {
    update(shared, pod_ref, |pod| {
        let started =
            pod["status"]["containerStatuses"][0]["state"]["running"]["startedAt"].clone();
        let state = json!({"terminated": {"exitCode": code, "reason": reason, "message": message,
            "startedAt": started, "finishedAt": now_rfc3339()}});
        let statuses = json!([container_status(pod, &state, false, container_id)]);
        let status = &mut pod["status"];
        status["phase"] = json!(if code == 0 { "Succeeded" } else { "Failed" });
        status["containerStatuses"] = statuses;
        status["conditions"] = json!([
            condition("PodScheduled", true, None),
            condition("Initialized", true, Some(("PodCompleted", ""))),
            condition("ContainersReady", false, Some(("PodCompleted", ""))),
            condition("Ready", false, Some(("PodCompleted", ""))),
        ]);
    });
}

pub fn record(shared: &Shared, pod_ref: &PodRef, kind: &str, reason: &str, message: &str) {
    record_from(shared, pod_ref, "kubelet", kind, reason, message);
}

/// Records an event about the pod, as `component` reports it.
pub fn record_from(
    shared: &Shared,
    pod_ref: &PodRef,
    component: &str,
    kind: &str,
    reason: &str,
    message: &str,
) {
    static SEQUENCE: AtomicU64 = AtomicU64::new(0);
    let now = now_rfc3339();
    let seq = SEQUENCE.fetch_add(1, Ordering::Relaxed) + 1;
    let event = json!({
        "metadata": {"name": format!("{}.{seq:016x}", pod_ref.name)},
        "involvedObject": {"kind": "Pod", "namespace": pod_ref.ns, "name": pod_ref.name, "uid": pod_ref.uid,
            "apiVersion": "v1", "fieldPath": "spec.containers{work}"},
        "reason": reason, "message": message, "type": kind, "count": 1,
        "source": {"component": component, "host": shared.opts.node_name},
        "firstTimestamp": now, "lastTimestamp": now, "reportingComponent": component, "reportingInstance": ""
    });
    let _ = shared.store.create(Kind::Event, &pod_ref.ns, event);
}
