//! `build` planning and execution: bases first (once per base image), then work and judge
//! images in a bounded pool; images that exist are skipped after one listing of local images.

use std::collections::{BTreeMap, BTreeSet};

use super::builder::ImageBuilder;
use super::docker::{parse_inspect, ImageDigest};
use super::render::{base_spec, task_spec};
use super::spec::{BuildSpec, Role};
use crate::config::Settings;
use crate::parallel;
use crate::task::{Benchmark, Task};

/// What `build` was asked to do.
#[derive(Debug, Clone, Copy)]
pub struct BuildOptions {
    /// Rebuild work and judge images without cache.
    pub force: bool,
    /// Also rebuild base images without cache.
    pub force_base: bool,
    pub jobs: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Present,
    Built,
    Failed(String),
}

#[derive(Debug, Clone)]
pub struct ImageResult {
    pub image: String,
    pub outcome: Outcome,
}

/// The three images of one task after a build.
#[derive(Debug, Clone)]
pub struct TaskResult {
    pub task_id: String,
    pub base: ImageResult,
    pub work: ImageResult,
    pub judge: ImageResult,
}

impl TaskResult {
    #[must_use]
    pub fn images(&self) -> [(Role, &ImageResult); 3] {
        [
            (Role::Base, &self.base),
            (Role::Work, &self.work),
            (Role::Judge, &self.judge),
        ]
    }

    /// The first failure, if any.
    #[must_use]
    pub fn error(&self) -> Option<&str> {
        self.images()
            .into_iter()
            .find_map(|(_, r)| match &r.outcome {
                Outcome::Failed(e) => Some(e.as_str()),
                _ => None,
            })
    }
}

/// Progress of a build, for the console.
pub trait BuildEvents: Sync {
    /// A stage starts: 1 = base images, 2 = work and judge images.
    fn stage(&self, _stage: u8) {}
    /// One line of build output (secrets already masked).
    fn line(&self, _line: &str) {}
    /// An image's build starts (images that need no build get only [`BuildEvents::image_done`]).
    fn image_started(&self, _image: &str) {}
    /// An image is done: built, present or failed.
    fn image_done(&self, _image: &str, _outcome: &Outcome) {}
}

/// Reports nothing.
pub struct Quiet;
impl BuildEvents for Quiet {}

/// One image to consider: its name and how to build it.
struct Job {
    image: String,
    /// `Err` when it cannot be built (the reason); such an image is fine if it exists.
    spec: Result<BuildSpec, Unbuildable>,
    no_cache: bool,
}

/// Why an image cannot be built here.
#[derive(Debug, thiserror::Error)]
pub enum Unbuildable {
    #[error(transparent)]
    Render(#[from] minijinja::Error),
    #[error("base image key {0:?} is not in BENCHMARK.yaml")]
    UnknownBase(String),
    #[error(
        "image {image} is not available locally and task '{task}' has no {role}.setup_cmds to build it; \
         pull it first: sforge pull --task {task}"
    )]
    NoSetup {
        image: String,
        task: String,
        role: Role,
    },
    #[error("its base image {0} failed to build")]
    BaseFailed(String),
}

/// Build what is missing (or forced) for `tasks`; `local` is the set of local image names.
pub fn build_tasks(
    builder: &ImageBuilder<'_>,
    settings: &Settings,
    benchmark: &Benchmark,
    tasks: &[Task],
    local: &BTreeSet<String>,
    opts: BuildOptions,
    events: &dyn BuildEvents,
) -> Vec<TaskResult> {
    // Stage 1: each distinct base image once, whichever task names it first.
    let mut bases: BTreeMap<String, Job> = BTreeMap::new();
    for task in tasks {
        let image = task.images.base.to_string();
        bases.entry(image.clone()).or_insert_with(|| Job {
            spec: match benchmark.base(&task.base_image) {
                Some(base) => base_spec(settings, base, task).map_err(Unbuildable::from),
                None => Err(Unbuildable::UnknownBase(task.base_image.clone())),
            },
            no_cache: opts.force_base,
            image,
        });
    }
    events.stage(1);
    let base_jobs: Vec<&Job> = bases.values().collect();
    let base_outcomes = run_jobs(
        builder,
        &base_jobs,
        local,
        opts.force_base,
        opts.jobs,
        events,
    );
    let base_outcome: BTreeMap<&str, &Outcome> = base_jobs
        .iter()
        .map(|j| j.image.as_str())
        .zip(&base_outcomes)
        .collect();

    // Stage 2: work and judge images of every task.
    events.stage(2);
    let mut jobs = Vec::new();
    for task in tasks {
        for role in [Role::Work, Role::Judge] {
            jobs.push(task_job(
                settings,
                task,
                role,
                opts.force,
                base_outcome[task.images.base.to_string().as_str()],
            ));
        }
    }
    let job_refs: Vec<&Job> = jobs.iter().collect();
    let outcomes = run_jobs(builder, &job_refs, local, opts.force, opts.jobs, events);
    let mut outcomes = outcomes.into_iter();
    tasks
        .iter()
        .map(|task| {
            let base = task.images.base.to_string();
            TaskResult {
                task_id: task.task_id.clone(),
                base: ImageResult {
                    outcome: base_outcome[base.as_str()].clone(),
                    image: base,
                },
                work: ImageResult {
                    image: task.images.work.to_string(),
                    outcome: outcomes.next().unwrap_or(Outcome::Present),
                },
                judge: ImageResult {
                    image: task.images.judge.to_string(),
                    outcome: outcomes.next().unwrap_or(Outcome::Present),
                },
            }
        })
        .collect()
}

