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

/// The exit status of a delivery whose `tar` could not unpack the submission; the grading
/// decides from tar's complaint whose fault that is ([`is_clash`]).
pub(super) const UNPACK_FAILED: i32 = 86;
/// The exit status of a delivery into a container without `tar`, before reading anything (as a
/// missing command's).
pub(super) const NO_TAR: i32 = 127;
/// Exits [`NO_TAR`] when the image has no `tar`.
const NO_TAR_CHECK: &str = "{ command -v tar >/dev/null || exit 127; }";
/// Unpacks the submission; on failure prints at most five of tar's complaints (not warnings
/// about time stamps, which name the archive's files) and exits [`UNPACK_FAILED`]. Only bash
/// builtins run once the submission is in place: a `PATH` entry inside `cwd` could otherwise
/// run the submission's own programs as root before the grader.
const UNPACK: &str = r#"{ tar -x -o -f - -C "$1" 2>"$4" || { n=0; while [ $n -lt 5 ] && IFS= read -r l; do case $l in *"in the future"*) continue;; esac; printf '%s\n' "$l" >&2; n=$((n+1)); done <"$4"; exit 86; }; }"#;
/// Where tar's complaints go in the judge container (outside `cwd`: [`Delivery::of`]).
const UNPACK_ERRORS: &str = "/tmp/.sforge-unpack";

