//! Grading one submission: a fresh judge container, the archive sanitised on the host and copied
//! into `cwd`, `eval.sh` run under a deadline, the output parsed, the container removed.
//! Failures of the harness itself are [`JudgeError`]s, never a zero score.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use super::archive::{sanitize, Limits, Rules};
use super::container::{judge_container, JudgeLimits};
use super::error::JudgeError;
use super::grading::{self, Report};
use crate::clock::epoch_seconds;
use crate::config::{Backend, Settings};
use crate::image::Docker;
use crate::process::Runner;
use crate::run_log::RunLog;
use crate::sandbox::{single_file_tar, ExecSpec, Sandbox, SandboxError};
use crate::task::Task;
use crate::templates;

/// What grading needs from its surroundings.
pub struct Judge {
    pub settings: Settings,
    pub benchmark: String,
    pub sandbox: Arc<dyn Sandbox>,
    /// For image queries.
    pub runner: Arc<dyn Runner>,
    pub owner: String,
    pub archive_limits: Limits,
}

/// One submission to grade.
pub struct Submission<'a> {
    pub task: &'a Task,
    pub run_id: &'a str,
    pub submission_id: &'a str,
    pub round: &'a str,
    /// The uploaded archive (`.tar.gz`; empty file = no changes).
    pub archive: &'a Path,
    /// Overrides the task's `eval_timeout` (seconds).
    pub timeout: Option<u64>,
    pub limits: JudgeLimits,
}

impl Judge {
    /// Grading with judge containers on the local Docker engine (the docker client of the
    /// settings), default archive limits.
    #[must_use]
    pub fn docker(settings: &Settings, benchmark: &str, owner: &str) -> Self {
        let runner: Arc<dyn Runner> = crate::process::runner(false);
        Judge {
            settings: settings.clone(),
            benchmark: benchmark.to_owned(),
            sandbox: Arc::new(crate::sandbox::DockerSandbox::new(
                Arc::clone(&runner),
                settings.docker.value.clone(),
            )),
            runner,
            owner: owner.to_owned(),
            archive_limits: Limits::default(),
        }
    }

    /// Grading with judge containers on the configured backend (Docker or k8s), default
    /// archive limits.
    #[must_use]
    pub fn from_settings(settings: &Settings, benchmark: &str, owner: &str) -> Self {
        let runner: Arc<dyn Runner> = crate::process::runner(false);
        Judge {
            settings: settings.clone(),
            benchmark: benchmark.to_owned(),
            sandbox: crate::sandbox::sandbox_for(settings, Arc::clone(&runner)),
            runner,
            owner: owner.to_owned(),
            archive_limits: Limits::default(),
        }
    }

    /// `<log_dir>/runs/<run>/<task>/submissions/`.
    #[must_use]
    pub fn submissions_dir(&self, run_id: &str, task_id: &str) -> PathBuf {
        self.settings
            .log_dir
            .value
            .join("runs")
            .join(run_id)
            .join(task_id)
            .join("submissions")
    }

    /// `<log_dir>/runs/<run>/<task>/submissions/<round>/`.
    #[must_use]
    pub fn submission_dir(&self, run_id: &str, task_id: &str, round: &str) -> PathBuf {
        self.settings
            .log_dir
            .value
            .join("runs")
            .join(run_id)
            .join(task_id)
            .join("submissions")
            .join(round)
    }

    /// Grade `sub`; `echo` receives the evaluation output as it arrives.
    pub fn grade(
        &self,
        sub: &Submission<'_>,
        echo: &mut dyn FnMut(&str),
    ) -> Result<Report, JudgeError> {
        let dir = self.submission_dir(sub.run_id, &sub.task.task_id, sub.round);
        fs::create_dir_all(&dir).map_err(|source| JudgeError::CreateDir {
            path: dir.clone(),
            source,
        })?;
        let log = RunLog::append(&dir.join("run_instance.log"));
        log.line(&format!(
            "grading {} of task {} (run {})",
            sub.round, sub.task.task_id, sub.run_id
        ));
        // Images are provisioned before grading (`super::provision`). On k8s the cluster pulls
        // the image from the registry; a missing one fails the pod start fast (ErrImagePull).
        if self.settings.backend.value == Backend::Docker {
            self.check_image(sub.task)?;
        }
        let name =
            super::container::container_name(&self.benchmark, &sub.task.task_id, sub.submission_id);
        let result = self.grade_in_container(sub, &dir, &name, &log, echo);
        if let Err(e) = self.sandbox.remove(&name) {
            log.line(&format!("warning: {e}"));
        }
        log.line(&match &result {
            Ok(r) => format!(
                "done: {} ({} passed of {})",
                r.summary.as_deref().unwrap_or(""),
                r.passed,
                r.total_tests
            ),
            Err(e) => format!("error: {e}"),
        });
        result
    }