fn task_job(settings: &Settings, task: &Task, role: Role, force: bool, base: &Outcome) -> Job {
    let image = match role {
        Role::Work => task.images.work.to_string(),
        _ => task.images.judge.to_string(),
    };
    let spec = match task_spec(settings, task, role) {
        Err(e) => Err(Unbuildable::Render(e)),
        Ok(None) => Err(Unbuildable::NoSetup {
            image: image.clone(),
            task: task.task_id.clone(),
            role,
        }),
        Ok(Some(_)) if matches!(base, Outcome::Failed(_)) => {
            Err(Unbuildable::BaseFailed(task.images.base.to_string()))
        }
        Ok(Some(spec)) => Ok(spec),
    };
    Job {
        image,
        spec,
        no_cache: force,
    }
}

/// Decide and run: present images are skipped unless forced (images that cannot be built are
/// never forced), the rest are built in a pool of `jobs`.
fn run_jobs(
    builder: &ImageBuilder<'_>,
    jobs: &[&Job],
    local: &BTreeSet<String>,
    force: bool,
    parallelism: usize,
    events: &dyn BuildEvents,
) -> Vec<Outcome> {
    let buildkit_needed = jobs.iter().any(|j| {
        needs_build(j, local, force) && j.spec.as_ref().is_ok_and(|s| !s.secrets.is_empty())
    });
    let buildkit = if buildkit_needed {
        builder.check_buildkit()
    } else {
        Ok(())
    };
    parallel::map(jobs, parallelism, |job| {
        let outcome = run_job(builder, job, local, force, &buildkit, events);
        events.image_done(&job.image, &outcome);
        outcome
    })
}

fn run_job(
    builder: &ImageBuilder<'_>,
    job: &Job,
    local: &BTreeSet<String>,
    force: bool,
    buildkit: &Result<(), super::NoBuildKit>,
    events: &dyn BuildEvents,
) -> Outcome {
    if !needs_build(job, local, force) {
        return Outcome::Present;
    }
    match &job.spec {
        Err(e) => Outcome::Failed(e.to_string()),
        Ok(spec) => {
            if let (false, Err(e)) = (spec.secrets.is_empty(), buildkit) {
                return Outcome::Failed(e.to_string());
            }
            events.image_started(&job.image);
            let tagged = |line: &str| events.line(&format!("[{}] {line}", spec.role));
            match builder.build(spec, job.no_cache, &tagged) {
                Ok(()) => Outcome::Built,
                Err(e) => Outcome::Failed(e.to_string()),
            }
        }
    }
}

fn needs_build(job: &Job, local: &BTreeSet<String>, force: bool) -> bool {
    !local.contains(&job.image) || (force && job.spec.is_ok())
}

/// IDs and registry digests of local images (one `docker image inspect` call), for run records.
pub fn image_digests(
    builder: &ImageBuilder<'_>,
    images: &[&str],
) -> Result<Vec<ImageDigest>, crate::process::ProcessError> {
    if images.is_empty() {
        return Ok(Vec::new());
    }
    let out = builder
        .runner
        .run_unchecked(&builder.docker.inspect(images))?;
    Ok(parse_inspect(&out.stdout_str(), images))
}

/// Write `image.json` (ID and digests) next to the build log of every image built.
pub fn record_digests(builder: &ImageBuilder<'_>, results: &[TaskResult]) {
    let built: BTreeMap<&str, Role> = results
        .iter()
        .flat_map(TaskResult::images)
        .filter(|(_, r)| r.outcome == Outcome::Built)
        .map(|(role, r)| (r.image.as_str(), role))
        .collect();
    let names: Vec<&str> = built.keys().copied().collect();
    match image_digests(builder, &names) {
        Ok(digests) => {
            for d in digests {
                let role = built[d.image.as_str()];
                let dir = builder
                    .log_dir
                    .join("build_images")
                    .join(role.as_str())
                    .join(d.image.replace(':', "__"));
                let text = serde_json::to_string_pretty(&d).unwrap_or_default();
                if let Err(e) = std::fs::write(dir.join("image.json"), text + "\n") {
                    log::warn!("cannot record the digest of {}: {e}", d.image);
                }
            }
        }
        Err(e) => log::warn!("cannot read the digests of the images built: {e}"),
    }
}
