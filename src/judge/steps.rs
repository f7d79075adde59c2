//! The steps of a grading that need no judge: `eval.sh` and its warm-up form, what a judge
//! container for one submission is made of, the report's last steps (rescale, `report.json`)
//! and the retry of steps that are safe to repeat.

use std::fs;
use std::path::Path;

use super::error::JudgeError;
use super::grading::{self, GradingOutput, Report};
use super::pool::Warmup;
use crate::clock::epoch_seconds;
use crate::run_log::RunLog;
use crate::sandbox::{ContainerSpec, ExecResult, ExecSpec, SandboxError};
use crate::task::Task;
use crate::templates;

/// What running `eval.sh` gave.
pub(super) struct Evaluation {
    pub(super) result: ExecResult,
    pub(super) output: GradingOutput,
    /// `eval.sh` printed its start marker (it ran at all).
    pub(super) started: bool,
}

/// The judge container a grading holds (to remove when it is done), and the pool shape to top
/// up then.
#[derive(Default)]
pub(super) struct Used {
    pub(super) container: Option<String>,
    pub(super) refill: Option<(ContainerSpec, Warmup)>,
    /// The rename of a warm container running beside its evaluation (joined before removal).
    pub(super) renaming: Option<std::thread::JoinHandle<Result<bool, SandboxError>>>,
}

/// Suffix of the names of pooled judge containers (before the process id and a number).
pub(super) const WARM: &str = "warm";

/// Where `eval.sh` goes in the judge container.
pub(super) const EVAL_DIR: &str = "/tmp";

/// What a judge container for one submission is made of.
pub(super) struct Prepared<'a> {
    pub(super) spec: &'a ContainerSpec,
    /// `eval.sh`, for [`EVAL_DIR`].
    pub(super) warmup: Warmup,
    /// The sanitized submission (a tar for `cwd`), unless it is empty.
    pub(super) submission: Option<&'a Path>,
    pub(super) cwd: &'a str,
}

/// The exit status of a delivery whose `tar` could not unpack the submission: its names clash
/// with what the judge image has in `cwd` (a link where a directory with files is), which is
/// the submitter's error, like a name the host already refuses.
pub(super) const UNPACK_FAILED: i32 = 86;
/// An image without `tar` exits 127 before reading anything, as a missing command does.
const NO_TAR_CHECK: &str = "{ command -v tar >/dev/null || exit 127; }";
const UNPACK: &str = r#"{ tar -x -o -f - -C "$1" || exit 86; }"#;

/// Longest `eval.sh` passed to the evaluation as an argument; a longer one is copied.
const MAX_SCRIPT_ARG: usize = 64 << 10;

/// What goes into the judge container with the evaluation itself rather than by a copy before
/// it: one engine round trip for all (docs/architecture.md#the-warm-judge-pool).
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct Delivery<'a> {
    /// The sanitized submission (a tar for `cwd`), unpacked from the exec's stdin.
    pub(super) submission: Option<&'a Path>,
    /// `eval.sh`, written after the submission.
    pub(super) script: Option<&'a Warmup>,
}

impl<'a> Delivery<'a> {
    /// What `p` can stream in: the submission, and `eval.sh` too when `with_script` and it is
    /// small. `None` when the task's `cwd` holds `eval.sh`'s directory: the submission could
    /// replace it, so both are copied, the grader's script last.
    pub(super) fn of(p: &'a Prepared<'_>, with_script: bool) -> Option<Self> {
        if Path::new(&p.warmup.dir).starts_with(p.cwd) {
            return None;
        }
        Some(Delivery {
            submission: p.submission,
            script: (with_script && p.warmup.content.len() <= MAX_SCRIPT_ARG).then_some(&p.warmup),
        })
    }

    /// Nothing to deliver.
    pub(super) fn is_empty(&self) -> bool {
        self.submission.is_none() && self.script.is_none()
    }

