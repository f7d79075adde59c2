//! Reads a starting pod's status and events (`kubectl get … -o json`) and decides: running,
//! still starting, or failed for good — image pulls, bad config and scheduling fail fast.

use std::collections::BTreeMap;

use serde_json::Value;

/// Where a starting pod stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PodState {
    Running,
    /// Still starting; the text says what it waits for.
    Starting(String),
    /// It will not start: the text says why and what to do.
    Failed(String),
}

/// Waiting reasons that never resolve by themselves.
const FATAL_WAITING: [&str; 6] = [
    "ErrImagePull",
    "ImagePullBackOff",
    "InvalidImageName",
    "ErrImageNeverPull",
    "CreateContainerConfigError",
    "CreateContainerError",
];

fn text<'a>(value: &'a Value, key: &str) -> &'a str {
    value.get(key).and_then(Value::as_str).unwrap_or("")
}

fn selector_text(selector: &BTreeMap<String, String>) -> String {
    if selector.is_empty() {
        return "none".to_owned();
    }
    selector
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// The state of `pod` (the JSON of `get pod`), with `events` (the JSON list of `get events`,
/// `Value::Null` if not fetched). `node_selector` is named when the pod cannot be scheduled.
#[must_use]
pub fn assess(pod: &Value, events: &Value, node_selector: &BTreeMap<String, String>) -> PodState {
    let status = &pod["status"];
    let phase = text(status, "phase");
    match phase {
        "Running" => return PodState::Running,
        "Failed" | "Succeeded" => {
            let why = [text(status, "reason"), text(status, "message")]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(": ");
            return PodState::Failed(
                format!("the pod ended (phase {phase}) {why}")
                    .trim()
                    .to_owned(),
            );
        }
        _ => {}
    }
    let image = pod["spec"]["containers"][0]["image"]
        .as_str()
        .unwrap_or("?");
    for cs in status["containerStatuses"].as_array().into_iter().flatten() {
        let waiting = &cs["state"]["waiting"];
        let reason = text(waiting, "reason");
        if FATAL_WAITING.contains(&reason) {
            return PodState::Failed(image_failure(reason, text(waiting, "message"), image));
        }
    }
    let items = events["items"].as_array().map_or(&[][..], Vec::as_slice);
    let scaling_up = items
        .iter()
        .any(|e| text(e, "reason") == "TriggeredScaleUp");
    let unschedulable = status["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| text(c, "type") == "PodScheduled" && text(c, "status") == "False");
    let failed_scheduling = items
        .iter()
        .find(|e| text(e, "reason") == "FailedScheduling");
    if !scaling_up {
        let message = match (unschedulable, failed_scheduling) {
            (Some(c), _) if text(c, "reason") == "Unschedulable" => Some(text(c, "message")),
            (_, Some(e)) => Some(text(e, "message")),
            _ => None,
        };
        if let Some(message) = message {
            return PodState::Failed(format!(
                "no node can run the pod: {message} (node selector: {}); check \
                 SFORGE_K8S_NODE_SELECTOR against the node labels (kubectl get nodes \
                 --show-labels) and the cluster's free CPU and memory",
                selector_text(node_selector)
            ));
        }
    }
    if let Some(event) = items.iter().find(|e| text(e, "reason") == "Failed") {
        return PodState::Failed(image_failure("Failed", text(event, "message"), image));
    }
    let last = items
        .last()
        .map(|e| format!(", last event {}: {}", text(e, "reason"), text(e, "message")))
        .unwrap_or_default();
    let phase = if phase.is_empty() { "unknown" } else { phase };
    PodState::Starting(format!("phase {phase}{last}"))
}

fn image_failure(reason: &str, message: &str, image: &str) -> String {
    let hint = if reason.contains("Image") || message.contains("pull") {
        "; push the image first (sforge push --registry …) and check SFORGE_K8S_IMAGE_REGISTRY \
         and the namespace's image pull secrets"
    } else {
        ""
    };
    format!("the container cannot start ({reason}: {message}), image {image}{hint}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(status: &Value) -> Value {
        json!({"spec": {"containers": [{"name": "work", "image": "reg/x:1"}]}, "status": status})
    }

    #[test]
    fn running_and_starting() {
        let none = BTreeMap::new();
        assert_eq!(
            assess(&pod(&json!({"phase": "Running"})), &Value::Null, &none),
            PodState::Running
        );
        let events = json!({"items": [{"reason": "Scheduled", "message": "assigned"}, {"reason": "Pulled", "message": "pulled x"}]});
        let state = assess(&pod(&json!({"phase": "Pending"})), &events, &none);
        assert_eq!(
            state,
            PodState::Starting("phase Pending, last event Pulled: pulled x".into())
        );
    }

    #[test]
    fn image_pull_errors_fail_fast_naming_the_image() {
        let status = json!({"phase": "Pending", "containerStatuses": [{"name": "work",
            "state": {"waiting": {"reason": "ImagePullBackOff", "message": "Back-off pulling image"}}}]});
        let PodState::Failed(why) = assess(&pod(&status), &Value::Null, &BTreeMap::new()) else {
            panic!("must fail");
        };
        assert!(
            why.contains("ImagePullBackOff") && why.contains("reg/x:1"),
            "{why}"
        );
        assert!(why.contains("sforge push"), "{why}");
        let events = json!({"items": [{"reason": "Failed", "message": "Error: ErrImagePull"}]});
        assert!(matches!(
            assess(
                &pod(&json!({"phase": "Pending"})),
                &events,
                &BTreeMap::new()
            ),
            PodState::Failed(_)
        ));
    }

    #[test]
    fn unschedulable_names_the_node_selector_unless_scaling_up() {
        let status = json!({"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False",
            "reason": "Unschedulable", "message": "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector."}]});
        let selector: BTreeMap<String, String> = [("pool".to_owned(), "gpu".to_owned())].into();
        let PodState::Failed(why) = assess(&pod(&status), &Value::Null, &selector) else {
            panic!("must fail");
        };
        assert!(
            why.contains("pool=gpu") && why.contains("didn't match"),
            "{why}"
        );
        let events =
            json!({"items": [{"reason": "TriggeredScaleUp", "message": "pod triggered scale-up"}]});
        assert!(matches!(
            assess(&pod(&status), &events, &selector),
            PodState::Starting(_)
        ));
        let events = json!({"items": [{"reason": "FailedScheduling", "message": "0/3 nodes: Insufficient memory"}]});
        let state = assess(
            &pod(&json!({"phase": "Pending"})),
            &events,
            &BTreeMap::new(),
        );
        assert!(
            matches!(state, PodState::Failed(ref w) if w.contains("Insufficient memory") && w.contains("none")),
            "{state:?}"
        );
    }

    #[test]
    fn terminal_phases_fail() {
        let state = assess(
            &pod(&json!({"phase": "Failed", "reason": "Evicted", "message": "low memory"})),
            &Value::Null,
            &BTreeMap::new(),
        );
        assert_eq!(
            state,
            PodState::Failed("the pod ended (phase Failed) Evicted: low memory".into())
        );
    }
}
