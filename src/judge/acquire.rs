//! How a grading gets its judge container: a warm one from the pool (renamed for the submission
//! while it grades, the submission streamed in with the evaluation), else a fresh one started and
//! filled on the spot (docs/architecture.md#the-warm-judge-pool).

use std::sync::Arc;

use super::container::container_name;
use super::error::JudgeError;
use super::pipeline::Judge;
use super::pool::Pooled;
use super::steps::{retry_once, Delivery, Prepared, Used, WARM};
use crate::config::Backend;
use crate::image::Docker;
use crate::run_log::RunLog;
use crate::sandbox::{ContainerSpec, SandboxError};
use crate::task::Task;

impl Judge {
    /// The task's judge image must be on the local engine.
    pub(super) fn check_image(&self, task: &Task) -> Result<(), JudgeError> {
        let image = task.images.judge.to_string();
        let docker = Docker::new(&self.settings.docker.value);
        match self.runner.run(&docker.inspect(&[&image])) {
            Ok(_) => Ok(()),
            Err(_) => Err(JudgeError::ImageMissing {
                image,
                task: task.task_id.clone(),
            }),
        }
    }

    /// `spec` as the pool keeps it: named `<benchmark>.judge.<task>.warm-…`.
    pub(super) fn pooled(&self, spec: &ContainerSpec) -> ContainerSpec {
        let task = spec.labels.get("sforge.task").map_or("", String::as_str);
        ContainerSpec {
            name: container_name(&self.benchmark, task, WARM),
            ..spec.clone()
        }
    }

    /// A started judge container for the submission, and what of the submission and `eval.sh`
    /// is still to go in with the evaluation (third); its name recorded in `used` as soon as it
    /// exists, and whether it came from the pool. On the `first` try: a warm one when one is
    /// ready and it takes the submission, else a fresh one, and whatever can be streamed in
    /// with the evaluation is; on the second (the first could not run the evaluation): a fresh
    /// one with everything copied in, for images without `tar`. Either way the pool is to be
    /// topped up afterwards.
    pub(super) fn acquire<'q>(
        &self,
        p: &'q Prepared<'_>,
        task: &Task,
        log: &RunLog,
        used: &mut Used,
        first: bool,
    ) -> Result<(String, bool, Delivery<'q>), JudgeError> {
        let pooled = self.pooled(p.spec);
        if let Some(warm) = first.then(|| self.pool.take(&pooled, &p.warmup)).flatten() {
            let warm_name = warm.name.clone();
            match self.adopt(warm, p, used) {
                Ok((name, streamed)) => {
                    log.line(&format!("graded in warm judge container {warm_name}"));
                    used.refill = Some((pooled, p.warmup.clone()));
                    return Ok((name, true, streamed));
                }
                Err(e) => {
                    log.line(&format!(
                        "warm judge container {warm_name} unusable ({e}); starting a fresh one"
                    ));
                    self.release(used);
                }
            }
        }
        // Images are provisioned before grading (`super::provision`). On k8s the cluster pulls
        // the image from the registry; a missing one fails the pod start fast (ErrImagePull).
        if self.settings.backend.value == Backend::Docker {
            self.check_image(task)?;
        }
        let name = p.spec.name.clone();
        // Held while starting: a shutdown waits for it, then removes what was started.
        let Some(_gate) = self.pool.begin_start() else {
            return Err(JudgeError::Stopping);
        };
        used.container = Some(name.clone());
        retry_once(log, "start the judge container", || {
            let _ = self.sandbox.remove(&name);
            self.sandbox.start(p.spec)
        })?;
        used.refill = Some((pooled, p.warmup.clone()));
        let delivery = first
            .then(|| self.delivery(p))
            .flatten()
            .unwrap_or_default();
        if delivery.submission.is_none() {
            if let Some(tar) = p.submission {
                retry_once(log, "copy the submission", || {
                    self.sandbox.copy_in_file(&name, p.cwd, tar)
                })?;
            }
        }
        if delivery.script.is_none() {
            retry_once(log, "copy eval.sh", || {
                self.sandbox.copy_in(&name, &p.warmup.dir, p.warmup.tar())
            })?;
        }
        Ok((name, false, delivery))
    }

    /// What of `p` goes in with the evaluation ([`Delivery::of`]); nothing for an image already
    /// found without `tar`, whose files are copied.
    pub(super) fn delivery<'q>(&self, p: &'q Prepared<'_>) -> Option<Delivery<'q>> {
        let no_tar = self
            .no_tar
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .contains(&p.spec.image);
        if no_tar {
            return None;
        }
        Delivery::of(p, self.streams_script())
    }

    /// Whether `eval.sh` goes in as an argument of the evaluation: on Docker (on Kubernetes the
    /// arguments of `kubectl exec` travel in the URL, where 64 KiB may not fit).
    pub(super) fn streams_script(&self) -> bool {
        self.settings.backend.value == Backend::Docker
    }

    /// Remove the container `used` holds now (after its rename, which could otherwise give a
    /// fresh container's name to it).
    pub(super) fn release(&self, used: &mut Used) {
        if let Some(renaming) = used.renaming.take() {
            let _ = renaming.join();
        }
        if let Some(name) = used.container.take() {
            let _ = self.sandbox.remove(&name);
        }
    }

    /// Make the pooled container `warm` this submission's: its name, and its files — unless they
    /// can go in with the evaluation itself (returned). With an id, the container is renamed
    /// while it grades (the id names it meanwhile), else first.
    fn adopt<'q>(
        &self,
        warm: Pooled,
        p: &'q Prepared<'_>,
        used: &mut Used,
    ) -> Result<(String, Delivery<'q>), SandboxError> {
        let to = p.spec.name.clone();
        let name = if let Some(id) = warm.id {
            let sandbox = Arc::clone(&self.sandbox);
            let from = warm.name;
            used.renaming = Some(std::thread::spawn(move || sandbox.rename(&from, &to)));
            id
        } else {
            used.container = Some(warm.name.clone());
            if self.sandbox.rename(&warm.name, &to)? {
                to
            } else {
                warm.name
            }
        };
        used.container = Some(name.clone());
        // eval.sh is written again after the submission: a symlink of the judge image could
        // lead the unpacking to the warm one.
        if let Some(delivery) = self.delivery(p) {
            return Ok((name, delivery));
        }
        if let Some(tar) = p.submission {
            // The submission may replace the warm eval.sh (a task whose cwd holds it): the
            // grader's own goes in last, as on the cold path.
            self.sandbox.copy_in_file(&name, p.cwd, tar)?;
            self.sandbox.copy_in(&name, &p.warmup.dir, p.warmup.tar())?;
        }
        Ok((name, Delivery::default()))
    }
}
