//! `sforge render`: every generated file of a task written to a directory, and the docker
//! commands that would build its images printed as a shell script. Needs no Docker daemon.

use std::fmt::Write as _;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context as _;

use crate::cli::RenderArgs;
use crate::config::Settings;
use crate::image::{base_spec, task_spec, BuildSpec, Docker, Role};
use crate::process::{script_text, SCRIPT_HEADER};
use crate::task::Catalog;

pub fn run(settings: &Settings, args: &RenderArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let catalog = Catalog::open(&settings.tasks_dir.value)?;
    let task = catalog.task(&args.task)?;
    let base = catalog
        .benchmark
        .base(&task.base_image)
        .context("the task's base image is not in BENCHMARK.yaml")?;
    let mut specs = vec![base_spec(settings, base, &task)?];
    for role in [Role::Work, Role::Judge] {
        specs.extend(task_spec(settings, &task, role)?);
    }
    let docker = Docker::new(&settings.docker.value);
    let mut script = String::from(SCRIPT_HEADER);
    let _ = writeln!(
        script,
        "# Images of task {} (base first), rendered by sforge.",
        task.task_id
    );
    for spec in &specs {
        let dir = args.output.join(spec.role.as_str());
        write_files(spec, &dir)?;
        let secret_files: Vec<(String, PathBuf)> = spec
            .secrets
            .iter()
            .map(|(id, _)| (id.clone(), dir.join(format!(".secret_{id}"))))
            .collect();
        if !secret_files.is_empty() {
            script.push_str("# BuildKit reads the git credentials from these files: create them (mode 600) first.\n");
        }
        script.push_str(&script_text(&docker.build(
            spec,
            &dir,
            false,
            &secret_files,
        )));
    }
    if task.work.image.setup_cmds.is_none() {
        let _ = writeln!(
            script,
            "# {} has no setup_cmds: pull it (sforge pull --task {}).",
            task.images.work, task.task_id
        );
    }
    out.write_all(script.as_bytes())?;
    Ok(())
}

fn write_files(spec: &BuildSpec, dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    for (name, text) in &spec.files {
        let path = dir.join(name);
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}
