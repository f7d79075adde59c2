//! `sforge serve`: the judge server, grading with judge containers on the local Docker engine.

use std::collections::HashMap;
use std::net::{SocketAddr, ToSocketAddrs};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;

use crate::cli::ServeArgs;
use crate::config::{Backend, EnvMap, Settings};
use crate::judge::server::{JudgeServer, ServerConfig};
use crate::judge::{ContainerGrader, Judge, TaskPolicy, GRADER_LABEL};
use crate::process::{self, Cmd, Runner};
use crate::task::{Catalog, Task};

pub fn run(settings: &Settings, env: &EnvMap, args: &ServeArgs) -> anyhow::Result<ExitCode> {
    let catalog = Catalog::open(&settings.tasks_dir.value)?;
    let tasks: HashMap<String, Task> = catalog
        .all_tasks()?
        .into_iter()
        .map(|t| (t.task_id.clone(), t))
        .collect();
    let addr: SocketAddr = (args.host.as_str(), args.port)
        .to_socket_addrs()
        .with_context(|| format!("invalid --host {:?}", args.host))?
        .next()
        .with_context(|| format!("--host {:?} resolves to no address", args.host))?;
    let mut config = ServerConfig::new(
        addr,
        settings.log_dir.value.clone(),
        tasks.keys().cloned().collect(),
    );
    config.admin_secret = env
        .get("SFORGE_JUDGE_ADMIN_SECRET")
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    config.judge_concurrency = args
        .judge_concurrency
        .map_or_else(default_concurrency, usize::from);
    config.max_upload_bytes = args.max_upload_mib.saturating_mul(1 << 20);
    config.shutdown_grace = std::time::Duration::from_secs(args.shutdown_grace);
    let runner: Arc<dyn Runner> = process::runner(false);
    let judge = Judge::from_settings(
        settings,
        &catalog.benchmark.name,
        &crate::owner::current_owner(),
    );
    let grader = Arc::new(ContainerGrader {
        judge,
        tasks: tasks.clone(),
        per_task: HashMap::new(),
    });
    let policy = Arc::new(TaskPolicy { tasks });
    let concurrency = config.judge_concurrency;
    let server = JudgeServer::start(config, grader, policy)
        .with_context(|| format!("cannot start the judge server on {addr}"))?;
    let handle = server.shutdown_handle();
    ctrlc::set_handler(move || handle.shutdown()).context("cannot install the Ctrl-C handler")?;
    println!(
        "Starting SForge judge server on port {}",
        server.addr().port()
    );
    log::info!(
        "listening on {}, grading up to {concurrency} submissions at once",
        server.addr()
    );
    server.wait();
    match settings.backend.value {
        Backend::Docker => remove_own_judge_containers(runner.as_ref(), &settings.docker.value),
        Backend::K8s => remove_own_judge_pods(runner.as_ref(), settings),
    }
    Ok(ExitCode::SUCCESS)
}

/// Gradings cut short by the shutdown grace left their containers: remove them (the journal
/// grades those submissions again at the next start).
fn remove_own_judge_containers(runner: &dyn Runner, docker: &str) {
    let filter = format!("label={GRADER_LABEL}={}", std::process::id());
    let list = Cmd::new(docker)
        .args(["ps", "-aq", "--filter", &filter])
        .read_only();
    let Ok(out) = runner.run(&list) else { return };
    let ids = out.stdout_lines();
    if !ids.is_empty() {
        let _ = runner.run(&Cmd::new(docker).args(["rm", "-f", "-v"]).args(ids));
    }
}

/// The k8s counterpart: pods (with their secrets and policies) labelled with this process.
fn remove_own_judge_pods(runner: &dyn Runner, settings: &Settings) {
    let kubectl =
        crate::sandbox::k8s::Kubectl::new(crate::sandbox::k8s::K8sConfig::from_settings(settings));
    let selector = format!("{GRADER_LABEL}={}", std::process::id());
    if let Err(e) = runner.run(&kubectl.delete_selected(&selector)) {
        log::warn!("cannot remove the judge pods of this server: {e}");
    }
}

/// Half the CPUs (grading is usually CPU-heavy), at least one.
fn default_concurrency() -> usize {
    (crate::parallel::default_jobs() / 2).max(1)
}
