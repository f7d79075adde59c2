//! Game sessions against a test double of the game host (named `CountingHost`: a game in
//! memory, since unit tests run without Docker; `tests/game_e2e.rs` drives real game containers):
//! tokens, ownership, caps, eviction, the idle reaper with an injected clock, bounds and files.

use std::collections::HashSet;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};

use super::archive::HISTORY_OBSERVATION;
use super::service::MAX_OBSERVATION;
use super::table::Key;
use super::*;
use crate::judge::server::records::Registration;
use crate::judge::server::service::{Judge, Options};

/// A test double of [`GameHost`]: each step scores a point, the game ends at 3; it records the
/// containers it starts and removes.
#[derive(Default)]
struct CountingHost {
    scores: Mutex<std::collections::HashMap<String, i64>>,
    launched: Mutex<Vec<String>>,
    removed: Mutex<Vec<String>>,
    fail_launch: AtomicBool,
    /// Length of the observation each step answers.
    observation_len: AtomicU64,
}

impl GameHost for CountingHost {
    fn check_task(&self, task_id: &str) -> Result<(), GameError> {
        if task_id == "game" {
            Ok(())
        } else {
            Err(GameError::NotAGame(format!("Not a game task: {task_id}")))
        }
    }

    fn launch(&self, launch: &GameLaunch) -> Result<(), GameError> {
        self.launched.lock().unwrap().push(launch.container.clone());
        if self.fail_launch.load(Ordering::SeqCst) {
            return Err(GameError::NotReady("no answer to /health".into()));
        }
        Ok(())
    }

    fn call(&self, container: &str, call: &AppCall) -> Result<Value, GameError> {
        let mut scores = self.scores.lock().unwrap();
        let score = scores.entry(container.to_owned()).or_insert(0);
        let len = usize::try_from(self.observation_len.load(Ordering::SeqCst)).unwrap();
        match call {
            AppCall::New => *score = 0,
            AppCall::Step(action) if action == "bad" => {
                return Err(GameError::Refused {
                    status: 400,
                    detail: "no such verb".into(),
                })
            }
            AppCall::Step(_) => *score += 1,
            AppCall::Status => {}
            AppCall::Close => return Ok(json!({"final_score": *score, "max_score": 3})),
        }
        Ok(
            json!({"observation": "x".repeat(len.max(1)), "score": *score, "max_score": 3,
                  "done": *score >= 3}),
        )
    }

    fn remove(&self, container: &str) {
        self.removed.lock().unwrap().push(container.to_owned());
    }
}

struct Fixture {
    _dir: tempfile::TempDir,
    log_dir: std::path::PathBuf,
    judge: Arc<Judge>,
    host: Arc<CountingHost>,
    now: Arc<AtomicU64>,
    games: Games,
}

fn open_judge(log_dir: &Path) -> Arc<Judge> {
    let (judge, _) = Judge::open(Options {
        log_dir: log_dir.to_owned(),
        known_tasks: ["game", "plain"]
            .map(str::to_owned)
            .into_iter()
            .collect::<HashSet<_>>(),
        admin_secret: Some("admin".into()),
        fsync: false,
        result_cache: 4,
    })
    .unwrap();
    Arc::new(judge)
}

fn fixture(settings: GameSettings) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let log_dir = dir.path().join("logs");
    let judge = open_judge(&log_dir);
    let host = Arc::new(CountingHost::default());
    let now = Arc::new(AtomicU64::new(1_000));
    let clock_now = Arc::clone(&now);
    #[allow(clippy::cast_precision_loss, reason = "small test times")]
    let setup = GameSetup {
        host: host.clone(),
        settings,
        clock: Arc::new(move || clock_now.load(Ordering::SeqCst) as f64),
    };
    let games = Games::new(setup, Arc::clone(&judge), log_dir.clone());
    Fixture {
        _dir: dir,
        log_dir,
        judge,
        host,
        now,
        games,
    }
}