/// Whether tar's complaint `said` is a clash of the submission's names with the judge image's
/// own files (a file or link where a directory with files is, a directory where a file is): the
/// submitter's error. Anything else — a cut stream, a full disk — is the harness's.
pub(super) fn is_clash(said: &str) -> bool {
    const CLASHES: [&str; 6] = [
        "Is a directory",
        "Not a directory",
        "File exists",
        "Directory not empty",
        "Cannot unlink",
        "can't remove",
    ];
    said.lines()
        .any(|line| CLASHES.iter().any(|clash| line.contains(clash)))
}

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
    /// `exec`'s user, root: modes kept, new files root's, existing directories keep their
    /// owners), then `eval.sh` is written from an argument, then `exec` runs without stdin. An
    /// image without `tar` never prints the start marker: the grading is then repeated on a
    /// fresh container, which copies.
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
            // `printf` is a builtin; bash runs the script as an argument, so no mode is needed.
            steps.push(r#"printf '%s' "$2" >"$3""#);
        }
        steps.push(r#"shift 4 && exec "$@" </dev/null"#);
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
            UNPACK_ERRORS.to_owned(),
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

/// Running `eval.sh` in `task`'s `cwd` as root, under `timeout` seconds (the task's
/// `eval_timeout` when `None`).
pub(super) fn eval_exec(task: &Task, timeout: Option<u64>) -> ExecSpec {
    ExecSpec {
        argv: vec!["/bin/bash".into(), format!("{EVAL_DIR}/eval.sh")],
        user: Some("root".into()),
        workdir: Some(task.cwd.clone()),
        timeout: Some(std::time::Duration::from_secs(
            timeout.unwrap_or(task.judge.eval_timeout),
        )),
        ..ExecSpec::default()
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
    use crate::process::{Cmd, Output, RealRunner, Runner};

    /// Runs a delivered exec in `cwd` with the host's own bash and tar, as the container would,
    /// with `cwd/bin` first on `PATH` (an image whose `PATH` holds a directory of the task's).
    fn run_here(spec: &ExecSpec, cwd: &Path) -> Output {
        let mut argv = spec.argv.clone();
        argv[2] = format!("cd \"$1\" && {}", argv[2]);
        if argv.len() > 7 && argv[7] == UNPACK_ERRORS {
            argv[7] = cwd.with_extension("unpack-errors").display().to_string();
        }
        let path = format!("{}/bin:/usr/sbin:/usr/bin:/sbin:/bin", cwd.display());
        let mut cmd = Cmd::new(argv[0].clone())
            .args(argv[1..].iter().cloned())
            .env("PATH", path);
        if let Some(file) = &spec.stdin_file {
            cmd = cmd.stdin_file(file);
        }
        RealRunner::new()
            .run_unchecked(&cmd)
            .expect("the delivery runs")
    }

    /// A tar file of `(name, body, mode)` entries.
    fn tar_of(path: &Path, entries: &[(&str, &[u8], u32)]) {
        let mut builder = tar::Builder::new(std::fs::File::create(path).unwrap());
        for (name, body, mode) in entries {
            let mut header = tar::Header::new_gnu();
            header.set_size(body.len() as u64);
            header.set_mode(*mode);
            header.set_cksum();
            builder.append_data(&mut header, name, *body).unwrap();
        }
        builder.finish().unwrap();
    }

    struct Setup {
        tmp: tempfile::TempDir,
        warmup: Warmup,
        exec: ExecSpec,
    }

    impl Setup {
        fn new() -> Self {
            let tmp = tempfile::tempdir().unwrap();
            let scripts = tmp.path().join("scripts");
            std::fs::create_dir_all(tmp.path().join("work dir")).unwrap();
            std::fs::create_dir_all(&scripts).unwrap();
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
            Setup { tmp, warmup, exec }
        }

        fn cwd(&self) -> std::path::PathBuf {
            self.tmp.path().join("work dir")
        }

        /// Delivers `entries` with eval.sh and runs it.
        fn deliver(&self, entries: &[(&str, &[u8], u32)]) -> Output {
            let tar_path = self.tmp.path().join("submission.tar");
            tar_of(&tar_path, entries);
            let delivery = Delivery {
                submission: Some(&tar_path),
                script: Some(&self.warmup),
            };
            let cwd = self.cwd();
            run_here(&delivery.apply(&self.exec, cwd.to_str().unwrap()), &cwd)
        }
    }

    #[test]
    fn a_delivery_unpacks_the_submission_writes_eval_sh_then_runs_it_without_stdin() {
        let setup = Setup::new();
        // Programs the unpacking could find on PATH afterwards: none of them may run.
        let trap: &[u8] = b"#!/bin/sh\ntouch \"$(dirname \"$0\")/../pwned\"\n";
        let mut entries: Vec<(&str, &[u8], u32)> = vec![("pkg/main.py", b"print('hi')\n", 0o640)];
        for name in ["bin/chmod", "bin/printf", "bin/rm", "bin/tail", "bin/head"] {
            entries.push((name, trap, 0o755));
        }
        let out = setup.deliver(&entries);
        assert_eq!(out.status.code, Some(0), "{}", out.stderr_str());
        assert_eq!(out.stdout_str(), "started\nprint('hi')\nstdin done");
        assert!(
            !setup.cwd().join("pwned").exists(),
            "a submitted program ran"
        );
        // Nothing to deliver: the exec as it was; the script alone: no stdin at all.
        let cwd = setup.cwd();
        let cwd = cwd.to_str().unwrap();
        assert_eq!(
            Delivery::default().apply(&setup.exec, cwd).argv,
            setup.exec.argv
        );
        let script_only = Delivery {
            submission: None,
            script: Some(&setup.warmup),
        }
        .apply(&setup.exec, cwd);
        assert!(script_only.stdin_file.is_none());
        assert!(!script_only.argv[2].contains("tar"));
    }

    #[test]
    fn a_clash_with_the_images_files_is_told_apart_from_a_broken_stream() {
        let setup = Setup::new();
        std::fs::create_dir_all(setup.cwd().join("data")).unwrap();
        std::fs::write(setup.cwd().join("data/seed.txt"), "judge's").unwrap();
        let out = setup.deliver(&[("data", b"a file over a directory\n", 0o644)]);
        assert_eq!(out.status.code, Some(UNPACK_FAILED));
        assert!(!out.stdout_str().contains("started"));
        assert!(is_clash(&out.stderr_str()), "{}", out.stderr_str());
        // A cut stream: tar fails too, but that is not the submitter's doing.
        let tar_path = setup.tmp.path().join("cut.tar");
        tar_of(&tar_path, &[("big.bin", &[7u8; 8192], 0o644)]);
        let whole = std::fs::read(&tar_path).unwrap();
        std::fs::write(&tar_path, &whole[..3000]).unwrap();
        let delivery = Delivery {
            submission: Some(&tar_path),
            script: None,
        };
        let cwd = setup.cwd();
        let out = run_here(&delivery.apply(&setup.exec, cwd.to_str().unwrap()), &cwd);
        assert_eq!(out.status.code, Some(UNPACK_FAILED));
        assert!(!is_clash(&out.stderr_str()), "{}", out.stderr_str());
    }
}
