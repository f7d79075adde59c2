//! Starting a judge server for a benchmark's tasks: the one way `sforge serve` and the judge that
//! `sforge run` starts for itself come to exist, and the one way they stop (gradings cut short
//! leave judge containers or pods, which are removed then).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use super::game::ContainerGameHost;
use super::pool::JudgePool;
use super::server::games::{GameSettings, GameSetup};
use super::server::{JudgeServer, RunningServer, ServerConfig, ShutdownHandle};
use super::{ContainerGrader, Judge, TaskPolicy, GRADER_LABEL};
use crate::config::{Backend, Settings};
use crate::process::{Cmd, Runner};
use crate::task::{Catalog, Task, TaskError};

/// What may differ between the judges a caller starts.
#[derive(Debug, Clone)]
pub struct LaunchOptions {
    pub addr: SocketAddr,
    /// `SFORGE_JUDGE_ADMIN_SECRET`, when set; else the persisted random secret.
    pub admin_secret: Option<String>,
    /// Gradings at once.
    pub concurrency: usize,
    /// Warm judge containers kept per run, task and limits (0: none).
    pub pool: usize,
    /// Largest submit body (`None`: the server's default).
    pub max_upload_bytes: Option<u64>,
    /// How long shutdown waits for running gradings.
    pub shutdown_grace: Duration,
    /// Limits of game sessions.
    pub games: GameSettings,
}

/// Why a judge cannot start.
#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    #[error(transparent)]
    Tasks(#[from] TaskError),
    #[error("cannot start the judge server on {addr}: {source}")]
    Start {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// A running judge server and what its stop must clean up.
pub struct JudgeService {
    server: RunningServer,
    /// Emptied when the server stops.
    pools: Vec<Arc<JudgePool>>,
    /// The settings of each backend the judge grades on.
    backends: Vec<Settings>,
    runner: Arc<dyn Runner>,
}

/// Start a judge for every task of `catalog`, grading on `settings`'s backend, except the tasks
/// listed in `per_task` whose own settings name another backend (an experiment mixing backends).
pub fn launch(
    settings: &Settings,
    catalog: &Catalog,
    per_task: &[(String, Settings)],
    options: &LaunchOptions,
) -> Result<JudgeService, LaunchError> {
    let tasks: HashMap<String, Task> = catalog
        .all_tasks()?
        .into_iter()
        .map(|t| (t.task_id.clone(), t))
        .collect();
    let mut config = ServerConfig::new(
        options.addr,
        settings.log_dir.value.clone(),
        tasks.keys().cloned().collect(),
    );
    config.admin_secret.clone_from(&options.admin_secret);
    config.judge_concurrency = options.concurrency.max(1);
    if let Some(bytes) = options.max_upload_bytes {
        config.max_upload_bytes = bytes;
    }
    config.shutdown_grace = options.shutdown_grace;
    crate::config::add_secret_values(settings, &mut config.secrets);
    for (_, task_settings) in per_task {
        crate::config::add_secret_values(task_settings, &mut config.secrets);
    }
    let owner = crate::owner::current_owner();
    let judge = |s: &Settings| {
        Judge::from_settings(s, &catalog.benchmark.name, &owner).with_pool(options.pool)
    };
    let others: Vec<&(String, Settings)> = per_task
        .iter()
        .filter(|(_, s)| s.backend.value != settings.backend.value)
        .collect();
    let mut backends = vec![settings.clone()];
    for (_, s) in &others {
        if backends.iter().all(|b| b.backend.value != s.backend.value) {
            backends.push(s.clone());
        }
    }
    let other_backends = others
        .iter()
        .map(|(id, s)| (id.clone(), judge(s)))
        .collect();
    let grader = Arc::new(ContainerGrader {
        judge: judge(settings),
        tasks: tasks.clone(),
        per_task: other_backends,
    });
    let pools = std::iter::once(&grader.judge)
        .chain(grader.per_task.values())
        .map(|j| Arc::clone(&j.pool))
        .collect();
    config.games = Some(GameSetup::new(
        Arc::new(ContainerGameHost {
            grader: Arc::clone(&grader),
        }),
        options.games,
    ));
    let server =
        JudgeServer::start(config, grader, Arc::new(TaskPolicy { tasks })).map_err(|source| {
            LaunchError::Start {
                addr: options.addr,
                source,
            }
        })?;
    Ok(JudgeService {
        server,
        pools,
        backends,
        runner: crate::process::runner(false),
    })
}

/// Warm judge containers per run, task and limits when none is asked for: one takes the
/// container start out of a lone submission's grading (README, "Warm judge containers and
/// throughput"); bursts want as many as they have submissions.
pub const DEFAULT_POOL: usize = 1;

/// The pool size for a `--judge-pool` / `SFORGE_JUDGE_POOL` value.
#[must_use]
pub fn pool_size(asked: Option<u32>) -> usize {
    asked.map_or(DEFAULT_POOL, |n| usize::try_from(n).unwrap_or(usize::MAX))
}

/// Four times the CPUs, from 2 to 16: most of a grading is waiting for the container engine
/// (start, exec, remove), which overlaps well; measured on 2 CPUs, 8 at once graded bursts of
/// 100 cold gradings 1.1 to 1.3 times as fast as 4 (bursts of 20 about as fast) and 1.6 to 1.9
/// times as fast as 1 (README, "Warm judge containers and throughput").
#[must_use]
pub fn default_concurrency() -> usize {
    (crate::parallel::default_jobs() * 4).clamp(2, 16)
}

impl JudgeService {
    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.server.addr()
    }

    /// A handle that stops the server from another thread (a signal handler).
    #[must_use]
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        self.server.shutdown_handle()
    }

    /// Wait until the server is stopped, then remove what its cut-short gradings left.
    pub fn wait(self) {
        let JudgeService {
            server,
            pools,
            backends,
            runner,
        } = self;
        server.wait();
        for pool in &pools {
            pool.shutdown();
        }
        for settings in &backends {
            remove_leftovers(runner.as_ref(), settings);
        }
    }

    /// Stop the server and clean up.
    pub fn stop(self) {
        self.server.shutdown_handle().shutdown();
        self.wait();
    }
}

