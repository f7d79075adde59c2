//! `sforge run`: agents on tasks in Work containers, graded by a judge (started in-process when
//! none answers at a local judge URL). Exit 0 when every task ran to a result, 1 otherwise,
//! 130 when interrupted.

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use serde_json::{json, Value};

use super::run_backends::{backends, ensure_docker_images, Backends};
use super::run_judge::{ensure_judge, JudgeHandle};
use super::run_keyless::RunToken;
use super::run_setup::{agent_plan, run_config, work_env};
use crate::cli::{GlobalArgs, RunArgs};
use crate::config::{EnvMap, Resolver, Settings};
use crate::image::ImageDigest;
use crate::parallel;
use crate::process::{self, Runner};
use crate::run::outputs::{write_json, FinalResult};
use crate::run::{RunLog, RunShared, TaskRun};
use crate::task::{Catalog, Task};

pub fn run(
    resolver: &Resolver,
    env: &EnvMap,
    global: &GlobalArgs,
    args: &RunArgs,
) -> anyhow::Result<ExitCode> {
    let settings = resolver.global();
    let catalog = Catalog::open(&settings.tasks_dir.value)?;
    let tasks = selected_tasks(resolver, &catalog, args)?;
    let run_id = match &args.run_id {
        Some(id) => id.clone(),
        None => crate::ids::random_hex(12).context("cannot create a run id")?,
    };
    let per_task: Vec<Settings> = tasks.iter().map(|t| resolver.for_task(t)).collect();
    let plans = per_task
        .iter()
        .map(|s| agent_plan(s, args))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let run_dir = settings.log_dir.value.join("runs").join(&run_id);
    std::fs::create_dir_all(&run_dir)
        .with_context(|| format!("cannot create {}", run_dir.display()))?;
    let runner: Arc<dyn Runner> = process::runner(args.dry_run);
    let backends = backends(&settings, &per_task, env, &runner, args.dry_run)?;
    let (build_errors, digests) = ensure_docker_images(
        &settings,
        &catalog,
        &tasks,
        &per_task,
        &runner,
        args.dry_run,
    )?;
    write_configs(resolver, &run_dir, &run_id, &tasks, &per_task, &digests)?;
    if args.dry_run {
        return dry_run(
            &settings, &run_id, &run_dir, &tasks, &per_task, &plans, backends,
        );
    }
    let keyless = super::run_keyless::admin(&settings, env)?;
    let shutdown = Arc::new(AtomicBool::new(false));
    install_signal_handler(&shutdown)?;
    let task_settings: Vec<(String, Settings)> = tasks
        .iter()
        .map(|t| t.task_id.clone())
        .zip(per_task.clone())
        .collect();
    let judge: JudgeHandle = ensure_judge(&settings, env, &catalog, &task_settings)?;
    let shared = RunShared {
        run_id: run_id.clone(),
        run_dir: run_dir.clone(),
        sandboxes: backends.sandboxes,
        client: judge.client.clone(),
        shutdown: Arc::clone(&shutdown),
        owner: crate::owner::current_owner(),
        stream: tasks.len() == 1 && !global.silent,
        final_eval: !args.no_final_eval,
        grace: Duration::from_secs(args.grace),
        isolations: backends.isolations,
    };
    let single = tasks.len() == 1;
    banner(
        &run_id,
        &tasks,
        &per_task,
        &judge.client.base,
        settings.stagger.value,
    );
    let stagger = settings.stagger.value.unwrap_or(0);
    let start = Instant::now();
    let indices: Vec<usize> = (0..tasks.len()).collect();
    let jobs = args.parallel.map_or(tasks.len(), usize::from);
    let results = parallel::map(&indices, jobs, |&i| {
        let task = &tasks[i];
        if let Some(e) = &build_errors.get(&task.task_id) {
            return Err(format!("images not available: {e}"));
        }
        // Task i starts i·S/n seconds after the first (SForge 1.0's stagger).
        let position = u32::try_from(i).unwrap_or(u32::MAX);
        let delay =
            Duration::from_secs(stagger) * position / u32::try_from(tasks.len()).unwrap_or(1);
        while start.elapsed() < delay {
            if shutdown.load(Ordering::SeqCst) {
                return Err("not started: the run was interrupted".to_owned());
            }
            std::thread::sleep(
                Duration::from_millis(100).min(delay.saturating_sub(start.elapsed())),
            );
        }
        run_one(&shared, task, &per_task[i], &plans[i], keyless.as_ref())
    });
    judge.stop();
    let interrupted = shutdown.load(Ordering::SeqCst);
    let ok = report(&run_dir, &run_id, &tasks, &results, single)?;
    Ok(if interrupted {
        ExitCode::from(130)
    } else if ok {
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

/// `run --dry-run`: the docker commands of every task as a script on stdout, files written.
fn dry_run(
    settings: &Settings,
    run_id: &str,
    run_dir: &std::path::Path,
    tasks: &[Task],
    per_task: &[Settings],
    plans: &[crate::run::AgentPlan],
    backends: Backends,
) -> anyhow::Result<ExitCode> {
    let shared = RunShared {
        run_id: run_id.to_owned(),
        run_dir: run_dir.to_owned(),
        sandboxes: backends.sandboxes,
        client: crate::run::judge_client::JudgeClient::new(
            &super::run_judge::host_url(&settings.judge_url.value),
            "",
        ),
        shutdown: Arc::new(AtomicBool::new(false)),
        owner: crate::owner::current_owner(),
        stream: false,
        final_eval: false,
        grace: Duration::from_secs(10),
        isolations: backends.isolations,
    };
    for ((task, s), plan) in tasks.iter().zip(per_task).zip(plans) {
        let dir = run_dir.join(&task.task_id);
        std::fs::create_dir_all(&dir)?;
        let log = RunLog::create(&dir.join("run_agent.log"));
        let env = work_env(s, task, None)?;
        let (prompt, tools) = super::run_setup::prompt_and_tools(s, task)?;
        let run = TaskRun {
            shared: &shared,
            task,
            settings: s,
            agent: plan,
            env,
            prompt,
            tools,
            egress: super::run_isolation::egress(s).map_err(|e| anyhow::anyhow!(e))?,
        };
        run.plan(&log).map_err(|e| anyhow::anyhow!(e))?;
    }
    eprintln!("Dry run: files written under {}", run_dir.display());
    Ok(ExitCode::SUCCESS)
}

/// Run one task and write its `final_result.json`.
fn run_one(
    shared: &RunShared,
    task: &Task,
    s: &Settings,
    plan: &crate::run::AgentPlan,
    keyless: Option<&crate::proxy::ProxyAdmin>,
) -> Result<FinalResult, String> {
    let dir = shared.run_dir.join(&task.task_id);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let log = RunLog::create(&dir.join("run_agent.log"));
    // Keyless agents: the container gets a per-run token of `sforge proxy`, not the key.
    let token = keyless
        .map(|admin| RunToken::mint(admin, &shared.run_id, &task.task_id))
        .transpose()?;
    if token.is_some() {
        log.line("keyless: the Work container holds a run token of sforge proxy, not the API key");
    }
    let env = work_env(s, task, token.as_ref().map(|t| t.token.as_str()))
        .map_err(|e| format!("{e:#}"))?;
    let (prompt, tools) =
        super::run_setup::prompt_and_tools(s, task).map_err(|e| format!("{e:#}"))?;
    let egress = super::run_isolation::egress(s)?;
    let run = TaskRun {
        shared,
        task,
        settings: s,
        agent: plan,
        env,
        prompt,
        tools,
        egress,
    };
    let result = run.run(&log);
    if let Some(token) = &token {
        if let Err(e) = token.finish(&dir) {
            log.line(&format!("warning: {e}"));
        }
    }
    let _ = write_json(&dir.join("final_result.json"), &result);
    Ok(result)
}

fn write_configs(
    resolver: &Resolver,
    run_dir: &std::path::Path,
    run_id: &str,
    tasks: &[Task],
    per_task: &[Settings],
    digests: &[ImageDigest],
) -> anyhow::Result<()> {
    let mut map = serde_json::Map::new();
    for (task, s) in tasks.iter().zip(per_task) {
        let dir = run_dir.join(&task.task_id);
        std::fs::create_dir_all(&dir)?;
        let mut config = run_config(s, task);
        let pinned: Vec<&ImageDigest> = digests
            .iter()
            .filter(|d| {
                d.image == task.images.work.to_string() || d.image == task.images.judge.to_string()
            })
            .collect();
        config["image_digests"] = serde_json::to_value(pinned)?;
        write_json(&dir.join("run_config.json"), &config)?;
        map.insert(task.task_id.clone(), config);
    }
    let experiment = resolver.experiment().map(|e| e.path.clone());
    if let Some(path) = &experiment {
        let _ = std::fs::copy(path, run_dir.join("experiment.yaml"));
    }
    let stagger = per_task.first().and_then(|s| s.stagger.value);
    let unified =
        json!({"run_id": run_id, "experiment": experiment, "stagger": stagger, "tasks": map});
    write_json(&run_dir.join("run_config.json"), &unified)?;
    Ok(())
}

fn install_signal_handler(shutdown: &Arc<AtomicBool>) -> anyhow::Result<()> {
    let flag = Arc::clone(shutdown);
    ctrlc::set_handler(move || {
        if !flag.swap(true, Ordering::SeqCst) {
            eprintln!("Shutting down — stopping the agents and removing containers...");
        }
    })
    .context("cannot install the signal handler")
}

#[allow(clippy::cast_precision_loss, reason = "seconds shown with one decimal")]
fn banner(run_id: &str, tasks: &[Task], per_task: &[Settings], judge: &str, stagger: Option<u64>) {
    if let [task] = tasks {
        let s = &per_task[0];
        println!(
            "Running agent '{}' on task: {}",
            s.agent.value.as_deref().unwrap_or("?"),
            task.task_id
        );
        println!("Work image: {}", task.images.work);
        println!("Run ID: {run_id}");
        println!("Timeout: {}s", s.agent_timeout.value.unwrap_or(3600));
        println!(
            "Auto-eval: {}",
            if s.disable_auto_eval.value || s.eval_interval.value == 0 {
                "disabled".to_owned()
            } else {
                format!("{}s", s.eval_interval.value)
            }
        );
        println!("Judge URL: {judge}");
    } else {
        println!("Multi-task run (verbose output disabled, check log files for details)");
        println!("Run ID: {run_id}");
        let ids: Vec<&str> = tasks.iter().map(|t| t.task_id.as_str()).collect();
        let spread = match stagger {
            Some(s) if s > 0 => format!(
                "(staggered over {s}s, {:.1}s apart)",
                s as f64 / tasks.len() as f64
            ),
            _ => "(all in parallel)".to_owned(),
        };
        println!("Tasks: {} {spread}", ids.join(", "));
    }
}

/// Print results (and write `summary.json` for several tasks); true when every task succeeded.
fn report(
    run_dir: &std::path::Path,
    run_id: &str,
    tasks: &[Task],
    results: &[Result<FinalResult, String>],
    single: bool,
) -> anyhow::Result<bool> {
    let mut ok = true;
    let mut summary: Vec<Value> = Vec::new();
    for (task, result) in tasks.iter().zip(results) {
        match result {
            Ok(r) => {
                ok &= r.error.is_none();
                if single {
                    print_result(r, &run_dir.join(&task.task_id));
                }
                summary.push(serde_json::to_value(r)?);
            }
            Err(e) => {
                ok = false;
                eprintln!("[{}] ERROR: {e}", task.task_id);
                summary.push(json!({"task": task.task_id, "error": e}));
            }
        }
    }
    if !single {
        println!("=== Multi-task summary ({} tasks) ===", tasks.len());
        for entry in &summary {
            let id = entry["task"].as_str().unwrap_or("?");
            if let Some(e) = entry.get("error").and_then(Value::as_str) {
                println!("{id:<30} ERROR: {e}");
            } else {
                {
                    let score = entry["best_score"]
                        .as_f64()
                        .map(|s| format!("  (score {s})"))
                        .unwrap_or_default();
                    println!(
                        "{id:<30} {:.2}{score}",
                        entry["best_pass_rate"].as_f64().unwrap_or(0.0)
                    );
                }
            }
        }
        let path = run_dir.join("summary.json");
        write_json(&path, &json!({"run_id": run_id, "tasks": summary}))?;
        println!("Summary saved: {}", path.display());
    }
    Ok(ok)
}

fn print_result(r: &FinalResult, dir: &std::path::Path) {
    println!("Agent completed in {:.1}s", r.runtime_seconds);
    println!("Timed out: {}", r.timed_out);
    println!("Total rounds: {}", r.total_rounds);
    println!("Best pass rate: {:.2}%", r.best_pass_rate * 100.0);
    if let Some(score) = r.best_score {
        println!("Best score: {score:.0}");
    }
    println!("Best round: {}", r.best_round);
    println!(
        "Final archive: {}",
        dir.join("final_archive.tar.gz").display()
    );
    if let Some(e) = &r.error {
        eprintln!("error: {e}");
    }
    if let Ok(text) = serde_json::to_string_pretty(r) {
        println!("{text}");
    }
}