    /// `exec` preceded by the delivery: `tar` unpacks the submission from stdin into `cwd` (as
    /// `exec`'s user, root: modes kept, the archive's owners dropped, as `docker cp` does), then
    /// `eval.sh` is written from an argument, then `exec` runs without stdin. An image without
    /// `tar` never prints the start marker: a warm container's grading is then repeated on a
    /// fresh one, which copies.
    pub(super) fn apply(&self, exec: &ExecSpec, cwd: &str) -> ExecSpec {
        if self.is_empty() {
            return exec.clone();
        }
        let mut steps = Vec::new();
        if self.submission.is_some() {
            steps.push(NO_TAR_CHECK);
            steps.push(UNPACK);
        }
        if self.script.is_some() {
            steps.push(r#"printf '%s' "$2" >"$3" && chmod 755 "$3""#);
        }
        steps.push(r#"shift 3 && exec "$@" </dev/null"#);
        let (content, path) = self.script.map_or((String::new(), String::new()), |w| {
            (
                String::from_utf8_lossy(&w.content).into_owned(),
                format!("{}/{}", w.dir.trim_end_matches('/'), w.file),
            )
        });
        let mut argv = vec![
            "/bin/bash".to_owned(),
            "-c".to_owned(),
            steps.join(" && "),
            "sforge-deliver".to_owned(),
            cwd.to_owned(),
            content,
            path,
        ];
        argv.extend(exec.argv.iter().cloned());
        ExecSpec {
            argv,
            stdin: None,
            stdin_file: self.submission.map(Path::to_owned),
            ..exec.clone()
        }
    }
}

/// The task's `eval.sh`.
pub(super) fn eval_script(task: &Task) -> Result<String, JudgeError> {
    templates::render(
        "eval.sh",
        minijinja::context! { task_id => task.task_id, eval_cmd => task.judge.eval_cmd },
    )
    .map_err(JudgeError::Template)
}

pub(super) fn eval_warmup(script: &str) -> Warmup {
    Warmup {
        dir: EVAL_DIR.to_owned(),
        file: "eval.sh".to_owned(),
        content: script.as_bytes().to_vec(),
    }
}

/// A graded, invalid report for an archive that was refused as a whole.
pub(super) fn rejected(task: &Task, submission_id: &str, dir: &Path, reason: &str) -> Report {
    let mut report = grading::rejected(
        &task.task_id,
        submission_id,
        &format!("{}{reason}", grading::REJECTED_PREFIX),
    );
    report.submitted_at = Some(epoch_seconds());
    finish(task, dir, report.clone()).unwrap_or(report)
}

/// Rescale, write `report.json`.
pub(super) fn finish(task: &Task, dir: &Path, mut report: Report) -> Result<Report, JudgeError> {
    if let Some(spec) = &task.judge.rescale {
        report.score_0_100 = grading::rescale(spec, report.score).map_err(JudgeError::Rescale)?;
    }
    let json = serde_json::to_string_pretty(&report).map_err(JudgeError::Encode)?;
    fs::write(dir.join("report.json"), json + "\n").map_err(JudgeError::WriteReport)?;
    Ok(report)
}

/// Run `op`; on failure log it and try once more (for steps that are safe to repeat).
pub(super) fn retry_once<T>(
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::{Cmd, RealRunner, Runner};

    /// Runs a delivered exec with the host's own bash and tar, as the container would.
    fn run_here(spec: &ExecSpec) -> String {
        let mut cmd = Cmd::new(spec.argv[0].clone()).args(spec.argv[1..].iter().cloned());
        if let Some(file) = &spec.stdin_file {
            cmd = cmd.stdin_file(file);
        }
        RealRunner::new()
            .run(&cmd)
            .expect("the delivery runs")
            .stdout_str()
    }

    #[test]
    fn a_delivery_unpacks_the_submission_writes_eval_sh_then_runs_it_without_stdin() {
        let tmp = tempfile::tempdir().unwrap();
        let cwd = tmp.path().join("work dir");
        let scripts = tmp.path().join("scripts");
        std::fs::create_dir_all(&cwd).unwrap();
        std::fs::create_dir_all(&scripts).unwrap();
        let tar_path = tmp.path().join("submission.tar");
        let mut builder = tar::Builder::new(std::fs::File::create(&tar_path).unwrap());
        let body = b"print('hi')\n";
        let mut header = tar::Header::new_gnu();
        header.set_size(body.len() as u64);
        header.set_mode(0o640);
        header.set_cksum();
        builder
            .append_data(&mut header, "pkg/main.py", &body[..])
            .unwrap();
        builder.finish().unwrap();
        drop(builder);
        let warmup = Warmup {
            dir: scripts.to_str().unwrap().to_owned(),
            file: "eval.sh".to_owned(),
            content: b"echo started; cat pkg/main.py; cat; echo \"stdin done\"\n".to_vec(),
        };
        let exec = ExecSpec {
            argv: vec![
                "/bin/bash".into(),
                scripts.join("eval.sh").to_str().unwrap().to_owned(),
            ],
            ..ExecSpec::default()
        };
        let delivery = Delivery {
            submission: Some(&tar_path),
            script: Some(&warmup),
        };
        let cwd_str = cwd.to_str().unwrap();
        let spec = delivery.apply(&exec, cwd_str);
        let mut in_cwd = spec.clone();
        // The container's exec runs in `cwd` (its workdir); here the script cds there itself.
        in_cwd.argv[2] = format!("cd \"$1\" && {}", in_cwd.argv[2]);
        let out = run_here(&in_cwd);
        assert_eq!(out, "started\nprint('hi')\nstdin done");
        let written = std::fs::metadata(scripts.join("eval.sh")).unwrap();
        assert_eq!(
            std::os::unix::fs::PermissionsExt::mode(&written.permissions()) & 0o777,
            0o755
        );
        // Nothing to deliver: the exec as it was; the script alone: no stdin at all.
        assert_eq!(Delivery::default().apply(&exec, cwd_str).argv, exec.argv);
        let script_only = Delivery {
            submission: None,
            script: Some(&warmup),
        }
        .apply(&exec, cwd_str);
        assert!(script_only.stdin_file.is_none());
        assert!(!script_only.argv[2].contains("tar"));
    }
}
