//! The one orchestrator of `sforge run`: from resolved settings and tasks to every task's result.
//! Order: check every input (agent, CA file, base URL, egress), set up the backends (clusters,
//! firewall rights) and images, record the configuration, then either print the plan (dry run)
//! or start the judge and run the tasks in parallel, staggered, until done or interrupted.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::backends::{backends, ensure_images, Backends};
use super::console;
use super::error::RunError;
use super::judge::{ensure_judge, host_url};
use super::judge_client::JudgeClient;
use super::keyless::{admin, Keyless, RunToken};
use super::outputs::{write_configs, write_json, write_summary, FinalResult};
use super::prepare::TaskPlan;
use super::progress::{Ended, Progress};
use super::progress_view::{ProgressView, ViewMode};
use super::report::RunReport;
use super::shared::RunShared;
use super::task_run::TaskRun;
use crate::config::{EnvMap, Settings};
use crate::parallel;
use crate::process::replay::ReplayLookup;
use crate::process::{self, Runner};
use crate::run_log::RunLog;
use crate::task::{Catalog, Task};

/// What the command layer hands the orchestrator.
pub struct RunRequest<'a> {
    /// Settings without any task (backend tools, log directory, judge URL).
    pub settings: Settings,
    /// The tasks to run, each with its own settings.
    pub tasks: Vec<(Task, Settings)>,
    pub catalog: &'a Catalog,
    pub env: &'a EnvMap,
    /// The experiment file, copied into the run directory.
    pub experiment: Option<PathBuf>,
    /// `None`: a random one.
    pub run_id: Option<String>,
    /// `--agent-script`.
    pub agent_script: Option<PathBuf>,
    pub dry_run: bool,
    pub final_eval: bool,
    /// Between TERM and KILL at the deadline.
    pub grace: Duration,
    /// Tasks in flight at once (`None`: all).
    pub parallel: Option<usize>,
    /// No progress output (and no echo of the agent's output).
    pub silent: bool,
    /// `--events`: phase changes and graded rounds as JSON lines.
    pub events: Option<PathBuf>,
}

