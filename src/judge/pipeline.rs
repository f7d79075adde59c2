//! Grading one submission: a fresh judge container, the archive sanitised on the host and copied
//! into `cwd`, `eval.sh` run under a deadline, the output parsed, the container removed.
//! Failures of the harness itself are [`JudgeError`]s, never a zero score.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use super::archive::{sanitize_in, Limits, Rules};
use super::container::{judge_container, JudgeLimits};
use super::error::JudgeError;
use super::grading::{self, GradingOutput, Report};
use super::pool::JudgePool;
use super::steps::{
    eval_exec, eval_script, eval_warmup, finish, is_clash, rejected, Evaluation, Prepared, Used,
    NO_TAR, UNPACK_FAILED, WARM,
};
use crate::clock::epoch_seconds;
use crate::config::Settings;
use crate::process::Runner;
use crate::run_log::RunLog;
use crate::sandbox::{ContainerSpec, ExecSpec, Sandbox};
use crate::task::Task;

/// What grading needs from its surroundings.
pub struct Judge {
    pub settings: Settings,
    pub benchmark: String,
    pub sandbox: Arc<dyn Sandbox>,
    /// For image queries.
    pub runner: Arc<dyn Runner>,
    pub owner: String,
    pub archive_limits: Limits,
    /// Warm judge containers, and the background removal of used ones.
    pub pool: Arc<JudgePool>,
    /// Judge images found without `tar`: their gradings copy the files in from the start
    /// instead of trying the stream first (docs/security.md#archives).
    pub no_tar: Mutex<HashSet<String>>,
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
    /// Where the report and the grading's files go (default: the round's directory).
    pub dir: Option<PathBuf>,
}

impl Judge {
    /// Grading with judge containers on the local Docker engine (the docker client of the
    /// settings), default archive limits.
    #[must_use]
    pub fn docker(settings: &Settings, benchmark: &str, owner: &str) -> Self {
        let runner: Arc<dyn Runner> = crate::process::runner(false);
        let sandbox: Arc<dyn Sandbox> = Arc::new(crate::sandbox::DockerSandbox::new(
            Arc::clone(&runner),
            settings.docker.value.clone(),
        ));
        Judge {
            settings: settings.clone(),
            benchmark: benchmark.to_owned(),
            pool: Arc::new(JudgePool::new(Arc::clone(&sandbox), 0)),
            sandbox,
            runner,
            owner: owner.to_owned(),
            archive_limits: Limits::default(),
            no_tar: Mutex::default(),
        }
    }

    /// Grading with judge containers on the configured backend (Docker or k8s), default
    /// archive limits.
    #[must_use]
    pub fn from_settings(settings: &Settings, benchmark: &str, owner: &str) -> Self {
        Self::with_runner(settings, benchmark, owner, crate::process::runner(false))
    }

    /// [`Judge::from_settings`] whose commands go through `runner` (a plan runner for
    /// `--dry-run`).
    #[must_use]
    pub fn with_runner(
        settings: &Settings,
        benchmark: &str,
        owner: &str,
        runner: Arc<dyn Runner>,
    ) -> Self {
        let sandbox = crate::sandbox::sandbox_for(settings, Arc::clone(&runner));
        Judge {
            settings: settings.clone(),
            benchmark: benchmark.to_owned(),
            pool: Arc::new(JudgePool::new(Arc::clone(&sandbox), 0)),
            sandbox,
            runner,
            owner: owner.to_owned(),
            archive_limits: Limits::default(),
            no_tar: Mutex::default(),
        }
    }

