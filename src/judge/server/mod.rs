//! The judge HTTP server (`sforge serve`): the SForge 1.0 wire API on the shared HTTP layer
//! ([`crate::http`]), with a journaled state that survives restarts and a bounded pool of grading
//! workers.

mod error;
pub mod games;
mod grading;
mod http;
mod journal;
mod limits;
mod multipart;
mod queue;
mod records;
mod register;
mod results;
mod routes;
mod secret;
mod service;
mod state;
mod views;

use std::collections::HashSet;
use std::io;
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

pub use grading::{Best, GradeJob, GradeOutcome, Grader, HistoryFields, Policy, RegisteredRun};
pub use journal::JOURNAL_FILE;
pub use secret::{read_admin_secret, state_dir};

use crate::http::{self as layer, Limits};
use crate::redact::Secrets;
use queue::JobQueue;
use routes::Context;
use service::{Judge, Options};

/// How long shutdown waits for HTTP exchanges in flight (an upload being received).
const HTTP_GRACE: Duration = Duration::from_secs(10);

/// Everything `sforge serve` decides about the judge server.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Where to listen; port 0 picks a free port (see [`RunningServer::addr`]).
    pub addr: SocketAddr,
    /// The state lives in `<log_dir>/judge/` (journal, admin secret, uploads).
    pub log_dir: PathBuf,
    /// Task ids that may be registered and submitted for.
    pub known_tasks: HashSet<String>,
    /// `SFORGE_JUDGE_ADMIN_SECRET`, read by the caller; else the persisted random secret.
    pub admin_secret: Option<String>,
    /// Gradings running at once (`--judge-concurrency`).
    pub judge_concurrency: usize,
    /// Connections served at once (each holds a thread); beyond them new ones get 503.
    pub max_connections: usize,
    /// Largest accepted submit body, in bytes (413 beyond).
    pub max_upload_bytes: u64,
    /// Completed reports kept in memory; older ones are re-read from the journal.
    pub result_cache: usize,
    /// fsync the journal after every record.
    pub fsync: bool,
    /// How long shutdown waits for running gradings before leaving them to the next start.
    pub shutdown_grace: Duration,
    /// Secret values masked as `***` in every answer (the admin secret is added at start):
    /// graded code may print what its container holds (docs/security.md#secrets).
    pub secrets: Secrets,
    /// Game sessions, served when set (`None`: the game routes answer 404).
    pub games: Option<games::GameSetup>,
}

impl ServerConfig {
    /// Defaults: 2 graders, [`layer::MAX_CONNECTIONS`] connections, 256 MiB uploads, 256 cached reports, fsync on,
    /// 10 minutes of shutdown grace.
    #[must_use]
    pub fn new(addr: SocketAddr, log_dir: PathBuf, known_tasks: HashSet<String>) -> Self {
        Self {
            addr,
            log_dir,
            known_tasks,
            admin_secret: None,
            judge_concurrency: 2,
            max_connections: layer::MAX_CONNECTIONS,
            max_upload_bytes: 256 << 20,
            result_cache: 256,
            fsync: true,
            shutdown_grace: Duration::from_secs(600),
            secrets: Secrets::new(),
            games: None,
        }
    }
}

/// Starts judge servers.
#[derive(Debug)]
pub struct JudgeServer;

impl JudgeServer {
    /// Opens (and replays) the state under `config.log_dir`, re-queues unfinished submissions,
    /// binds `config.addr` and starts the HTTP and grading threads.
    ///
    /// # Errors
    /// The state directory, journal or admin secret cannot be read or created, or the address
    /// cannot be bound.
    #[allow(clippy::needless_pass_by_value)] // the server owns what it is given
    pub fn start(
        config: ServerConfig,
        grader: Arc<dyn Grader>,
        policy: Arc<dyn Policy>,
    ) -> io::Result<RunningServer> {
        let (judge, pending) = Judge::open(Options {
            log_dir: config.log_dir.clone(),
            known_tasks: config.known_tasks.clone(),
            admin_secret: config.admin_secret.clone(),
            fsync: config.fsync,
            result_cache: config.result_cache,
        })?;
        let judge = Arc::new(judge);
        let queue = Arc::new(JobQueue::default());
        for job in pending {
            queue.push(job);
        }
        let listener = TcpListener::bind(config.addr)?;
        let workers = queue::spawn_workers(config.judge_concurrency, &queue, &judge, &grader)?;
        let games = config.games.clone().map(|setup| {
            let games = Arc::new(games::Games::new(
                setup,
                judge.clone(),
                config.log_dir.clone(),
            ));
            games.start_reaper();
            games
        });
        let mut secrets = config.secrets.clone();
        secrets.add(judge.admin_secret());
        let handler = http::JudgeHandler(Context {
            judge: judge.clone(),
            secrets,
            queue: queue.clone(),
            grader: Arc::clone(&grader),
            policy,
            max_upload: config.max_upload_bytes,
            games: games.clone(),
        });
        let mut limits = Limits::new(config.max_upload_bytes.max(routes::MAX_JSON));
        limits.max_connections = config.max_connections.max(1);
        let http = layer::Server::start(listener, "judge", limits, Arc::new(handler))?;
        log::info!(
            "judge server listening on {}, state in {}",
            http.addr(),
            config.log_dir.display()
        );
        Ok(RunningServer {
            http,
            workers,
            queue,
            judge,
            games,
            grace: config.shutdown_grace,
        })
    }
}

/// Stops a running server's HTTP side from any thread (a signal handler, for example);
/// [`RunningServer::wait`] then winds the graders down.
pub use layer::ShutdownHandle;

/// A started judge server.
#[derive(Debug)]
pub struct RunningServer {
    http: layer::Server,
    workers: Vec<JoinHandle<()>>,
    queue: Arc<JobQueue>,
    judge: Arc<Judge>,
    games: Option<Arc<games::Games>>,
    grace: Duration,
}

impl RunningServer {
    /// The bound address (with the real port when port 0 was asked for).
    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.http.addr()
    }

    /// A handle that stops the server from another thread.
    #[must_use]
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        self.http.shutdown_handle()
    }

    /// Graceful stop: no new requests, running gradings finish (up to the grace period),
    /// queued ones stay journaled and are graded at the next start.
    pub fn shutdown(self) {
        self.http.shutdown_handle().shutdown();
        self.wait();
    }

    /// Blocks until the server is stopped through a [`ShutdownHandle`], then winds down as
    /// [`RunningServer::shutdown`] does.
    pub fn wait(self) {
        let addr = self.http.addr();
        let busy = self.http.wait(HTTP_GRACE);
        if busy > 0 {
            log::warn!("judge: {busy} connection(s) still busy after {HTTP_GRACE:?}");
        }
        if let Some(games) = &self.games {
            games.shutdown();
        }
        self.queue.close();
        if self.queue.wait_idle(self.grace) {
            for thread in self.workers {
                let _ = thread.join();
            }
        } else {
            log::warn!("judge: gradings still running after the grace period; they will be graded again at the next start");
            self.judge.detach();
        }
        let pending = self.queue.len();
        if pending > 0 {
            log::info!("judge: {pending} queued submission(s) left for the next start");
        }
        log::info!("judge server on {addr} stopped");
    }
}
