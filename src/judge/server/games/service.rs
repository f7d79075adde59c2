//! The game sessions of a judge server: start (caps, eviction, container, `/new`), step, status,
//! close, close-all, the idle reaper and the shutdown that archives and removes everything.

use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use serde_json::Value;

use super::archive::{
    self, append_step, history_entry, history_step, step_record, write_result, HISTORY_STEPS,
};
use super::host::{AppCall, GameError, GameLaunch};
use super::table::{lock, Key, Reservation, Session, Shared, Table};
use super::GameSetup;
use crate::judge::api::{GameClosed, GameState, GameStatus, GamesClosed};
use crate::judge::server::error::ApiError;
use crate::judge::server::records::Registration;
use crate::judge::server::service::Judge;

/// Longest observation passed on from the game app, in bytes (longer ones are cut).
pub const MAX_OBSERVATION: usize = 64 << 10;

/// The game sessions of one judge server.
pub struct Games {
    table: Mutex<Table>,
    setup: GameSetup,
    judge: Arc<Judge>,
    log_dir: PathBuf,
    stopping: Mutex<bool>,
    wake: Condvar,
    reaper: Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for Games {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Games")
            .field("setup", &self.setup)
            .field("active", &self.active())
            .finish_non_exhaustive()
    }
}

/// The answer of the app, read defensively (missing or odd fields count as 0, "" or false).
struct Reply {
    observation: String,
    score: i64,
    max_score: Option<i64>,
    done: bool,
}

impl Reply {
    fn read(value: &Value) -> Self {
        let int = |k: &str| value.get(k).and_then(Value::as_i64);
        let mut observation = value
            .get("observation")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        if observation.len() > MAX_OBSERVATION {
            let mut end = MAX_OBSERVATION;
            while !observation.is_char_boundary(end) {
                end -= 1;
            }
            observation.truncate(end);
        }
        Reply {
            observation,
            score: int("score").or_else(|| int("final_score")).unwrap_or(0),
            max_score: int("max_score"),
            done: value.get("done").and_then(Value::as_bool).unwrap_or(false),
        }
    }
}

fn not_found(sid: &str) -> ApiError {
    ApiError::new(404, format!("Game session not found: {sid}"))
}

fn upstream(e: &GameError) -> ApiError {
    match e {
        GameError::NotAGame(text) => ApiError::new(404, text.clone()),
        GameError::NotReady(_) => ApiError::new(503, e.to_string()),
        GameError::Refused { .. } => ApiError::new(400, e.to_string()),
        GameError::Failed(_) => ApiError::new(502, e.to_string()),
    }
}

fn state_of(s: &Session, observation: String) -> GameState {
    GameState {
        session_id: s.session_id.clone(),
        observation,
        score: s.score,
        peak_score: s.peak_score,
        max_score: s.max_score,
        done: s.done,
        moves: s.moves,
    }
}

impl Games {
    #[must_use]
    pub fn new(setup: GameSetup, judge: Arc<Judge>, log_dir: PathBuf) -> Self {
        Self {
            table: Mutex::new(Table::default()),
            setup,
            judge,
            log_dir,
            stopping: Mutex::new(false),
            wake: Condvar::new(),
            reaper: Mutex::new(None),
        }
    }

    fn table(&self) -> MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn now(&self) -> f64 {
        (self.setup.clock)()
    }

    /// Active sessions in all.
    #[must_use]
    pub fn active(&self) -> usize {
        self.table().len()
    }

