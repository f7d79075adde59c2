//! Docker: containers labelled `app=sforge`, then the iptables chains whose container is gone.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde::Deserialize;

use super::verdict::{decide, epoch, Candidate, Facts, Found, GcError, GcOptions, Verdict};
use crate::config::Settings;
use crate::isolation::{chain_id, Family, Firewall};
use crate::process::{Cmd, Runner};

/// The part of `docker inspect` gc reads.
#[derive(Debug, Deserialize)]
struct Inspected {
    #[serde(rename = "Id")]
    id: String,
    #[serde(rename = "Name")]
    name: String,
    #[serde(rename = "Created")]
    created: String,
    #[serde(rename = "Config")]
    config: InspectedConfig,
}

#[derive(Debug, Deserialize)]
struct InspectedConfig {
    #[serde(rename = "Labels", default)]
    labels: Option<BTreeMap<String, String>>,
}

pub(super) fn collect(
    settings: &Settings,
    runner: &Arc<dyn Runner>,
    opts: &GcOptions,
    facts: &Facts<'_>,
) -> Result<Vec<Found>, GcError> {
    let docker = &settings.docker.value;
    let mut found = Vec::new();
    let mut removed_ids = BTreeSet::new();
    for c in containers(runner.as_ref(), docker)? {
        let candidate = Candidate {
            labels: c.config.labels.clone().unwrap_or_default(),
            created: epoch(&c.created),
        };
        let verdict = decide(&candidate, opts, facts);
        let mut failed = None;
        if matches!(verdict, Verdict::Remove(_)) {
            removed_ids.insert(c.id.chars().take(12).collect::<String>());
            if !opts.dry_run {
                let rm = Cmd::new(docker).args(["rm", "-f", "-v", &c.id]);
                failed = runner.run(&rm).err().map(|e| e.to_string());
            }
        }
        found.push(Found {
            kind: "container",
            name: c.name.trim_start_matches('/').to_owned(),
            verdict,
            failed,
        });
    }
    found.extend(chains(settings, runner, docker, opts, &removed_ids)?);
    Ok(found)
}

/// Every container with sforge's labels, inspected.
fn containers(runner: &dyn Runner, docker: &str) -> Result<Vec<Inspected>, GcError> {
    let list = Cmd::new(docker)
        .args([
            "ps",
            "-a",
            "-q",
            "--no-trunc",
            "--filter",
            "label=app=sforge",
        ])
        .read_only();
    let ids = runner
        .run(&list)
        .map_err(|source| GcError::List {
            what: "containers",
            source,
        })?
        .stdout_lines();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let inspect = Cmd::new(docker).arg("inspect").args(&ids).read_only();
    // A container removed between the two commands makes inspect fail; its output still
    // holds the others.
    let out = runner
        .run_unchecked(&inspect)
        .map_err(|source| GcError::List {
            what: "containers",
            source,
        })?;
    serde_json::from_slice(&out.stdout).map_err(|e| GcError::Parse {
        what: "docker inspect",
        detail: e.to_string(),
    })
}

/// Full ids of the containers (running or not) matching `filters`.
fn container_ids(
    runner: &dyn Runner,
    docker: &str,
    filters: &[&str],
) -> Result<Vec<String>, GcError> {
    let list = Cmd::new(docker)
        .args(["ps", "-a", "-q", "--no-trunc"])
        .args(filters.iter().copied())
        .read_only();
    Ok(runner
        .run(&list)
        .map_err(|source| GcError::List {
            what: "containers",
            source,
        })?
        .stdout_lines())
}

/// Chains `SFORGE_<id>` whose container no longer exists (or is being removed now). Listing
/// them needs firewall rights; without them there is nothing gc could remove, and it says so.
fn chains(
    settings: &Settings,
    runner: &Arc<dyn Runner>,
    docker: &str,
    opts: &GcOptions,
    removed: &BTreeSet<String>,
) -> Result<Vec<Found>, GcError> {
    let firewall = Firewall::new(
        Arc::clone(runner),
        &settings.iptables.value,
        &settings.ip6tables.value,
        crate::owner::is_root(),
    );
    if let Err(e) = firewall.check_rights() {
        log::warn!("iptables chains not checked: {e}");
        return Ok(Vec::new());
    }
    let existing = || -> Result<BTreeSet<String>, GcError> {
        let ids = container_ids(runner.as_ref(), docker, &[])?;
        Ok(ids
            .iter()
            .map(|id| id.chars().take(12).collect::<String>())
            // A dry run removed nothing: count what it would remove as gone.
            .filter(|id| !(opts.dry_run && removed.contains(id)))
            .collect())
    };
    let stale: Vec<String> = if opts.dry_run {
        let existing = existing()?;
        let mut names: Vec<String> = [Family::V4, Family::V6]
            .into_iter()
            .flat_map(|f| firewall.chains(f))
            .filter(|c| chain_id(c).is_some_and(|id| !existing.contains(id)))
            .collect();
        names.sort();
        names.dedup();
        names
    } else {
        firewall.sweep(existing)?
    };
    Ok(stale
        .into_iter()
        .map(|name| Found {
            kind: "chain",
            name,
            verdict: Verdict::Remove("its container is gone".to_owned()),
            failed: None,
        })
        .collect())
}
