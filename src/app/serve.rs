//! `sforge serve`: the judge server, grading in judge containers (or pods) of the configured
//! backend, until Ctrl-C or SIGTERM.

use std::net::{SocketAddr, ToSocketAddrs};
use std::process::ExitCode;

use anyhow::Context as _;

use crate::cli::ServeArgs;
use crate::config::{EnvMap, Settings};
use crate::judge::launch::{default_concurrency, launch, LaunchOptions};
use crate::judge::provision_judge_images;
use crate::task::Catalog;

pub fn serve(settings: &Settings, env: &EnvMap, args: &ServeArgs) -> anyhow::Result<ExitCode> {
    let catalog = Catalog::open(&settings.tasks_dir.value)?;
    let addr: SocketAddr = (args.host.as_str(), args.port)
        .to_socket_addrs()
        .with_context(|| format!("invalid --host {:?}", args.host))?
        .next()
        .with_context(|| format!("--host {:?} resolves to no address", args.host))?;
    let options = LaunchOptions {
        addr,
        admin_secret: env
            .get("SFORGE_JUDGE_ADMIN_SECRET")
            .filter(|s| !s.is_empty())
            .map(str::to_owned),
        concurrency: args
            .judge_concurrency
            .map_or_else(default_concurrency, usize::from),
        pool: crate::judge::launch::pool_size(args.judge_pool.or(settings.judge_pool.value)),
        max_upload_bytes: Some(args.max_upload_mib.saturating_mul(1 << 20)),
        shutdown_grace: std::time::Duration::from_secs(args.shutdown_grace),
        games: crate::judge::server::games::GameSettings {
            per_run: args.game_sessions_per_run as usize,
            total: args.game_sessions_max as usize,
            idle: std::time::Duration::from_secs(args.game_idle_timeout),
            ..crate::judge::server::games::GameSettings::default()
        },
    };
    if args.dry_run {
        let runner = crate::process::plan_runner(Vec::new(), settings.log_dir.value.join("plan"));
        provision_with(settings, &catalog, runner.as_ref());
        outln!(
            "# sforge serve would now listen on {addr}, grading up to {} submissions at once, \
             with {} warm judge container(s) per registered run and task",
            options.concurrency,
            options.pool
        );
        outln!(
            "# game sessions: {} per run and task, {} in all, ended after {}s idle",
            options.games.per_run,
            options.games.total,
            options.games.idle.as_secs()
        );
        return Ok(ExitCode::SUCCESS);
    }
    provision_with(settings, &catalog, crate::process::runner(false).as_ref());
    let service = launch(settings, &catalog, &[], &options)?;
    let handle = service.shutdown_handle();
    ctrlc::set_handler(move || handle.shutdown()).context("cannot install the Ctrl-C handler")?;
    outln!(
        "Starting SForge judge server on port {}",
        service.addr().port()
    );
    log::info!(
        "listening on {}, grading up to {} submissions at once",
        service.addr(),
        options.concurrency
    );
    service.wait();
    Ok(ExitCode::SUCCESS)
}

/// Builds the missing judge images before the server grades anything, through `runner` (a plan
/// runner prints the builds, and the images it cannot make as warnings in the script); a task
/// whose image cannot be made is reported and its gradings fail, the others are served.
fn provision_with(settings: &Settings, catalog: &Catalog, runner: &dyn crate::process::Runner) {
    let tasks = match catalog.all_tasks() {
        Ok(tasks) => tasks,
        Err(e) => {
            log::warn!("cannot read the tasks: {e}");
            return;
        }
    };
    let tasks: Vec<&crate::task::Task> = tasks.iter().collect();
    match provision_judge_images(settings, &catalog.benchmark, &tasks, runner) {
        Ok(missing) => {
            for (task, e) in missing {
                let text =
                    format!("task {task} cannot be graded until its judge image exists: {e}");
                if runner.is_plan() {
                    runner.plan_warning(&text);
                } else {
                    log::warn!("{text}");
                }
            }
        }
        Err(e) => log::warn!("cannot check the judge images: {e}"),
    }
}