/// Run the request (see the module comment); `Err` only when the run could not start.
pub fn execute(req: &RunRequest<'_>) -> Result<RunReport, RunError> {
    let run_id = match &req.run_id {
        Some(id) => check_run_id(id)?,
        None => crate::ids::random_hex(12)
            .map_err(|e| RunError::io("read random bytes from", "/dev/urandom".as_ref(), e))?,
    };
    let plans = prepare_plans(req)?;
    let settings = &req.settings;
    let run_dir = settings.log_dir.value.join("runs").join(&run_id);
    std::fs::create_dir_all(&run_dir).map_err(|e| RunError::io("create", &run_dir, e))?;
    let runner = runner_for(req, &plans, &run_dir);
    let backends = backends(settings, &plans, req.env, &runner, req.dry_run)?;
    let images = ensure_images(settings, req.catalog, &plans, runner.as_ref(), req.dry_run)?;
    write_configs(
        &run_dir,
        &run_id,
        req.experiment.as_deref(),
        &plans,
        &images.digests,
    )?;
    if req.dry_run {
        dry_run(req, &run_id, &run_dir, &plans, backends)?;
        return Ok(RunReport {
            run_id,
            run_dir,
            outcomes: Vec::new(),
            interrupted: false,
        });
    }
    let keyless = admin(settings, req.env)?;
    let shutdown = Arc::new(AtomicBool::new(false));
    install_signal_handler(&shutdown)?;
    let per_task: Vec<(String, Settings)> = plans
        .iter()
        .map(|p| (p.task.task_id.clone(), p.settings.clone()))
        .collect();
    let judge = ensure_judge(settings, req.env, req.catalog, &per_task)?;
    let ids: Vec<String> = per_task.iter().map(|(id, _)| id.clone()).collect();
    let progress = Progress::new(&ids, req.events.as_deref())
        .map(Arc::new)
        .map_err(|e| RunError::io("create", req.events.as_deref().unwrap_or(&run_dir), e))?;
    let shared = RunShared {
        run_id: run_id.clone(),
        run_dir: run_dir.clone(),
        sandboxes: backends.sandboxes,
        client: judge.client.clone(),
        shutdown: Arc::clone(&shutdown),
        owner: crate::owner::current_owner(),
        stream: plans.len() == 1 && !req.silent,
        final_eval: req.final_eval,
        grace: req.grace,
        isolations: backends.isolations,
        progress: Arc::clone(&progress),
    };
    if !req.silent {
        console::banner(&run_id, &plans, &judge.client.base, settings.stagger.value);
    }
    let view = ProgressView::start(progress, judge.client.clone(), view_mode(req, plans.len()));
    let stagger = Duration::from_secs(settings.stagger.value.unwrap_or(0));
    let start = Instant::now();
    let jobs = req.parallel.unwrap_or(plans.len());
    let n = u32::try_from(plans.len()).unwrap_or(u32::MAX).max(1);
    let indices: Vec<usize> = (0..plans.len()).collect();
    let results = parallel::map(&indices, jobs, |&i| {
        let plan = &plans[i];
        if let Some(e) = images.errors.get(&plan.task.task_id) {
            return Err(RunError::Images(e.clone()));
        }
        // Task i starts i·S/n seconds after the first (SForge 1.0's stagger).
        let delay = stagger * u32::try_from(i).unwrap_or(u32::MAX) / n;
        wait_until(start + delay, &shutdown)?;
        Ok(run_task(&shared, plan, keyless.as_ref()))
    });
    view.stop();
    judge.stop();
    let outcomes: Vec<(String, Result<FinalResult, RunError>)> = plans
        .iter()
        .map(|p| p.task.task_id.clone())
        .zip(results)
        .collect();
    if outcomes.len() > 1 {
        write_summary(&run_dir, &run_id, &outcomes)?;
    }
    Ok(RunReport {
        run_id,
        run_dir,
        outcomes,
        interrupted: shutdown.load(Ordering::SeqCst),
    })
}

/// Every task's plan, worked out before anything starts.
fn prepare_plans(req: &RunRequest<'_>) -> Result<Vec<TaskPlan>, RunError> {
    req.tasks
        .iter()
        .map(|(task, s)| {
            TaskPlan::prepare(
                task.clone(),
                s.clone(),
                req.agent_script.as_deref(),
                req.dry_run,
            )
        })
        .collect()
}

/// The real runner, or for a dry run the printer of a replayable plan (binary stdin goes to
/// `<run dir>/plan-stdin`).
fn runner_for(req: &RunRequest<'_>, plans: &[TaskPlan], run_dir: &Path) -> Arc<dyn Runner> {
    if req.dry_run {
        process::plan_runner(replay_lookups(plans), run_dir.join("plan-stdin"))
    } else {
        process::runner(false)
    }
}

/// The hosts a printed plan resolves when replayed, once each.
fn replay_lookups(plans: &[TaskPlan]) -> Vec<ReplayLookup> {
    let mut lookups: Vec<ReplayLookup> = Vec::new();
    for lookup in plans
        .iter()
        .filter_map(|p| p.egress.as_ref())
        .flat_map(|e| &e.replay)
    {
        if !lookups.iter().any(|l| l.var == lookup.var) {
            lookups.push(lookup.clone());
        }
    }
    lookups
}

/// A run id names a directory: plain names only.
fn check_run_id(id: &str) -> Result<String, RunError> {
    if crate::task::is_plain_name(id) {
        Ok(id.to_owned())
    } else {
        Err(RunError::RunId(id.to_owned()))
    }
}

/// Sleep until `at`, unless the run is interrupted first.
fn wait_until(at: Instant, shutdown: &AtomicBool) -> Result<(), RunError> {
    while Instant::now() < at {
        if shutdown.load(Ordering::SeqCst) {
            return Err(RunError::NotStarted);
        }
        std::thread::sleep(Duration::from_millis(100).min(at - Instant::now()));
    }
    Ok(())
}

