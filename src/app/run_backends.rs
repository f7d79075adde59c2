//! What a run sets up before its tasks start: the sandbox and isolation of each backend its tasks
//! use (checked before any container starts), and the Docker images of its tasks.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::config::{Backend, EnvMap, Settings};
use crate::image::{
    build_tasks, image_digests, parse_image_list, BuildOptions, Docker, ImageBuilder, ImageDigest,
    Outcome, Quiet,
};
use crate::isolation::Isolator;
use crate::parallel;
use crate::process::Runner;
use crate::sandbox::{k8s_sandbox, DockerSandbox, Sandbox};
use crate::task::{Catalog, Task};

/// The sandbox and (when some of its tasks have internet off) the isolation of each backend the
/// run's tasks use; the clusters and the firewall rights are checked here, before any container
/// starts.
pub(super) fn backends(
    settings: &Settings,
    per_task: &[Settings],
    env: &EnvMap,
    runner: &Arc<dyn Runner>,
    dry_run: bool,
) -> anyhow::Result<Backends> {
    let mut out = Backends::default();
    let used: std::collections::BTreeSet<Backend> =
        per_task.iter().map(|s| s.backend.value).collect();
    for backend in used {
        let tasks: Vec<Settings> = per_task
            .iter()
            .filter(|s| s.backend.value == backend)
            .cloned()
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
                let k8s = k8s_sandbox(&tasks[0], Arc::clone(runner));
                if !dry_run {
                    k8s.preflight()?;
                }
                (Arc::clone(&k8s) as Arc<dyn Sandbox>, Some(k8s))
            }
        };
        out.sandboxes.insert(backend, sandbox);
        if let Some(isolation) =
            super::run_isolation::prepare(settings, &tasks, env, runner, dry_run, k8s)?
        {
            out.isolations.insert(backend, isolation);
        }
    }
    Ok(out)
}

/// What [`backends`] sets up.
#[derive(Default)]
pub(super) struct Backends {
    pub sandboxes: BTreeMap<Backend, Arc<dyn Sandbox>>,
    pub isolations: BTreeMap<Backend, Arc<dyn Isolator>>,
}

/// [`ensure_images`] for the tasks on Docker: on Kubernetes the images come from the registry
/// (checked before each pod starts).
pub(super) fn ensure_docker_images(
    settings: &Settings,
    catalog: &Catalog,
    tasks: &[Task],
    per_task: &[Settings],
    runner: &Arc<dyn Runner>,
    dry_run: bool,
) -> anyhow::Result<(BTreeMap<String, String>, Vec<ImageDigest>)> {
    let docker_tasks: Vec<Task> = tasks
        .iter()
        .zip(per_task)
        .filter(|(_, s)| s.backend.value == Backend::Docker)
        .map(|(t, _)| t.clone())
        .collect();
    if docker_tasks.is_empty() {
        return Ok((BTreeMap::new(), Vec::new()));
    }
    ensure_images(settings, catalog, &docker_tasks, runner.as_ref(), dry_run)
}

/// Build missing images (one listing of local images): failures per task id, and the IDs and
/// digests of the work and judge images, pinned in `run_config.json`.
fn ensure_images(
    settings: &Settings,
    catalog: &Catalog,
    tasks: &[Task],
    runner: &dyn Runner,
    dry_run: bool,
) -> anyhow::Result<(BTreeMap<String, String>, Vec<ImageDigest>)> {
    let docker = Docker::new(&settings.docker.value);
    let local = match runner.run(&docker.list_images()) {
        Ok(out) => parse_image_list(&out.stdout_str()),
        Err(e) if dry_run => {
            log::warn!("cannot list local images, assuming none exist: {e}");
            std::collections::BTreeSet::new()
        }
        Err(e) => {
            return Err(anyhow::anyhow!(e)
                .context("cannot list the local docker images (is the docker daemon running?)"))
        }
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
        tasks,
        &local,
        opts,
        &Quiet,
    );
    for r in &results {
        for (role, image) in r.images() {
            if image.outcome == Outcome::Built {
                println!("Built {role} image {}", image.image);
            }
        }
    }
    let names: Vec<String> = tasks
        .iter()
        .flat_map(|t| [t.images.work.to_string(), t.images.judge.to_string()])
        .collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let digests = image_digests(&builder, &refs).unwrap_or_default();
    let errors = results
        .iter()
        .filter_map(|r| r.error().map(|e| (r.task_id.clone(), e.to_owned())))
        .collect();
    Ok((errors, digests))
}
