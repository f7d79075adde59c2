//! `sforge eval` with several archives: each one a `manual-N` round of the same run, graded in
//! parallel (`--jobs`) with a warm judge pool; a table of the results, or `--json`.
//! Exit 1 when any could not be graded, else 2 when any was rejected, else 0.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use serde_json::{json, Value};

use super::eval_common::{
    exit_code, interrupted, jobs, judge, limits, outcome, provision, reserve_rounds, stage_archive,
    Staged,
};
use crate::cli::{EvalArgs, GlobalArgs};
use crate::config::Settings;
use crate::judge::launch::pool_size;
use crate::judge::{grade_all, JudgeError, Report, Submission};
use crate::task::{Catalog, Task};

pub(super) fn evaluate_many(
    settings: &Settings,
    global: &GlobalArgs,
    args: &EvalArgs,
    catalog: &Catalog,
    task: &Task,
    run_id: &str,
) -> anyhow::Result<ExitCode> {
    if args.archive.iter().filter(|a| a.as_os_str() == "-").count() > 1 {
        anyhow::bail!("--archive -: standard input can be read only once");
    }
    let staged = args
        .archive
        .iter()
        .map(|a| stage_archive(a))
        .collect::<anyhow::Result<Vec<Staged>>>()?;
    provision(settings, catalog, &[task]).context("cannot evaluate the archives")?;
    let jobs = jobs(args);
    let judge = judge(settings, catalog, pool_size(settings.judge_pool.value));
    let submissions = judge.submissions_dir(run_id, &task.task_id);
    let rounds = reserve_rounds(&submissions, staged.len())?;
    let ids: Vec<String> = rounds.iter().map(|r| format!("{run_id}-{r}")).collect();
    let subs: Vec<Submission<'_>> = staged
        .iter()
        .zip(rounds.iter().zip(&ids))
        .map(|(archive, (round, id))| Submission {
            task,
            run_id,
            submission_id: id,
            round,
            archive: archive.path(),
            timeout: args.timeout,
            limits: limits(settings),
            dir: None,
        })
        .collect();
    if !args.json {
        outln!(
            "Evaluating {} archives for task: {} ({jobs} at a time)",
            subs.len(),
            task.task_id
        );
        outln!("Run ID: {run_id}");
        outln!("Log dir: {}\n", submissions.display());
    }
    let total = subs.len();
    let finished = std::sync::atomic::AtomicUsize::new(0);
    let results = grade_all(&judge, &subs, jobs, &|i, result| {
        let n = finished.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        if !global.silent {
            eprintln!(
                "[{n}/{total}] {} ({}): {}",
                args.archive[i].display(),
                rounds[i],
                outcome(result)
            );
        }
    });
    // Waits for the used containers' removal.
    drop(judge);
    if interrupted() {
        std::thread::sleep(std::time::Duration::from_secs(120));
        return Ok(ExitCode::from(130));
    }
    if args.json {
        let all: Vec<Value> = results
            .iter()
            .zip(&args.archive)
            .zip(&rounds)
            .map(|((r, archive), round)| entry(archive, round, r))
            .collect();
        outln!("{}", serde_json::to_string_pretty(&all)?);
    } else {
        print_table(&args.archive, &rounds, &results)?;
    }
    Ok(exit_code(&results))
}

fn entry(archive: &Path, round: &str, result: &Result<Report, JudgeError>) -> Value {
    match result {
        Ok(report) => json!({"archive": archive, "round": round, "report": report}),
        Err(e) => json!({"archive": archive, "round": round, "error": e.to_string()}),
    }
}

fn print_table(
    archives: &[PathBuf],
    rounds: &[String],
    results: &[Result<Report, JudgeError>],
) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    let width = archives
        .iter()
        .map(|a| a.display().to_string().len())
        .max()
        .unwrap_or(0)
        .max("ARCHIVE".len());
    writeln!(out, "{:<10}  {:<width$}  RESULT", "ROUND", "ARCHIVE")?;
    for ((archive, round), result) in archives.iter().zip(rounds).zip(results) {
        let archive = archive.display().to_string();
        writeln!(out, "{round:<10}  {archive:<width$}  {}", outcome(result))?;
    }
    Ok(())
}
