//! Kubernetes: pods, Secrets and network policies labelled `app=sforge` in the namespace.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::verdict::{decide, epoch, Candidate, Facts, Found, GcError, GcOptions, Verdict};
use crate::config::Settings;
use crate::process::Runner;
use crate::sandbox::k8s::{K8sConfig, Kubectl};

#[derive(Debug, Deserialize)]
struct List {
    items: Vec<Object>,
}

#[derive(Debug, Deserialize)]
struct Object {
    kind: String,
    metadata: Metadata,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Metadata {
    name: String,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    creation_timestamp: Option<String>,
}

pub(super) fn collect(
    settings: &Settings,
    runner: &dyn Runner,
    opts: &GcOptions,
    facts: &Facts<'_>,
) -> Result<Vec<Found>, GcError> {
    let kubectl = Kubectl::new(K8sConfig::from_settings(settings));
    let get = kubectl
        .base()
        .args(["get", "pods,secrets,networkpolicies", "-l", "app=sforge"])
        .args(["-o", "json"])
        .read_only()
        .timeout(std::time::Duration::from_secs(60));
    let out = runner.run(&get).map_err(|source| GcError::List {
        what: "pods, secrets and networkpolicies",
        source,
    })?;
    let list: List = serde_json::from_slice(&out.stdout).map_err(|e| GcError::Parse {
        what: "kubectl get",
        detail: e.to_string(),
    })?;
    let mut found = Vec::new();
    for object in list.items {
        let kind = match object.kind.as_str() {
            "Pod" => "pod",
            "Secret" => "secret",
            "NetworkPolicy" => "networkpolicy",
            _ => continue,
        };
        let candidate = Candidate {
            labels: object.metadata.labels,
            created: object
                .metadata
                .creation_timestamp
                .as_deref()
                .and_then(epoch),
        };
        let verdict = decide(&candidate, opts, facts);
        let mut failed = None;
        if matches!(verdict, Verdict::Remove(_)) && !opts.dry_run {
            let delete = kubectl.delete(kind, &object.metadata.name);
            failed = runner.run(&delete).err().map(|e| e.to_string());
        }
        found.push(Found {
            kind,
            name: object.metadata.name,
            verdict,
            failed,
        });
    }
    Ok(found)
}
