//! Network isolation for `sforge run`: the preflight before any container starts (proxies,
//! iptables rights, the sweep of stale chains) and each task's allowed endpoints.

use std::sync::Arc;

use anyhow::Context as _;

use crate::config::{EnvMap, Settings};
use crate::isolation::{
    check_proxies, is_root, system_lookup, DockerIsolation, Egress, Firewall, Isolator,
    K8sIsolation,
};
use crate::process::Runner;
use crate::run::agent::Agent;
use crate::sandbox::K8sSandbox;

/// Test hook: when set to 1, rules are not applied and the self-check must fail the run.
pub const SKIP_RULES_HOOK: &str = "SFORGE_TEST_SKIP_ISOLATION_RULES";

/// The isolation of this run, when some task has internet off; checked before any container
/// starts.
pub fn prepare(
    settings: &Settings,
    per_task: &[Settings],
    env: &EnvMap,
    runner: &Arc<dyn Runner>,
    dry_run: bool,
    k8s: Option<Arc<K8sSandbox>>,
) -> anyhow::Result<Option<Arc<dyn Isolator>>> {
    let isolated: Vec<&Settings> = per_task.iter().filter(|s| !s.internet.value).collect();
    if isolated.is_empty() {
        return Ok(None);
    }
    for s in &isolated {
        for var in check_proxies(s)? {
            log::warn!("{var} is not passed to isolated Work containers (internet is off)");
        }
    }
    // Kubernetes: a NetworkPolicy per pod; no iptables rights needed on this host.
    if let Some(k8s) = k8s {
        return Ok(Some(Arc::new(K8sIsolation::new(k8s))));
    }
    let firewall = Firewall::new(
        Arc::clone(runner),
        &settings.iptables.value,
        &settings.ip6tables.value,
        is_root(),
    );
    let skip = env.get(SKIP_RULES_HOOK) == Some("1");
    let isolation =
        DockerIsolation::new(Arc::clone(runner), &settings.docker.value, firewall, skip);
    if !dry_run {
        isolation.preflight()?;
        let removed = isolation
            .sweep()
            .context("cannot sweep stale iptables chains")?;
        if !removed.is_empty() {
            eprintln!(
                "Removed stale iptables chains of containers that are gone: {}",
                removed.join(", ")
            );
        }
    }
    Ok(Some(Arc::new(isolation) as Arc<dyn Isolator>))
}

/// What the Work container of a task may reach (`None` when its internet is on).
pub fn egress(settings: &Settings) -> Result<Option<Egress>, String> {
    if settings.internet.value {
        return Ok(None);
    }
    let agent: Option<Agent> = settings.agent.value.as_deref().and_then(|a| a.parse().ok());
    let api = settings.agent_api_base_url.value.clone().or_else(|| {
        agent
            .and_then(Agent::default_api_base_url)
            .map(str::to_owned)
    });
    Egress::resolve(&settings.judge_url.value, api.as_deref(), &system_lookup)
        .map(Some)
        .map_err(|e| e.to_string())
}
