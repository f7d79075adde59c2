//! What a run sets up before its tasks start: the sandbox and isolation of each backend its tasks
//! use (clusters and firewall rights checked before any container starts), and the Docker images
//! of its tasks (missing ones built).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use super::error::RunError;
use super::prepare::TaskPlan;
use crate::config::{Backend, EnvMap, Settings};
use crate::image::{
    build_tasks, image_digests, parse_image_list, BuildOptions, Docker, ImageBuilder, ImageDigest,
    Outcome, Quiet,
};
use crate::isolation::{check_proxies, is_root, DockerIsolation, Firewall, Isolator, K8sIsolation};
use crate::parallel;
use crate::process::Runner;
use crate::sandbox::{k8s_sandbox, DockerSandbox, K8sSandbox, Sandbox};
use crate::task::Catalog;

/// Test hook: when set to 1, rules are not applied and the self-check must fail the run.
pub const SKIP_RULES_HOOK: &str = "SFORGE_TEST_SKIP_ISOLATION_RULES";

/// The sandbox and (when some of its tasks have internet off) the isolation of each backend.
#[derive(Default)]
pub struct Backends {
    pub sandboxes: BTreeMap<Backend, Arc<dyn Sandbox>>,
    pub isolations: BTreeMap<Backend, Arc<dyn Isolator>>,
}

/// Set up every backend the plans use.
pub fn backends(
    settings: &Settings,
    plans: &[TaskPlan],
    env: &EnvMap,
    runner: &Arc<dyn Runner>,
    dry_run: bool,
) -> Result<Backends, RunError> {
    let mut out = Backends::default();
    let used: BTreeSet<Backend> = plans.iter().map(|p| p.settings.backend.value).collect();
    for backend in used {
        let tasks: Vec<&Settings> = plans
            .iter()
            .map(|p| &p.settings)
            .filter(|s| s.backend.value == backend)
            .collect();
        let (sandbox, k8s): (Arc<dyn Sandbox>, _) = match backend {
            Backend::Docker => (
                Arc::new(DockerSandbox::new(
                    Arc::clone(runner),
                    settings.docker.value.clone(),
                )),
                None,
            ),
            Backend::K8s => {
                let k8s = k8s_sandbox(tasks[0], Arc::clone(runner));
                match k8s.preflight() {
                    Ok(()) => {}
                    Err(e) if dry_run => runner.plan_warning(&format!(
                        "the cluster did not answer, the plan is printed without it: {e}"
                    )),
                    Err(e) => return Err(e.into()),
                }
                (Arc::clone(&k8s) as Arc<dyn Sandbox>, Some(k8s))
            }
        };
        out.sandboxes.insert(backend, sandbox);
        if let Some(isolation) = isolation(settings, &tasks, env, runner, dry_run, k8s)? {
            out.isolations.insert(backend, isolation);
        }
    }
    Ok(out)
}

/// The isolation of a backend, when some of its tasks have internet off: proxies, iptables
/// rights and the sweep of stale chains are dealt with here, before any container starts.
fn isolation(
    settings: &Settings,
    tasks: &[&Settings],
    env: &EnvMap,
    runner: &Arc<dyn Runner>,
    dry_run: bool,
    k8s: Option<Arc<K8sSandbox>>,
) -> Result<Option<Arc<dyn Isolator>>, RunError> {
    let isolated: Vec<&&Settings> = tasks.iter().filter(|s| !s.internet.value).collect();
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
        let removed = isolation.sweep()?;
        if !removed.is_empty() {
            eprintln!(
                "Removed stale iptables chains of containers that are gone: {}",
                removed.join(", ")
            );
        }
    }
    Ok(Some(Arc::new(isolation) as Arc<dyn Isolator>))
}

/// What [`ensure_images`] found: build failures by task id, and the IDs and digests of the work
/// and judge images (pinned in `run_config.json`).
#[derive(Default)]
pub struct Images {
    pub errors: BTreeMap<String, String>,
    pub digests: Vec<ImageDigest>,
}

/// Build the missing images of the tasks on Docker (one listing of local images); on Kubernetes
/// the images come from the registry, checked before each pod starts.
pub fn ensure_images(
    settings: &Settings,
    catalog: &Catalog,
    plans: &[TaskPlan],
    runner: &dyn Runner,
    dry_run: bool,
) -> Result<Images, RunError> {
    let tasks: Vec<crate::task::Task> = plans
        .iter()
        .filter(|p| p.settings.backend.value == Backend::Docker)
        .map(|p| p.task.clone())
        .collect();
    if tasks.is_empty() {
        return Ok(Images::default());
    }
    let docker = Docker::new(&settings.docker.value);
    let local = match runner.run(&docker.list_images()) {
        Ok(out) => parse_image_list(&out.stdout_str()),
        Err(e) if dry_run => {
            runner.plan_warning(&format!(
                "cannot list local images, so the plan builds every image: {e}"
            ));
            BTreeSet::new()
        }
        Err(e) => return Err(RunError::ImageList(e)),
    };
    let builder = ImageBuilder {
        runner,
        docker,
        log_dir: settings.log_dir.value.clone(),
        dry_run,
    };
    let opts = BuildOptions {
        force: false,
        force_base: false,
        jobs: parallel::default_jobs(),
    };
    let results = build_tasks(
        &builder,
        settings,
        &catalog.benchmark,
        &tasks,
        &local,
        opts,
        &Quiet,
    );
    for r in &results {
        for (role, image) in r.images() {
            if image.outcome == Outcome::Built && !dry_run {
                outln!("Built {role} image {}", image.image);
            }
        }
    }
    let names: Vec<String> = tasks
        .iter()
        .flat_map(|t| [t.images.work.to_string(), t.images.judge.to_string()])
        .collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    Ok(Images {
        errors: results
            .iter()
            .filter_map(|r| r.error().map(|e| (r.task_id.clone(), e.to_owned())))
            .collect(),
        digests: image_digests(&builder, &refs).unwrap_or_default(),
    })
}