    /// `new`: a session for the run and task of `reg` (the token's registration).
    pub fn create(&self, reg: &Registration) -> Result<GameState, ApiError> {
        self.setup
            .host
            .check_task(&reg.task_id)
            .map_err(|e| upstream(&e))?;
        let session_id =
            crate::ids::random_hex(12).map_err(|e| ApiError::internal("no randomness", &e))?;
        let launch = GameLaunch {
            container: format!("sforge.game.{}.{session_id}", reg.task_id),
            task_id: reg.task_id.clone(),
            run_id: reg.run_id.clone(),
            session_id,
            cpu: reg.judge_cpu_limit,
            mem: reg.judge_mem_limit.clone(),
            internet: reg.internet,
        };
        let reservation = self.reserve(&(reg.run_id.clone(), reg.task_id.clone()))?;
        let reply = match self.start(&launch) {
            Ok(reply) => reply,
            Err(e) => {
                self.table().abandon(&reservation);
                return Err(e);
            }
        };
        let session = Session {
            session_id: launch.session_id,
            run_id: launch.run_id,
            task_id: launch.task_id,
            number: reservation.number,
            container: launch.container,
            score: reply.score,
            peak_score: reply.score.max(0),
            max_score: reply.max_score.unwrap_or(0),
            moves: 0,
            done: reply.done,
            started_at: self.now(),
            last_active: self.now(),
            steps: Vec::new(),
        };
        let answer = state_of(&session, reply.observation);
        let container = session.container.clone();
        if self.table().activate(&reservation, session).is_none() {
            self.setup.host.remove(&container);
            return Err(ApiError::new(503, "The judge is stopping"));
        }
        Ok(answer)
    }

    /// A place for a session of `key` under the caps; the sessions it evicts are ended.
    fn reserve(&self, key: &Key) -> Result<Reservation, ApiError> {
        let reservation = self
            .table()
            .reserve(key, &self.setup.settings, || {
                self.judge.last_game_number(&key.0, &key.1)
            })
            .map_err(|e| ApiError::new(503, e.to_string()))?;
        for old in &reservation.evicted {
            log::info!(
                "game session {} of run {} evicted: more than {} active",
                lock(old).session_id,
                key.0,
                self.setup.settings.per_run
            );
            self.finish(old, false);
        }
        Ok(reservation)
    }

    /// Starts the container and its game; a container that fails is removed.
    fn start(&self, launch: &GameLaunch) -> Result<Reply, ApiError> {
        let started = self
            .setup
            .host
            .launch(launch)
            .and_then(|()| self.setup.host.call(&launch.container, &AppCall::New));
        match started {
            Ok(value) => Ok(Reply::read(&value)),
            Err(e) => {
                self.setup.host.remove(&launch.container);
                log::warn!("game session for run {} not started: {e}", launch.run_id);
                Err(match e {
                    GameError::Refused { .. } => ApiError::new(500, e.to_string()),
                    other => upstream(&other),
                })
            }
        }
    }

    /// `step`: one action; a finished game is closed and archived before the answer.
    pub fn step(&self, key: &Key, sid: &str, action: &str) -> Result<GameState, ApiError> {
        let shared = self.table().get(key, sid).ok_or_else(|| not_found(sid))?;
        let mut s = lock(&shared);
        if !self
            .table()
            .get(key, sid)
            .is_some_and(|t| Arc::ptr_eq(&t, &shared))
        {
            return Err(not_found(sid)); // closed while this call waited
        }
        if s.done {
            return Err(ApiError::new(400, "The game is over"));
        }
        if s.moves >= self.setup.settings.max_moves {
            return Err(ApiError::new(
                400,
                format!("Move limit reached ({})", self.setup.settings.max_moves),
            ));
        }
        s.last_active = self.now();
        let value = self
            .setup
            .host
            .call(&s.container, &AppCall::Step(action.to_owned()))
            .map_err(|e| upstream(&e))?;
        let reply = Reply::read(&value);
        s.moves += 1;
        s.score = reply.score;
        s.peak_score = s.peak_score.max(reply.score);
        if let Some(max) = reply.max_score.filter(|_| s.max_score == 0) {
            s.max_score = max;
        }
        s.done = reply.done;
        s.last_active = self.now();
        let record = step_record(&s, action, &reply.observation);
        if let Err(e) = append_step(&self.log_dir, &s, &record) {
            log::error!("cannot write steps.jsonl of {sid}: {e}");
        }
        if s.steps.len() < HISTORY_STEPS {
            s.steps.push(history_step(&record));
        }
        let answer = state_of(&s, reply.observation);
        drop(s);
        if answer.done {
            if let Some(shared) = self.table().take(key, sid) {
                self.finish(&shared, true);
            }
        }
        Ok(answer)
    }

