//! `sforge render`: every generated file of a task written to a directory, and the docker
//! commands that would build its images printed as a shell script. Needs no Docker daemon.

use std::fmt::Write as _;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context as _;

use std::net::Ipv4Addr;

use crate::cli::RenderArgs;
use crate::config::{Backend, Settings};
use crate::image::{base_spec, task_spec, BuildSpec, Docker, Role};
use crate::judge::{judge_container, JudgeLimits};
use crate::process::{script_text, SCRIPT_HEADER};
use crate::sandbox::k8s::{isolation_policy, objects, pod_labels, pod_name, yaml_of, K8sConfig};
use crate::sandbox::{labels, ContainerSpec, Role as PodRole};
use crate::task::{Catalog, Task};

/// The run id shown in rendered k8s objects.
const EXAMPLE_RUN: &str = "RUN_ID";

pub fn render(settings: &Settings, args: &RenderArgs, out: &mut dyn Write) -> anyhow::Result<()> {
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
    if settings.backend.value == Backend::K8s {
        let dir = args.output.join("k8s");
        write_k8s(settings, &catalog.benchmark.name, &task, &dir)?;
        let _ = writeln!(
            script,
            "# Kubernetes objects of the task (secrets shown as ***): {}",
            dir.display()
        );
    }
    out.write_all(script.as_bytes())?;
    Ok(())
}

/// The Work and Judge pods (and the Work Secret, redacted) as `sforge run`/`serve` would create
/// them, the judge's walls, plus an example isolation policy for tasks without internet.
fn write_k8s(settings: &Settings, bench: &str, task: &Task, dir: &Path) -> anyhow::Result<()> {
    let config = K8sConfig::from_settings(settings);
    let owner = crate::owner::current_owner();
    let work = ContainerSpec {
        name: format!("sforge.run.{}.{EXAMPLE_RUN}", task.task_id),
        image: task.images.work.to_string(),
        labels: labels(EXAMPLE_RUN, &task.task_id, PodRole::Work, &owner),
        env: vec![
            (
                "SFORGE_JUDGE_URL".to_owned(),
                settings.judge_url.value.clone(),
            ),
            ("SFORGE_TOKEN".to_owned(), "per-run token".to_owned()),
        ],
        user: Some("root".to_owned()),
        cpu_limit: settings.work_cpu_limit.value.or(task.work.cpu_limit),
        mem_limit: settings
            .work_mem_limit
            .value
            .clone()
            .or_else(|| task.work.mem_limit.clone()),
        cap_drop: if task.internet {
            Vec::new()
        } else {
            vec!["NET_RAW".to_owned()]
        },
        ..ContainerSpec::default()
    };
    let limits = JudgeLimits {
        cpu: settings.judge_cpu_limit.value,
        mem: settings.judge_mem_limit.value.clone(),
        internet: None,
    };
    let judge = judge_container(
        settings,
        bench,
        task,
        EXAMPLE_RUN,
        "SUBMISSION",
        &limits,
        &owner,
    );
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let write = |name: &str, text: String| {
        let path = dir.join(name);
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))
    };
    for (role, spec) in [("work", &work), ("judge", &judge)] {
        let objects = objects(spec, &config).with_context(|| format!("{role} pod"))?;
        write(&format!("{role}-pod.yaml"), yaml_of(&objects.pod))?;
        if let Some(secret) = objects.secret {
            write(&format!("{role}-secret.yaml"), yaml_of(&secret.redacted()))?;
        }
        if let Some(policy) = objects.policy {
            write(&format!("{role}-policy.yaml"), yaml_of(&policy))?;
        }
    }
    if !task.internet {
        let pod = pod_name(&work.name);
        let endpoints = [
            (Ipv4Addr::new(192, 0, 2, 10), 8080),
            (Ipv4Addr::new(192, 0, 2, 20), 443),
        ];
        let policy = isolation_policy(&pod, &pod_labels(&work.labels, &pod), &endpoints, &config);
        let header =
            "# Example: a run allows the judge and API addresses it resolves (192.0.2.x here).\n";
        write("work-policy.yaml", format!("{header}{}", yaml_of(&policy)))?;
    }
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
