//! Judge images come before grading (docs/architecture.md#the-path-of-one-sforge-run): when
//! `sforge serve` or `sforge eval` starts, the missing judge images of the tasks it will grade,
//! and their bases, are built here; a grading itself only checks that its image is there.

use std::collections::BTreeSet;

use crate::config::{Backend, Settings};
use crate::image::{
    base_spec, parse_image_list, task_spec, BuildError, Docker, ImageBuilder, Role,
};
use crate::process::{ProcessError, Runner};
use crate::task::{Benchmark, Task};

/// Why a judge image cannot be made available.
#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    #[error("cannot list the local images: {0}")]
    List(#[source] ProcessError),
    #[error(
        "judge image {image} is missing and task '{task}' has no judge.setup_cmds; pull it first: \
         sforge pull --task {task}"
    )]
    Unbuildable { image: String, task: String },
    #[error(transparent)]
    Render(#[from] minijinja::Error),
    #[error("base image key {0:?} is not in BENCHMARK.yaml")]
    UnknownBase(String),
    #[error(transparent)]
    Build(#[from] BuildError),
}

/// Builds the missing judge images of `tasks` (and their missing bases) on the local Docker
/// engine; on Kubernetes the cluster pulls them from the registry, so nothing is done. Returns
/// the tasks whose judge image is still missing, with the reason.
pub fn provision_judge_images(
    settings: &Settings,
    benchmark: &Benchmark,
    tasks: &[&Task],
    runner: &dyn Runner,
) -> Result<Vec<(String, ProvisionError)>, ProvisionError> {
    if settings.backend.value != Backend::Docker || tasks.is_empty() {
        return Ok(Vec::new());
    }
    let docker = Docker::new(&settings.docker.value);
    let mut local = match runner.run(&docker.list_images()) {
        Ok(listing) => parse_image_list(&listing.stdout_str()),
        // A plan goes on without the engine: every judge image is then built in it.
        Err(e) if runner.is_plan() => {
            runner.plan_warning(&format!(
                "cannot list the local images ({e}); the plan builds every judge image"
            ));
            BTreeSet::new()
        }
        Err(e) => return Err(ProvisionError::List(e)),
    };
    let builder = ImageBuilder {
        runner,
        docker,
        log_dir: settings.log_dir.value.clone(),
        dry_run: runner.is_plan(),
    };
    let mut failures = Vec::new();
    for task in tasks {
        if let Err(e) = provision_one(&builder, settings, benchmark, task, &mut local) {
            failures.push((task.task_id.clone(), e));
        }
    }
    Ok(failures)
}

fn provision_one(
    builder: &ImageBuilder<'_>,
    settings: &Settings,
    benchmark: &Benchmark,
    task: &Task,
    local: &mut BTreeSet<String>,
) -> Result<(), ProvisionError> {
    let image = task.images.judge.to_string();
    if local.contains(&image) {
        return Ok(());
    }
    let spec =
        task_spec(settings, task, Role::Judge)?.ok_or_else(|| ProvisionError::Unbuildable {
            image: image.clone(),
            task: task.task_id.clone(),
        })?;
    log::info!("judge image {image} is missing: building it");
    let quiet = |_: &str| {};
    let base = task.images.base.to_string();
    if !local.contains(&base) {
        let key = &task.base_image;
        let entry = benchmark
            .base(key)
            .ok_or_else(|| ProvisionError::UnknownBase(key.clone()))?;
        builder.build(&base_spec(settings, entry, task)?, false, &quiet)?;
        local.insert(base);
    }
    builder.build(&spec, false, &quiet)?;
    local.insert(image);
    Ok(())
}
