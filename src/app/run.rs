//! `sforge run`: turns the arguments into settings and tasks, and hands them to the run
//! orchestrator (`crate::run`). Exit 0 when every task ran to a result, 1 otherwise, 130 when
//! interrupted.

use std::process::ExitCode;
use std::time::Duration;

use crate::cli::{GlobalArgs, RunArgs};
use crate::config::{EnvMap, Resolver};
use crate::run::{console, execute, RunRequest};
use crate::task::{Catalog, Task};

pub fn run_tasks(
    resolver: &Resolver,
    env: &EnvMap,
    global: &GlobalArgs,
    args: &RunArgs,
) -> anyhow::Result<ExitCode> {
    let settings = resolver.global();
    let catalog = Catalog::open(&settings.tasks_dir.value)?;
    let tasks = selected_tasks(resolver, &catalog, args)?
        .into_iter()
        .map(|task| {
            let s = resolver.for_task(&task);
            (task, s)
        })
        .collect();
    let report = execute(&RunRequest {
        settings,
        tasks,
        catalog: &catalog,
        env,
        experiment: resolver.experiment().map(|e| e.path.clone()),
        run_id: args.run_id.clone(),
        agent_script: args.agent_script.clone(),
        dry_run: args.dry_run,
        final_eval: !args.no_final_eval,
        grace: Duration::from_secs(args.grace),
        parallel: args.parallel.map(usize::from),
        silent: global.silent,
        events: args.events.clone(),
    })?;
    if args.dry_run {
        return Ok(ExitCode::SUCCESS);
    }
    console::print_report(&report);
    Ok(if report.interrupted {
        ExitCode::from(130)
    } else if report.all_succeeded() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The tasks named by `--task`, else by the experiment.
fn selected_tasks(
    resolver: &Resolver,
    catalog: &Catalog,
    args: &RunArgs,
) -> anyhow::Result<Vec<Task>> {
    let ids: Vec<String> = match (&args.task, resolver.experiment()) {
        (ids, _) if !ids.is_empty() => ids.clone(),
        (_, Some(exp)) => exp.task_ids().into_iter().map(str::to_owned).collect(),
        _ => anyhow::bail!("--task or --experiment is required"),
    };
    Ok(ids
        .iter()
        .map(|id| catalog.task(id))
        .collect::<Result<_, _>>()?)
}
