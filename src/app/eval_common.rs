//! What the forms of `sforge eval` share: the signal handler that removes the judge containers,
//! provisioning, the judge and its pool, the limits, staging an archive, and the exit status of
//! several results.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};

use anyhow::Context as _;

use crate::cli::EvalArgs;
use crate::config::Settings;
use crate::judge::grading::is_rejected;
use crate::judge::pool::JudgePool;
use crate::judge::{provision_judge_images, Judge, JudgeError, JudgeLimits, Report};
use crate::task::{Catalog, Task};

/// Exit status when the judge rejected the archive (it was not graded).
pub(super) const EXIT_REJECTED: u8 = 2;

/// Set by the first Ctrl-C or SIGTERM.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// The judge pools of this command, stopped by the signal handler before it removes the judge
/// containers (so that no warm container starts after the removal).
static POOLS: Mutex<Vec<Weak<JudgePool>>> = Mutex::new(Vec::new());

/// Ctrl-C or SIGTERM: remove this process's judge containers, then exit 130. A grading fails
/// once its container is gone; the handler, not the grading, ends the process.
pub(super) fn install_interrupt(settings: &Settings) -> anyhow::Result<()> {
    let cleanup = crate::judge::launch::LeftoverCleaner::new(settings);
    ctrlc::set_handler(move || {
        if INTERRUPTED.swap(true, Ordering::SeqCst) {
            return;
        }
        eprintln!("Interrupted — removing the judge containers...");
        let pools = std::mem::take(&mut *POOLS.lock().unwrap_or_else(PoisonError::into_inner));
        for pool in pools.iter().filter_map(Weak::upgrade) {
            pool.shutdown();
        }
        cleanup.remove_leftovers();
        std::process::exit(130);
    })
    .context("cannot install the signal handler")
}

/// Whether Ctrl-C or SIGTERM came (the handler is then ending the process).
pub(super) fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// The judge images of `tasks`, built when missing.
pub(super) fn provision(
    settings: &Settings,
    catalog: &Catalog,
    tasks: &[&Task],
) -> anyhow::Result<()> {
    provision_with(
        settings,
        catalog,
        tasks,
        crate::process::runner(false).as_ref(),
    )
}

/// [`provision`] through `runner` (a plan runner prints the builds).
pub(super) fn provision_with(
    settings: &Settings,
    catalog: &Catalog,
    tasks: &[&Task],
    runner: &dyn crate::process::Runner,
) -> anyhow::Result<()> {
    let missing = provision_judge_images(settings, &catalog.benchmark, tasks, runner)?;
    if runner.is_plan() {
        // The image may be there where the plan is replayed.
        for (_, e) in &missing {
            runner.plan_warning(&e.to_string());
        }
        return Ok(());
    }
    match missing.into_iter().next() {
        Some((_, e)) => Err(anyhow::anyhow!(e)),
        None => Ok(()),
    }
}

/// A judge on the configured backend keeping `pool` warm containers per shape.
pub(super) fn judge(settings: &Settings, catalog: &Catalog, pool: usize) -> Judge {
    let judge = Judge::from_settings(
        settings,
        &catalog.benchmark.name,
        &crate::owner::current_owner(),
    )
    .with_pool(pool);
    POOLS
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(Arc::downgrade(&judge.pool));
    judge
}

/// The judge limits of `eval`: the flags, and the task's own internet (`eval` takes no
/// internet flag).
pub(super) fn limits(settings: &Settings) -> JudgeLimits {
    JudgeLimits {
        cpu: settings.judge_cpu_limit.value,
        mem: settings.judge_mem_limit.value.clone(),
        internet: None,
    }
}

/// Gradings at once of a batch (`--jobs`, else serve's default concurrency).
pub(super) fn jobs(args: &EvalArgs) -> usize {
    args.jobs
        .map_or_else(crate::judge::launch::default_concurrency, usize::from)
}

/// The archive as a file: the given path, or stdin (`-`) saved to a temporary file.
pub(super) fn stage_archive(arg: &Path) -> anyhow::Result<Staged> {
    if arg == Path::new("-") {
        let mut file = tempfile::NamedTempFile::new().context("cannot create a temporary file")?;
        std::io::copy(&mut std::io::stdin().lock(), &mut file)
            .context("cannot read the archive from stdin")?;
        return Ok(Staged::Temp(file));
    }
    if !arg.is_file() {
        anyhow::bail!("archive file not found: {}", arg.display());
    }
    Ok(Staged::Path(arg.to_owned()))
}

pub(super) enum Staged {
    Path(PathBuf),
    Temp(tempfile::NamedTempFile),
}

impl Staged {
    pub(super) fn path(&self) -> &Path {
        match self {
            Staged::Path(p) => p,
            Staged::Temp(f) => f.path(),
        }
    }
}

/// One line about a result.
pub(super) fn outcome(result: &Result<Report, JudgeError>) -> String {
    match result {
        Ok(r) if is_rejected(r) => format!(
            "rejected: {}",
            r.summary.as_deref().unwrap_or("no reason given")
        ),
        Ok(r) => format!(
            "{}/{} passed, pass rate {:.2}%{}",
            r.passed,
            r.total_tests,
            r.pass_rate * 100.0,
            r.score_0_100
                .map(|s| format!(", score {s:.2}"))
                .unwrap_or_default()
        ),
        Err(e) => format!("error: {e}"),
    }
}

/// 1 when any could not be graded, else 2 when any was rejected, else 0.
pub(super) fn exit_code(results: &[Result<Report, JudgeError>]) -> ExitCode {
    if results.iter().any(Result::is_err) {
        ExitCode::FAILURE
    } else if results.iter().flatten().any(is_rejected) {
        ExitCode::from(EXIT_REJECTED)
    } else {
        ExitCode::SUCCESS
    }
}

/// Reserve `n` fresh `manual-N` rounds (their directories made here, so that concurrent
/// evaluations of the same run never share one).
pub(super) fn reserve_rounds(dir: &Path, n: usize) -> anyhow::Result<Vec<String>> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut rounds = Vec::with_capacity(n);
    let mut k = 1u64;
    while rounds.len() < n {
        let round = format!("manual-{k}");
        match std::fs::create_dir(dir.join(&round)) {
            Ok(()) => rounds.push(round),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => {
                return Err(e)
                    .with_context(|| format!("cannot create a round in {}", dir.display()))
            }
        }
        k += 1;
    }
    Ok(rounds)
}
