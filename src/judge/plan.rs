//! `sforge eval --dry-run`: what grading a submission would run, as a replayable plan. The
//! archive is checked on the host for real (a refused one is said so); the judge container's
//! commands go through the judge's dry-run runner, the checked archive is kept for the replay.

use std::fs;
use std::path::Path;

use super::archive::{sanitize_in, Rules};
use super::error::JudgeError;
use super::pipeline::{Judge, Submission};
use super::steps::{eval_exec, eval_script, eval_warmup, Prepared, EVAL_DIR};
use crate::sandbox::{single_file_tar, SandboxError};

/// What a plan of one grading came to.
#[derive(Debug)]
pub enum Planned {
    /// The commands were printed.
    Commands,
    /// The judge would refuse the archive (the reason); nothing to run.
    Rejected(String),
}

impl Judge {
    /// Print the grading of `sub` through this judge's runner (a plan runner) as a cold grading
    /// does it: start the judge container, run the evaluation with the checked submission on its
    /// stdin (and `eval.sh` as an argument where the judge streams it; whatever is not streamed
    /// is copied first), remove the container. The checked submission is written to
    /// `plan_dir/submission.tar` for the replay.
    pub fn plan(&self, sub: &Submission<'_>, plan_dir: &Path) -> Result<Planned, JudgeError> {
        let task = sub.task;
        fs::create_dir_all(plan_dir).map_err(|source| JudgeError::CreateDir {
            path: plan_dir.to_owned(),
            source,
        })?;
        let rules = Rules {
            submit_paths: &task.submit_paths,
            submit_exclude: &task.submit_exclude,
        };
        let archive = fs::File::open(sub.archive).map_err(JudgeError::ReadArchive)?;
        let sanitized = match sanitize_in(archive, &rules, &self.archive_limits, plan_dir) {
            Ok(s) => s,
            Err(e) => return Ok(Planned::Rejected(e.to_string())),
        };
        let tar = plan_dir.join("submission.tar");
        sanitized
            .tar
            .persist(&tar)
            .map_err(|e| JudgeError::ReadArchive(e.error))?;
        let script = eval_script(task)?;
        let spec = self.spec(task, sub.run_id, sub.submission_id, &sub.limits);
        let sandbox = |what, r: Result<(), SandboxError>| {
            r.map_err(|source| JudgeError::Sandbox {
                what,
                source: Box::new(source),
            })
        };
        let prepared = Prepared {
            spec: &spec,
            warmup: eval_warmup(&script),
            submission: (!sanitized.accepted.is_empty()).then_some(tar.as_path()),
            cwd: &task.cwd,
        };
        let delivery = self.delivery(&prepared).unwrap_or_default();
        sandbox("start the judge container", self.sandbox.start(&spec))?;
        if delivery.submission.is_none() {
            if let Some(tar) = prepared.submission {
                let copy = self.sandbox.copy_in_file(&spec.name, &task.cwd, tar);
                sandbox("copy the submission", copy)?;
            }
        }
        if delivery.script.is_none() {
            let eval = single_file_tar("eval.sh", script.as_bytes(), 0o755, (0, 0));
            sandbox(
                "copy eval.sh",
                self.sandbox.copy_in(&spec.name, EVAL_DIR, eval),
            )?;
        }
        let exec = delivery.apply(&eval_exec(task, sub.timeout), &task.cwd);
        let ran = self.sandbox.exec(&spec.name, &exec, &mut |_| {}).map(drop);
        sandbox("run the evaluation", ran)?;
        sandbox(
            "remove the judge container",
            self.sandbox.remove(&spec.name),
        )?;
        Ok(Planned::Commands)
    }
}