/// Run one task and write its `final_result.json`.
fn run_task(shared: &RunShared, plan: &TaskPlan, keyless: Option<&Keyless>) -> FinalResult {
    let dir = shared.run_dir.join(&plan.task.task_id);
    let log = RunLog::create(&dir.join("run_agent.log"));
    // Keyless agents: the container gets a per-run token of `sforge proxy`, not the key.
    let token = keyless.map(|admin| RunToken::mint(admin, &shared.run_id, &plan.task.task_id));
    let result = match token {
        Some(Err(e)) => {
            log.error(&e.to_string());
            FinalResult::failed(shared, plan, &e)
        }
        Some(Ok(token)) => {
            log.line(
                "keyless: the Work container holds a run token of sforge proxy, not the API key",
            );
            let result = TaskRun::new(
                shared,
                plan,
                plan.work_env(&shared.run_id, Some(&token.token)),
            )
            .execute(&log);
            if let Err(e) = token.finish(&dir) {
                log.line(&format!("warning: {e}"));
            }
            result
        }
        None => TaskRun::new(shared, plan, plan.work_env(&shared.run_id, None)).execute(&log),
    };
    let _ = write_json(&dir.join("final_result.json"), &result);
    let ended = Ended {
        error: result.error.as_deref(),
        total_rounds: result.total_rounds,
        best_pass_rate: result.best_pass_rate,
        best_score: result.best_score,
    };
    shared.progress.finished(&plan.task.task_id, &ended);
    result
}

/// On a terminal: a live table for several tasks, a status footer under the streaming agent
/// output for one; lines otherwise; nothing when silent.
fn view_mode(req: &RunRequest<'_>, tasks: usize) -> ViewMode {
    use std::io::IsTerminal as _;
    match (req.silent, std::io::stdout().is_terminal(), tasks > 1) {
        (true, _, _) => ViewMode::Off,
        (false, true, true) => ViewMode::Live,
        (false, true, false) => ViewMode::Footer,
        (false, false, _) => ViewMode::Lines,
    }
}

/// `run --dry-run`: the commands of every task as a script on stdout; files written.
fn dry_run(
    req: &RunRequest<'_>,
    run_id: &str,
    run_dir: &std::path::Path,
    plans: &[TaskPlan],
    backends: Backends,
) -> Result<(), RunError> {
    let shared = RunShared {
        run_id: run_id.to_owned(),
        run_dir: run_dir.to_owned(),
        sandboxes: backends.sandboxes,
        client: JudgeClient::new(&host_url(&req.settings.judge_url.value), ""),
        shutdown: Arc::new(AtomicBool::new(false)),
        owner: crate::owner::current_owner(),
        stream: false,
        final_eval: false,
        grace: req.grace,
        isolations: backends.isolations,
        progress: Arc::new(
            Progress::new(&[], None).map_err(|e| RunError::io("create", run_dir, e))?,
        ),
    };
    for plan in plans {
        let log = RunLog::create(&run_dir.join(&plan.task.task_id).join("run_agent.log"));
        TaskRun::new(&shared, plan, plan.work_env(&shared.run_id, None)).plan(&log)?;
    }
    eprintln!("Dry run: files written under {}", run_dir.display());
    Ok(())
}

fn install_signal_handler(shutdown: &Arc<AtomicBool>) -> Result<(), RunError> {
    let flag = Arc::clone(shutdown);
    ctrlc::set_handler(move || {
        if !flag.swap(true, Ordering::SeqCst) {
            eprintln!("Shutting down — stopping the agents and removing containers...");
        }
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn run_ids_are_plain_names() {
        for good in ["abc123", "run-1.2_x", "4eba6f1bdec7"] {
            assert!(super::check_run_id(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "../x",
            "a/b",
            ".hidden",
            "-x",
            "a b",
            "x\ny",
            &"a".repeat(129),
        ] {
            assert!(super::check_run_id(bad).is_err(), "{bad:?}");
        }
    }
}
