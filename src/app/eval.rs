//! `sforge eval`: grade an archive locally in a fresh judge container, without a judge server.
//! Exit 0 when graded (whatever the score), 2 when the archive was rejected, 1 when the harness
//! could not grade, 130 when interrupted.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context as _;

use super::eval_common::{
    install_interrupt, interrupted, judge, limits, provision, provision_with, reserve_rounds,
    stage_archive, EXIT_REJECTED,
};
use crate::cli::{EvalArgs, GlobalArgs};
use crate::config::Settings;
use crate::ids::random_hex;
use crate::judge::{Judge, Planned, Report, Submission};
use crate::task::Catalog;

pub fn evaluate(
    settings: &Settings,
    global: &GlobalArgs,
    args: &EvalArgs,
) -> anyhow::Result<ExitCode> {
    let catalog = Catalog::open(&settings.tasks_dir.value)?;
    if let Some(run) = &args.run {
        install_interrupt(settings)?;
        return super::regrade::regrade(settings, global, args, &catalog, run);
    }
    let task = catalog.task(args.task.as_deref().context("--task is required")?)?;
    if task.game_mode {
        anyhow::bail!(
            "{} is a game task: it is played through the judge's game routes during \
             `sforge run`, not graded from an archive",
            task.task_id
        );
    }
    let run_id = match &args.run_id {
        Some(id) if crate::task::is_plain_name(id) => id.clone(),
        Some(id) => anyhow::bail!(
            "invalid --run-id {id:?}: use letters, digits, '.', '_' and '-' (it names a directory)"
        ),
        None => random_hex(12).context("cannot create a run id")?,
    };
    if args.dry_run {
        return plan(settings, args, &catalog, &task, &run_id);
    }
    install_interrupt(settings)?;
    if args.archive.len() > 1 {
        return super::eval_batch::evaluate_many(settings, global, args, &catalog, &task, &run_id);
    }
    let staged = stage_archive(&args.archive[0])?;
    provision(settings, &catalog, &[&task]).context("cannot evaluate the archive")?;
    let size = std::fs::metadata(staged.path()).map_or(0, |m| m.len());
    let judge = judge(settings, &catalog, 0);
    let round = reserve_rounds(&judge.submissions_dir(&run_id, &task.task_id), 1)?.remove(0);
    let dir = judge.submission_dir(&run_id, &task.task_id, &round);
    let mut out = std::io::stdout().lock();
    let say: &mut dyn Write = if args.json {
        &mut std::io::sink()
    } else {
        &mut out
    };
    writeln!(say, "Evaluating archive for task: {}", task.task_id)?;
    writeln!(say, "Archive size: {size} bytes")?;
    writeln!(say, "Run ID: {run_id}")?;
    writeln!(say, "Log dir: {}\n", dir.display())?;
    let submission = Submission {
        task: &task,
        run_id: &run_id,
        submission_id: &run_id,
        round: &round,
        archive: staged.path(),
        timeout: args.timeout,
        limits: limits(settings),
        dir: None,
    };
    let stream = !global.silent;
    // The console gets the head of the output; test_output.txt its head and tail.
    let mut echoed = 0;
    let report = judge.grade(&submission, &mut |line| {
        if !stream || echoed > ECHO_BYTES {
            return;
        }
        echoed += line.len() + 1;
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "{line}");
        if echoed > ECHO_BYTES {
            let _ = writeln!(err, "[sforge: more output follows; see test_output.txt]");
        }
    });
    if interrupted() {
        // The signal handler is removing the container and exits the process when done.
        std::thread::sleep(std::time::Duration::from_secs(120));
        return Ok(ExitCode::from(130));
    }
    match report {
        Ok(report) => {
            let mut out = std::io::stdout().lock();
            if args.json {
                writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?;
            } else {
                print_results(&mut out, &report)?;
            }
            if !crate::judge::grading::is_rejected(&report) {
                // Graded, whatever the score (an invalid result of the grader included).
                return Ok(ExitCode::SUCCESS);
            }
            // The judge refused the archive: say why where a script's user will look.
            let reason = report.summary.as_deref().unwrap_or("no reason given");
            eprintln!("error: the judge rejected the archive: {reason}");
            Ok(ExitCode::from(EXIT_REJECTED))
        }
        Err(e) => Err(anyhow::anyhow!(e).context(format!(
            "cannot evaluate the archive (details in {})",
            dir.join("run_instance.log").display()
        ))),
    }
}

/// Bytes of the evaluation's output echoed to the console.
const ECHO_BYTES: usize = crate::judge::grading::OUTPUT_HEAD_BYTES;

pub(super) fn print_results(out: &mut dyn Write, r: &Report) -> std::io::Result<()> {
    writeln!(out, "Results:")?;
    writeln!(out, "  Total tests: {}", r.total_tests)?;
    writeln!(out, "  Passed:      {}", r.passed)?;
    writeln!(out, "  Failed:      {}", r.failed)?;
    writeln!(out, "  Errors:      {}", r.errors)?;
    writeln!(out, "  Pass rate:   {:.2}%", r.pass_rate * 100.0)?;
    if let Some(score) = r.score_0_100 {
        writeln!(out, "  Score 0-100: {score:.2}")?;
    }
    writeln!(out, "  Runtime:     {:.2}s", r.runtime_seconds)?;
    writeln!(out, "  Timed out:   {}", r.timed_out)?;
    match &r.summary {
        Some(summary) if !summary.is_empty() => writeln!(out, "  Summary:     {summary}"),
        _ => Ok(()),
    }
}

/// `sforge eval --dry-run`: the judge image builds (when missing) and the judge container's
/// commands as a replayable script on stdout; the checked archive and the copied files are kept
/// under `<log_dir>/runs/<run>/<task>/plan/`. Exit 2 when the judge would refuse the archive.
fn plan(
    settings: &Settings,
    args: &EvalArgs,
    catalog: &Catalog,
    task: &crate::task::Task,
    run_id: &str,
) -> anyhow::Result<ExitCode> {
    if args.archive.len() != 1 || args.archive[0].as_os_str() == "-" {
        anyhow::bail!("--dry-run plans the grading of one archive file (not several, not stdin)");
    }
    let staged = stage_archive(&args.archive[0])?;
    let plan_dir = settings
        .log_dir
        .value
        .join("runs")
        .join(run_id)
        .join(&task.task_id)
        .join("plan");
    let runner = crate::process::plan_runner(Vec::new(), plan_dir.join("stdin"));
    provision_with(settings, catalog, &[task], runner.as_ref())
        .context("cannot plan the evaluation")?;
    let judge = Judge::with_runner(
        settings,
        &catalog.benchmark.name,
        &crate::owner::current_owner(),
        runner,
    );
    let submission = Submission {
        task,
        run_id,
        submission_id: run_id,
        round: "plan",
        archive: staged.path(),
        timeout: args.timeout,
        limits: limits(settings),
        dir: None,
    };
    match judge.plan(&submission, &plan_dir)? {
        Planned::Commands => Ok(ExitCode::SUCCESS),
        Planned::Rejected(reason) => {
            eprintln!("error: the judge would reject the archive: {reason}");
            Ok(ExitCode::from(EXIT_REJECTED))
        }
    }
}