impl Fixture {
    /// Whether the game container of session `sid` was removed.
    fn removed(&self, sid: &str) -> bool {
        self.host
            .removed
            .lock()
            .unwrap()
            .iter()
            .any(|c| c.ends_with(sid))
    }

    fn register(&self, run: &str, task: &str) -> Registration {
        let reg = Registration {
            task_id: task.into(),
            run_id: run.into(),
            ..Registration::default()
        };
        let token = self.judge.register(reg, "admin").unwrap();
        self.judge.game_registration(&token, run, task).unwrap()
    }

    fn history_rounds(&self, reg: &Registration) -> Vec<String> {
        self.judge.with_inner(|inner| {
            inner
                .state
                .histories
                .get(&(reg.run_id.clone(), reg.task_id.clone()))
                .map(|h| h.iter().map(|e| e.round.clone()).collect())
                .unwrap_or_default()
        })
    }
}

fn key(reg: &Registration) -> Key {
    (reg.run_id.clone(), reg.task_id.clone())
}

#[test]
fn tokens_belong_to_one_run_and_task() {
    let f = fixture(GameSettings::default());
    let reg = Registration {
        task_id: "game".into(),
        run_id: "r1".into(),
        ..Registration::default()
    };
    let token = f.judge.register(reg, "admin").unwrap();
    assert!(f.judge.game_registration(&token, "r1", "game").is_ok());
    for (run, task) in [("r2", "game"), ("r1", "plain"), ("r2", "plain")] {
        let err = f.judge.game_registration(&token, run, task).unwrap_err();
        assert_eq!(
            (err.status, err.detail.as_str()),
            (401, Some("Invalid token"))
        );
    }
    assert_eq!(
        f.judge
            .game_registration("", "r1", "game")
            .unwrap_err()
            .status,
        401
    );
}

#[test]
fn a_session_is_found_only_within_its_run_and_task() {
    let f = fixture(GameSettings::default());
    let mine = f.register("r1", "game");
    let other = f.register("r2", "game");
    let sid = f.games.create(&mine).unwrap().session_id;
    let unknown = f
        .games
        .step(&key(&other), "000000000000", "go")
        .unwrap_err();
    let foreign = f.games.step(&key(&other), &sid, "go").unwrap_err();
    assert_eq!((foreign.status, unknown.status), (404, 404));
    let expected = unknown
        .detail
        .as_str()
        .unwrap()
        .replace("000000000000", &sid);
    assert_eq!(
        foreign.detail,
        Value::String(expected),
        "the same answer as an unknown id"
    );
    assert_eq!(f.games.status(&key(&other), &sid).unwrap_err().status, 404);
    assert_eq!(f.games.close(&key(&other), &sid).unwrap_err().status, 404);
    assert_eq!(f.games.close_all(&key(&other)).closed, 0);
    // Still alive for its owner.
    assert_eq!(f.games.step(&key(&mine), &sid, "go").unwrap().moves, 1);
}

#[test]
fn steps_are_recorded_and_a_finished_game_is_archived() {
    let f = fixture(GameSettings::default());
    let reg = f.register("r1", "game");
    let sid = f.games.create(&reg).unwrap().session_id;
    f.now.store(1_005, Ordering::SeqCst);
    let err = f.games.step(&key(&reg), &sid, "bad").unwrap_err();
    assert_eq!(
        (err.status, err.detail.as_str()),
        (400, Some("no such verb"))
    );
    for _ in 0..2 {
        assert!(!f.games.step(&key(&reg), &sid, "go").unwrap().done);
    }
    let last = f.games.step(&key(&reg), &sid, "go").unwrap();
    assert!(last.done && last.score == 3 && last.peak_score == 3 && last.moves == 3);
    assert_eq!(f.games.active(), 0, "a finished game is closed");
    let dir = f.log_dir.join("runs/r1/game/submissions/game-1");
    let steps = std::fs::read_to_string(dir.join("steps.jsonl")).unwrap();
    assert_eq!(steps.lines().count(), 3);
    let result: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("game_result.json")).unwrap())
            .unwrap();
    assert_eq!(result["final_score"], 3);
    assert_eq!(result["pass_rate"], 1.0);
    assert_eq!(result["round"], "game-1");
    assert_eq!(
        (result["started_at"].as_f64(), result["ended_at"].as_f64()),
        (Some(1_000.0), Some(1_005.0)),
        "{result}"
    );
    assert_eq!(f.history_rounds(&reg), ["game-1"]);
    assert!(f.removed(sid.as_str()));
    assert_eq!(
        f.games.step(&key(&reg), &sid, "go").unwrap_err().status,
        404
    );
}

