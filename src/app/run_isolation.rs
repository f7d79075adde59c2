//! Network isolation for `sforge run`: the preflight before any container starts (proxies,
//! iptables rights, the sweep of stale chains) and each task's allowed endpoints.

use std::sync::Arc;

use anyhow::Context as _;

use crate::config::{Backend, EnvMap, Settings};
use crate::isolation::{check_proxies, is_root, system_lookup, DockerIsolation, Egress, Firewall};
use crate::process::Runner;
use crate::run::agent::Agent;

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
) -> anyhow::Result<Option<Arc<DockerIsolation>>> {
    let isolated: Vec<&Settings> = per_task.iter().filter(|s| !s.internet.value).collect();
    if isolated.is_empty() {
        return Ok(None);
    }
    if let Some(s) = isolated.iter().find(|s| s.backend.value != Backend::Docker) {
        anyhow::bail!(
            "network isolation on the {} backend is not available yet; use --backend docker \
             or run with --enable-internet",
            s.backend.value
        );
    }
    for s in &isolated {
        for var in check_proxies(s)? {
            log::warn!("{var} is not passed to isolated Work containers (internet is off)");
        }
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
    Ok(Some(Arc::new(isolation)))
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