    /// This judge keeping `size` warm judge containers per run, task and limits.
    #[must_use]
    pub fn with_pool(mut self, size: usize) -> Self {
        self.pool = Arc::new(JudgePool::new(Arc::clone(&self.sandbox), size));
        self
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
        let dir = sub
            .dir
            .clone()
            .unwrap_or_else(|| self.submission_dir(sub.run_id, &sub.task.task_id, sub.round));
        fs::create_dir_all(&dir).map_err(|source| JudgeError::CreateDir {
            path: dir.clone(),
            source,
        })?;
        let log = RunLog::append(&dir.join("run_instance.log"));
        log.line(&format!(
            "grading {} of task {} (run {})",
            sub.round, sub.task.task_id, sub.run_id
        ));
        let mut used = Used::default();
        let grading = self.pool.grading();
        let result = self.grade_in_container(sub, &dir, &log, &mut used, echo);
        drop(grading);
        if let Some(Ok(Err(e))) = used.renaming.take().map(std::thread::JoinHandle::join) {
            log.line(&format!("the judge container keeps its pool name: {e}"));
        }
        if let Some(name) = used.container {
            // Removed in the background: the report does not wait for it.
            self.pool.discard(name);
        }
        if let Some((spec, warmup)) = used.refill {
            // Topped up once the grading is done, so that it does not compete with it.
            self.pool.warm(&spec, &warmup);
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

    /// Keep judge containers for `task`'s submissions from `run_id` ready in the pool (a run
    /// registered: its first submission should not wait for a container).
    pub fn warm(&self, task: &Task, run_id: &str, limits: &JudgeLimits) -> Result<(), JudgeError> {
        if self.pool.size() == 0 {
            return Ok(());
        }
        let spec = self.pooled(&self.spec(task, run_id, WARM, limits));
        self.pool.warm(&spec, &eval_warmup(&eval_script(task)?));
        Ok(())
    }

    pub(super) fn spec(
        &self,
        task: &Task,
        run_id: &str,
        id: &str,
        limits: &JudgeLimits,
    ) -> ContainerSpec {
        judge_container(
            &self.settings,
            &self.benchmark,
            task,
            run_id,
            id,
            limits,
            &self.owner,
        )
    }

    fn grade_in_container(
        &self,
        sub: &Submission<'_>,
        dir: &Path,
        log: &RunLog,
        used: &mut Used,
        echo: &mut dyn FnMut(&str),
    ) -> Result<Report, JudgeError> {
        let task = sub.task;
        let rules = Rules {
            submit_paths: &task.submit_paths,
            submit_exclude: &task.submit_exclude,
        };
        let archive = fs::File::open(sub.archive).map_err(JudgeError::ReadArchive)?;
        let kept = dir.join("submission.tar.gz");
        if sub.archive != kept {
            let _ = fs::hard_link(sub.archive, &kept)
                .or_else(|_| fs::copy(sub.archive, &kept).map(drop));
        }
        let sanitized = match sanitize_in(archive, &rules, &self.archive_limits, dir) {
            Ok(s) => s,
            // A malformed or oversized archive is the submitter's problem: graded, invalid.
            Err(e) => {
                return Ok(rejected(task, sub.submission_id, dir, &e.to_string()));
            }
        };
        for (entry, reason) in sanitized.rejected.iter().take(20) {
            // Names the agent chose: escaped, so they cannot forge or hide log lines.
            log.line(&format!("rejected {entry:?}: {reason}"));
        }
        let _ = fs::write(dir.join("allowed_files.txt"), sanitized.accepted.join("\n"));
        let script = eval_script(task)?;
        let _ = fs::write(dir.join("eval.sh"), &script);
        let spec = self.spec(task, sub.run_id, sub.submission_id, &sub.limits);
        let prepared = Prepared {
            spec: &spec,
            warmup: eval_warmup(&script),
            submission: (!sanitized.accepted.is_empty()).then(|| sanitized.tar.path()),
            cwd: &task.cwd,
        };
        let timeout = sub.timeout.unwrap_or(task.judge.eval_timeout);
        let submitted_at = epoch_seconds();
        let evaluation = match self.evaluate_submission(&prepared, sub, dir, log, used, echo)? {
            Ok(evaluation) => evaluation,
            Err(refused) => return Ok(refused),
        };
        drop(sanitized);
        let Evaluation {
            result,
            output,
            started,
        } = evaluation;
        if self.pool.is_closed() || result.output.status.signal.is_some() {
            // Cut short by a shutdown or a signal (Ctrl-C reaches the exec client too): what
            // arrived is not the evaluation's output, and no report is written.
            return Err(JudgeError::Stopping);
        }
        if !started {
            // eval.sh prints its start marker before any submitted code runs: without it the
            // evaluation never ran (the container was gone), which is the harness's failure.
            let (raw, _) = output.finish();
            return Err(JudgeError::NeverStarted(
                raw.chars().take(500).collect::<String>(),
            ));
        }
        if result.timed_out {
            log.line(&format!(
                "evaluation timed out after {timeout}s; grading the partial output"
            ));
        }
        let (raw, cut) = output.finish();
        if cut > 0 {
            log.line(&format!(
                "the evaluation printed too much: {cut} bytes cut from the middle of its output"
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
        report.output_bytes_cut = cut;
        report.submitted_at = Some(submitted_at);
        finish(task, dir, report)
    }

    /// Runs `eval.sh` for `sub` in a judge container of `p`'s, the submission delivered: the
    /// evaluation, or the report refusing a submission the judge could not unpack. A container
    /// that could not run the evaluation is replaced once by a fresh one with the files copied.
    fn evaluate_submission(
        &self,
        p: &Prepared<'_>,
        sub: &Submission<'_>,
        dir: &Path,
        log: &RunLog,
        used: &mut Used,
        echo: &mut dyn FnMut(&str),
    ) -> Result<Result<Evaluation, Report>, JudgeError> {
        let task = sub.task;
        let exec = eval_exec(task, sub.timeout);
        let (name, warm, delivery) = self.acquire(p, task, log, used, true)?;
        let mut evaluation = self.evaluate(&name, &delivery.apply(&exec, &task.cwd), echo)?;
        let status = &evaluation.result.output.status;
        // Cut short (a signal, the deadline, a shutdown): neither the agent's fault nor worth
        // a second container.
        let cut_short =
            status.signal.is_some() || evaluation.result.timed_out || self.pool.is_closed();
        if evaluation.started || cut_short {
            return Ok(Ok(evaluation));
        }
        let unpack_failed = status.code == Some(UNPACK_FAILED) && delivery.submission.is_some();
        let (said, _) = std::mem::take(&mut evaluation.output).finish();
        if unpack_failed && is_clash(&said) {
            let reason = format!(
                "the judge could not unpack it in {}: {}",
                task.cwd,
                first_line(&said)
            );
            return Ok(Err(rejected(task, sub.submission_id, dir, &reason)));
        }
        if status.code == Some(NO_TAR) && delivery.submission.is_some() {
            self.no_tar
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(p.spec.image.clone());
        }
        if warm || !delivery.is_empty() {
            // Escaped: before the start marker the output may hold names from the archive.
            log.line(&format!(
                "the judge container could not run the evaluation ({:?}); using a fresh one, \
                 the files copied in",
                first_line(&said)
            ));
            self.release(used);
            let (name, _, delivery) = self.acquire(p, task, log, used, false)?;
            evaluation = self.evaluate(&name, &delivery.apply(&exec, &task.cwd), echo)?;
        }
        Ok(Ok(evaluation))
    }

    /// Run `eval.sh` in container `name`.
    fn evaluate(
        &self,
        name: &str,
        exec: &ExecSpec,
        echo: &mut dyn FnMut(&str),
    ) -> Result<Evaluation, JudgeError> {
        let mut output = GradingOutput::default();
        let mut started = false;
        let result = self
            .sandbox
            .exec(name, exec, &mut |line| {
                started |= line.trim_end() == grading::START_MARKER;
                output.push_line(line);
                echo(line);
            })
            .map_err(|e| JudgeError::Evaluate(Box::new(e)))?;
        Ok(Evaluation {
            result,
            output,
            started,
        })
    }
}

/// The first line of what an evaluation printed, at most 200 characters.
fn first_line(said: &str) -> String {
    said.lines()
        .next()
        .unwrap_or("")
        .chars()
        .take(200)
        .collect()
}