#[test]
fn the_per_run_cap_evicts_the_oldest_session() {
    let f = fixture(GameSettings {
        per_run: 2,
        ..GameSettings::default()
    });
    let reg = f.register("r1", "game");
    let other = f.register("r2", "game");
    let first = f.games.create(&reg).unwrap().session_id;
    let second = f.games.create(&reg).unwrap().session_id;
    let theirs = f.games.create(&other).unwrap().session_id;
    let third = f.games.create(&reg).unwrap().session_id;
    assert_eq!(f.games.active(), 3);
    assert_eq!(f.games.status(&key(&reg), &first).unwrap_err().status, 404);
    for sid in [&second, &third] {
        assert!(f.games.status(&key(&reg), sid).is_ok());
    }
    assert!(
        f.games.status(&key(&other), &theirs).is_ok(),
        "other runs keep theirs"
    );
    assert!(f.removed(first.as_str()));
    assert_eq!(f.history_rounds(&reg), ["game-1"]);
    assert_eq!(f.games.close_all(&key(&reg)).closed, 2);
    let mut rounds = f.history_rounds(&reg);
    rounds.sort();
    assert_eq!(rounds, ["game-1", "game-2", "game-3"]);
}

#[test]
fn the_total_cap_refuses_new_sessions() {
    let f = fixture(GameSettings {
        total: 2,
        per_run: 1,
        ..GameSettings::default()
    });
    let a = f.register("a", "game");
    let b = f.register("b", "game");
    let c = f.register("c", "game");
    f.games.create(&a).unwrap();
    f.games.create(&b).unwrap();
    let err = f.games.create(&c).unwrap_err();
    assert_eq!(err.status, 503);
    assert!(err
        .detail
        .as_str()
        .unwrap()
        .contains("Too many active game sessions (2)"));
    // A run at its own cap replaces its oldest one instead.
    assert!(f.games.create(&a).is_ok());
    assert_eq!(f.games.active(), 2);
}

#[test]
fn a_failed_start_frees_its_place_and_removes_its_container() {
    let f = fixture(GameSettings {
        per_run: 1,
        ..GameSettings::default()
    });
    let reg = f.register("r1", "game");
    f.host.fail_launch.store(true, Ordering::SeqCst);
    assert_eq!(f.games.create(&reg).unwrap_err().status, 503);
    let launched = f.host.launched.lock().unwrap().clone();
    assert_eq!(*f.host.removed.lock().unwrap(), launched);
    f.host.fail_launch.store(false, Ordering::SeqCst);
    let started = f.games.create(&reg).unwrap();
    assert_eq!(f.games.active(), 1);
    assert_eq!(started.moves, 0);
    let plain = f.register("r1", "plain");
    assert_eq!(f.games.create(&plain).unwrap_err().status, 404);
}

#[test]
fn the_reaper_archives_idle_sessions_only() {
    let f = fixture(GameSettings {
        idle: Duration::from_secs(600),
        ..GameSettings::default()
    });
    let reg = f.register("r1", "game");
    let idle = f.games.create(&reg).unwrap().session_id;
    f.now.fetch_add(300, Ordering::SeqCst);
    let busy = f.games.create(&reg).unwrap().session_id;
    assert_eq!(f.games.reap(), 0);
    f.now.fetch_add(299, Ordering::SeqCst);
    f.games.step(&key(&reg), &busy, "go").unwrap();
    f.now.fetch_add(1, Ordering::SeqCst);
    assert_eq!(f.games.reap(), 1, "600 s after its last call");
    assert_eq!(f.games.status(&key(&reg), &idle).unwrap_err().status, 404);
    assert!(f.games.status(&key(&reg), &busy).is_ok());
    assert!(f.removed(idle.as_str()));
    assert_eq!(f.history_rounds(&reg), ["game-1"]);
}