    /// `status`: the judge's values of the session (kept from the last call to the app).
    pub fn status(&self, key: &Key, sid: &str) -> Result<GameStatus, ApiError> {
        let shared = self.table().get(key, sid).ok_or_else(|| not_found(sid))?;
        let mut s = lock(&shared);
        s.last_active = self.now();
        Ok(GameStatus {
            session_id: s.session_id.clone(),
            score: s.score,
            peak_score: s.peak_score,
            max_score: s.max_score,
            done: s.done,
            moves: s.moves,
        })
    }

    /// `close`: archives the session and removes its container.
    pub fn close(&self, key: &Key, sid: &str) -> Result<GameClosed, ApiError> {
        let shared = self.table().take(key, sid).ok_or_else(|| not_found(sid))?;
        Ok(self.finish(&shared, true))
    }

    /// `close-all`: every session of the run and task.
    pub fn close_all(&self, key: &Key) -> GamesClosed {
        let all = self.table().take_all_of(key);
        for shared in &all {
            self.finish(shared, false);
        }
        GamesClosed {
            closed: all.len() as u64,
        }
    }

    /// Archives and removes the sessions idle for the configured time; how many.
    pub fn reap(&self) -> usize {
        let idle = self.setup.settings.idle.as_secs_f64();
        let gone = self.table().take_idle(self.now(), idle);
        for shared in &gone {
            log::info!(
                "game session {} idle for {idle}s: archived",
                lock(shared).session_id
            );
            self.finish(shared, false);
        }
        gone.len()
    }

    /// Ends a session taken out of the table: the app's final values when `ask_app`, the
    /// history entry and `game_result.json`, the container removed.
    fn finish(&self, shared: &Shared, ask_app: bool) -> GameClosed {
        let mut s = lock(shared);
        if ask_app {
            match self.setup.host.call(&s.container, &AppCall::Close) {
                Ok(value) => {
                    let reply = Reply::read(&value);
                    s.score = reply.score;
                    s.peak_score = s.peak_score.max(reply.score);
                }
                Err(e) => log::info!(
                    "game {}: /close failed ({e}); judge values kept",
                    s.session_id
                ),
            }
        }
        s.done = true;
        let entry = history_entry(&s);
        if let Err(e) = write_result(&self.log_dir, &s, &entry) {
            log::error!(
                "cannot write {}: {e}",
                archive::game_dir(&self.log_dir, &s).display()
            );
        }
        self.judge.archive_game(&s.run_id, entry);
        self.setup.host.remove(&s.container);
        GameClosed {
            session_id: s.session_id.clone(),
            final_score: s.score,
            peak_score: s.peak_score,
            max_score: s.max_score,
            moves: s.moves,
        }
    }

    /// Starts the thread that reaps idle sessions until [`Games::shutdown`].
    pub fn start_reaper(self: &Arc<Self>) {
        let games = Arc::clone(self);
        let every =
            (self.setup.settings.idle / 4).clamp(Duration::from_secs(1), Duration::from_secs(60));
        let handle = std::thread::Builder::new()
            .name("game-reaper".into())
            .spawn(move || loop {
                let stopping = games
                    .stopping
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                let (stopping, _) = games
                    .wake
                    .wait_timeout_while(stopping, every, |s| !*s)
                    .unwrap_or_else(PoisonError::into_inner);
                if *stopping {
                    return;
                }
                drop(stopping);
                games.reap();
            });
        match handle {
            Ok(h) => *self.reaper.lock().unwrap_or_else(PoisonError::into_inner) = Some(h),
            Err(e) => log::error!("cannot start the game reaper: {e}"),
        }
    }

    /// Stops the reaper, archives every session and removes its container.
    pub fn shutdown(&self) {
        *self.stopping.lock().unwrap_or_else(PoisonError::into_inner) = true;
        self.wake.notify_all();
        if let Some(h) = self
            .reaper
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            let _ = h.join();
        }
        let all = self.table().take_everything();
        if !all.is_empty() {
            log::info!("judge stopping: archiving {} game session(s)", all.len());
        }
        for shared in &all {
            self.finish(shared, false);
        }
    }
}