/// Removes the judge containers (or pods) of this process: what a grading cut short by a signal
/// leaves (`sforge eval` on Ctrl-C).
pub struct LeftoverCleaner {
    settings: Settings,
    runner: Arc<dyn Runner>,
}

impl LeftoverCleaner {
    #[must_use]
    pub fn new(settings: &Settings) -> Self {
        LeftoverCleaner {
            settings: settings.clone(),
            runner: crate::process::runner(false),
        }
    }

    pub fn remove_leftovers(&self) {
        remove_leftovers(self.runner.as_ref(), &self.settings);
    }
}

/// Gradings cut short by the shutdown grace leave their containers or pods (labelled with this
/// process); the journal grades those submissions again at the next start.
fn remove_leftovers(runner: &dyn Runner, settings: &Settings) {
    let label = format!("{GRADER_LABEL}={}", std::process::id());
    match settings.backend.value {
        Backend::Docker => {
            let docker = &settings.docker.value;
            let list = Cmd::new(docker)
                .args(["ps", "-aq", "--filter", &format!("label={label}")])
                .read_only();
            let Ok(out) = runner.run(&list) else {
                return;
            };
            let ids = out.stdout_lines();
            if !ids.is_empty() {
                let _ = runner.run(&Cmd::new(docker).args(["rm", "-f", "-v"]).args(ids));
            }
        }
        Backend::K8s => {
            let kubectl = crate::sandbox::k8s::Kubectl::new(
                crate::sandbox::k8s::K8sConfig::from_settings(settings),
            );
            if let Err(e) = runner.run(&kubectl.delete_selected(&label)) {
                log::warn!("cannot remove the judge pods of this server: {e}");
            }
        }
    }
}