#[test]
fn shutdown_archives_and_removes_everything() {
    let f = fixture(GameSettings::default());
    let reg = f.register("r1", "game");
    let other = f.register("r2", "game");
    f.games.create(&reg).unwrap();
    f.games.create(&other).unwrap();
    f.games.shutdown();
    assert_eq!(f.games.active(), 0);
    assert_eq!(f.host.removed.lock().unwrap().len(), 2);
    assert_eq!(f.history_rounds(&reg), ["game-1"]);
    assert_eq!(f.history_rounds(&other), ["game-1"]);
    assert_eq!(
        f.games.create(&reg).unwrap_err().status,
        503,
        "no start after the stop"
    );
}

#[test]
fn a_session_that_finishes_starting_after_the_stop_is_not_kept() {
    let mut table = super::table::Table::default();
    let key: Key = ("r".into(), "game".into());
    let reservation = table.reserve(&key, &GameSettings::default(), || 0).unwrap();
    assert!(table.take_everything().is_empty());
    let session = super::table::Session {
        session_id: "s".into(),
        run_id: "r".into(),
        task_id: "game".into(),
        number: reservation.number,
        container: "c".into(),
        score: 0,
        peak_score: 0,
        max_score: 1,
        moves: 0,
        done: false,
        started_at: 0.0,
        last_active: 0.0,
        steps: Vec::new(),
    };
    assert!(table.activate(&reservation, session).is_none());
    assert_eq!(table.len(), 0);
}

#[test]
fn game_numbers_continue_after_a_restart() {
    let f = fixture(GameSettings::default());
    let reg = f.register("r1", "game");
    f.games.create(&reg).unwrap();
    f.games.create(&reg).unwrap();
    f.games.shutdown();
    drop(f.games);
    drop(f.judge);
    let judge = open_judge(&f.log_dir);
    let setup = GameSetup::new(f.host.clone(), GameSettings::default());
    let games = Games::new(setup, Arc::clone(&judge), f.log_dir.clone());
    assert_eq!(judge.last_game_number("r1", "game"), 2);
    let reg = judge.game_registration(&reg.token, "r1", "game").unwrap();
    let sid = games.create(&reg).unwrap().session_id;
    games.close(&key(&reg), &sid).unwrap();
    assert!(f
        .log_dir
        .join("runs/r1/game/submissions/game-3/game_result.json")
        .exists());
}

#[test]
fn observations_are_bounded() {
    let f = fixture(GameSettings::default());
    let reg = f.register("r1", "game");
    f.host.observation_len.store(
        u64::try_from(MAX_OBSERVATION * 2).unwrap(),
        Ordering::SeqCst,
    );
    let sid = f.games.create(&reg).unwrap().session_id;
    let state = f.games.step(&key(&reg), &sid, "go").unwrap();
    assert_eq!(state.observation.len(), MAX_OBSERVATION);
    f.games.close(&key(&reg), &sid).unwrap();
    let entry = f
        .judge
        .with_inner(|inner| inner.state.histories[&key(&reg)][0].game.clone().unwrap());
    let kept = entry.steps[0]["observation"].as_str().unwrap().len();
    assert!(kept <= HISTORY_OBSERVATION + 8, "{kept}");
}

#[test]
fn the_move_limit_stops_a_session() {
    let f = fixture(GameSettings {
        max_moves: 1,
        ..GameSettings::default()
    });
    let reg = f.register("r1", "game");
    let sid = f.games.create(&reg).unwrap().session_id;
    f.games.step(&key(&reg), &sid, "go").unwrap();
    let err = f.games.step(&key(&reg), &sid, "go").unwrap_err();
    assert_eq!(err.status, 400);
}