    /// The task's judge image must be on the local engine.
    fn check_image(&self, task: &Task) -> Result<(), JudgeError> {
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

    fn grade_in_container(
        &self,
        sub: &Submission<'_>,
        dir: &Path,
        name: &str,
        log: &RunLog,
        echo: &mut dyn FnMut(&str),
    ) -> Result<Report, JudgeError> {
        let task = sub.task;
        let rules = Rules {
            submit_paths: &task.submit_paths,
            submit_exclude: &task.submit_exclude,
        };
        let archive = fs::File::open(sub.archive).map_err(JudgeError::ReadArchive)?;
        let _ = fs::copy(sub.archive, dir.join("submission.tar.gz"));
        let sanitized = match sanitize(archive, &rules, &self.archive_limits) {
            Ok(s) => s,
            // A malformed or oversized archive is the submitter's problem: graded, invalid.
            Err(e) => return Ok(rejected(sub, dir, &e.to_string())),
        };
        for (entry, reason) in sanitized.rejected.iter().take(20) {
            // Names the agent chose: escaped, so they cannot forge or hide log lines.
            log.line(&format!("rejected {entry:?}: {reason}"));
        }
        let _ = fs::write(dir.join("allowed_files.txt"), sanitized.accepted.join("\n"));
        let spec = judge_container(
            &self.settings,
            &self.benchmark,
            task,
            sub.run_id,
            sub.submission_id,
            &sub.limits,
            &self.owner,
        );
        retry_once(log, "start the judge container", || {
            let _ = self.sandbox.remove(name);
            self.sandbox.start(&spec)
        })?;
        if !sanitized.accepted.is_empty() {
            let tar = sanitized.tar;
            retry_once(log, "copy the submission", || {
                self.sandbox.copy_in(name, &task.cwd, tar.clone())
            })?;
        }
        let script = templates::render(
            "eval.sh",
            minijinja::context! { task_id => task.task_id, eval_cmd => task.judge.eval_cmd },
        )
        .map_err(JudgeError::Template)?;
        let _ = fs::write(dir.join("eval.sh"), &script);
        retry_once(log, "copy eval.sh", || {
            self.sandbox.copy_in(
                name,
                "/tmp",
                single_file_tar("eval.sh", script.as_bytes(), 0o755, (0, 0)),
            )
        })?;
        let timeout = sub.timeout.unwrap_or(task.judge.eval_timeout);
        let exec = ExecSpec {
            argv: vec!["/bin/bash".into(), "/tmp/eval.sh".into()],
            user: Some("root".into()),
            workdir: Some(task.cwd.clone()),
            timeout: Some(Duration::from_secs(timeout)),
            ..ExecSpec::default()
        };
        let submitted_at = epoch_seconds();
        let mut raw = String::new();
        let result = self
            .sandbox
            .exec(name, &exec, &mut |line| {
                raw.push_str(line);
                raw.push('\n');
                echo(line);
            })
            .map_err(|e| JudgeError::Evaluate(Box::new(e)))?;
        if result.timed_out {
            log.line(&format!(
                "evaluation timed out after {timeout}s; grading the partial output"
            ));
        }
        let _ = fs::write(dir.join("test_output.txt"), &raw);
        let mut report = grading::grade(
            &task.judge.parser,
            &raw,
            &task.task_id,
            sub.submission_id,
            result.timed_out,
            result.elapsed.as_secs_f64(),
        )
        .map_err(JudgeError::Grade)?;
        report.submitted_at = Some(submitted_at);
        finish(task, dir, report)
    }
}

/// A graded, invalid report for an archive that was refused as a whole.
fn rejected(sub: &Submission<'_>, dir: &Path, reason: &str) -> Report {
    let mut report = grading::rejected(
        &sub.task.task_id,
        sub.submission_id,
        &format!("{}{reason}", grading::REJECTED_PREFIX),
    );
    report.submitted_at = Some(epoch_seconds());
    finish(sub.task, dir, report.clone()).unwrap_or(report)
}

/// Rescale, write `report.json`.
fn finish(task: &Task, dir: &Path, mut report: Report) -> Result<Report, JudgeError> {
    if let Some(spec) = &task.judge.rescale {
        report.score_0_100 = grading::rescale(spec, report.score).map_err(JudgeError::Rescale)?;
    }
    let json = serde_json::to_string_pretty(&report).map_err(JudgeError::Encode)?;
    fs::write(dir.join("report.json"), json + "\n").map_err(JudgeError::WriteReport)?;
    Ok(report)
}

/// Run `op`; on failure log it and try once more (for steps that are safe to repeat).
fn retry_once<T>(
    log: &RunLog,
    what: &'static str,
    mut op: impl FnMut() -> Result<T, SandboxError>,
) -> Result<T, JudgeError> {
    match op() {
        Ok(v) => Ok(v),
        Err(first) => {
            log.line(&format!("cannot {what} ({first}); retrying once"));
            op().map_err(|source| JudgeError::Sandbox {
                what,
                source: Box::new(source),
            })
        }
    }
}
