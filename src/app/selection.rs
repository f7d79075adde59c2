//! Resolving `--task ID... | --all` against the tasks directory, and what every image command
//! starts from (tasks, runner, docker client, console, the local images).

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::app::console::Console;
use crate::cli::TaskSelection;
use crate::config::Settings;
use crate::image::{parse_image_list, Docker};
use crate::process::{self, Runner};
use crate::task::{Catalog, Task};

/// The common start of `build`, `push` and `pull`.
pub struct ImageCommand {
    pub catalog: Catalog,
    pub tasks: Vec<Task>,
    pub runner: Arc<dyn Runner>,
    pub docker: Docker,
    pub console: Console,
    /// Local image names (one docker call).
    pub local: BTreeSet<String>,
}

impl ImageCommand {
    pub fn prepare(
        settings: &Settings,
        selection: &TaskSelection,
        dry_run: bool,
    ) -> anyhow::Result<Self> {
        let catalog = Catalog::open(&settings.tasks_dir.value)?;
        let tasks = select(&catalog, selection)?;
        let runner = process::runner(dry_run);
        let docker = Docker::new(&settings.docker.value);
        let local = local_images(runner.as_ref(), &docker, dry_run)?;
        Ok(ImageCommand {
            catalog,
            tasks,
            runner,
            docker,
            console: Console::new(dry_run),
            local,
        })
    }
}

/// The local image names. In dry-run mode an unreachable daemon is not fatal.
fn local_images(
    runner: &dyn Runner,
    docker: &Docker,
    dry_run: bool,
) -> anyhow::Result<BTreeSet<String>> {
    match runner.run(&docker.list_images()) {
        Ok(out) => Ok(parse_image_list(&out.stdout_str())),
        Err(e) if dry_run => {
            runner.plan_warning(&format!(
                "cannot list local images, so the plan builds every image: {e}"
            ));
            Ok(BTreeSet::new())
        }
        Err(e) => Err(anyhow::anyhow!(e)
            .context("cannot list the local docker images (is the docker daemon running?)")),
    }
}

/// The selected tasks, in the order given (`--all`: file-name order). Any unknown id is an error.
pub fn select(catalog: &Catalog, selection: &TaskSelection) -> anyhow::Result<Vec<Task>> {
    if selection.all {
        return Ok(catalog.all_tasks()?);
    }
    let mut tasks: Vec<Task> = Vec::new();
    for id in &selection.task {
        if !tasks.iter().any(|t| &t.task_id == id) {
            tasks.push(catalog.task(id)?);
        }
    }
    Ok(tasks)
}
