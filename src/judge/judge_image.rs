//! The judge image of a task, built on demand (with its base) when missing and buildable.

use super::pipeline::{Judge, JudgeError};
use crate::image::{base_spec, task_spec, Docker, ImageBuilder, Role};
use crate::run_log::RunLog;
use crate::task::Task;

/// Make sure the judge image exists; build it (and its base if needed) when it can be built.
pub(crate) fn ensure_judge_image(
    judge: &Judge,
    task: &Task,
    log: &RunLog,
) -> Result<(), JudgeError> {
    let docker = Docker::new(&judge.settings.docker.value);
    let exists = |image: &str| judge.runner.run(&docker.inspect(&[image])).is_ok();
    let image = task.images.judge.to_string();
    if exists(&image) {
        return Ok(());
    }
    let spec = task_spec(&judge.settings, task, Role::Judge)
        .map_err(|e| JudgeError(e.to_string()))?
        .ok_or_else(|| JudgeError(format!("judge image {image} is missing and task '{}' has no judge.setup_cmds; pull it first: sforge pull --task {}", task.task_id, task.task_id)))?;
    log.line(&format!("judge image {image} is missing: building it"));
    let builder = ImageBuilder {
        runner: judge.runner.as_ref(),
        docker: docker.clone(),
        log_dir: judge.settings.log_dir.value.clone(),
        dry_run: false,
    };
    let quiet = |_: &str| {};
    if !exists(&task.images.base.to_string()) {
        let catalog_base = judge_base(judge, task)?;
        builder
            .build(&catalog_base, false, &quiet)
            .map_err(JudgeError)?;
    }
    builder.build(&spec, false, &quiet).map_err(JudgeError)
}

fn judge_base(judge: &Judge, task: &Task) -> Result<crate::image::BuildSpec, JudgeError> {
    let catalog = crate::task::Catalog::open(&judge.settings.tasks_dir.value)
        .map_err(|e| JudgeError(e.to_string()))?;
    let base = catalog.benchmark.base(&task.base_image).ok_or_else(|| {
        JudgeError(format!(
            "base image key {:?} is not in BENCHMARK.yaml",
            task.base_image
        ))
    })?;
    base_spec(&judge.settings, base, task).map_err(|e| JudgeError(e.to_string()))
}
