//! The table of active game sessions: who owns each, the caps (per run and task, and in total)
//! checked and reserved under one lock, game numbers, and idleness by an injected clock.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use serde_json::Value;

use super::GameSettings;

/// `(run_id, task_id)`.
pub type Key = (String, String);

/// One game session: what the judge knows of it between calls.
#[derive(Debug, Clone, PartialEq)]
#[allow(clippy::struct_field_names, reason = "named as on the wire")]
pub struct Session {
    pub session_id: String,
    pub run_id: String,
    pub task_id: String,
    /// The `N` of its round `game-N`.
    pub number: u64,
    pub container: String,
    pub score: i64,
    pub peak_score: i64,
    pub max_score: i64,
    pub moves: u64,
    pub done: bool,
    /// Epoch seconds of the start.
    pub started_at: f64,
    /// Epoch seconds of the last call.
    pub last_active: f64,
    /// The step records, as in `steps.jsonl`.
    pub steps: Vec<Value>,
}

/// A session shared between the table and the call that uses it (calls on one session are one
/// at a time).
pub type Shared = Arc<Mutex<Session>>;

/// Locks a session (a panic in another call does not lose it).
pub fn lock(session: &Shared) -> MutexGuard<'_, Session> {
    session.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Why a session cannot be started.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CapError {
    #[error("Too many active game sessions ({0})")]
    Total(usize),
    #[error("Too many game sessions of this run are starting ({0} allowed at once)")]
    PerRun(usize),
    #[error("The judge is stopping")]
    Stopping,
}

/// A place for a session being started, with its game number; sessions evicted to make room.
#[derive(Debug)]
pub struct Reservation {
    pub key: Key,
    pub number: u64,
    pub evicted: Vec<Shared>,
}

/// The active sessions and the places reserved for sessions being started.
/// An active session as the table files it (its number kept here, so that the table never
/// waits for a session's lock).
#[derive(Debug)]
struct Entry {
    key: Key,
    number: u64,
    session: Shared,
}

#[derive(Debug, Default)]
pub struct Table {
    active: HashMap<String, Entry>,
    starting: HashMap<Key, usize>,
    /// The last game number given out per run and task.
    numbers: HashMap<Key, u64>,
    /// Set by [`Table::take_everything`]: no session starts any more.
    closed: bool,
}

impl Table {
    fn starting_total(&self) -> usize {
        self.starting.values().sum()
    }

    fn active_of(&self, key: &Key) -> Vec<(u64, String)> {
        let mut of: Vec<(u64, String)> = self
            .active
            .iter()
            .filter(|(_, e)| &e.key == key)
            .map(|(sid, e)| (e.number, sid.clone()))
            .collect();
        of.sort();
        of
    }

    /// Reserves a place for a new session of `key`, evicting its oldest active sessions
    /// beyond `settings.per_run`; `archived` gives the highest game number already in the
    /// history (asked once per run and task).
    pub fn reserve(
        &mut self,
        key: &Key,
        settings: &GameSettings,
        archived: impl FnOnce() -> u64,
    ) -> Result<Reservation, CapError> {
        if self.closed {
            return Err(CapError::Stopping);
        }
        let per_run = settings.per_run.max(1);
        let starting = self.starting.get(key).copied().unwrap_or(0);
        if starting >= per_run {
            return Err(CapError::PerRun(per_run));
        }
        let mine = self.active_of(key);
        let evict = (mine.len() + starting + 1).saturating_sub(per_run);
        let total = self.active.len() + self.starting_total() - evict;
        if total >= settings.total {
            return Err(CapError::Total(settings.total));
        }
        let evicted = mine
            .iter()
            .take(evict)
            .filter_map(|(_, sid)| self.active.remove(sid).map(|e| e.session))
            .collect();
        let last = self.numbers.entry(key.clone()).or_insert_with(archived);
        *last += 1;
        *self.starting.entry(key.clone()).or_default() += 1;
        Ok(Reservation {
            key: key.clone(),
            number: *last,
            evicted,
        })
    }

    fn release(&mut self, key: &Key) {
        if let Some(n) = self.starting.get_mut(key) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.starting.remove(key);
            }
        }
    }

    /// The reserved session started: it becomes active (`None`, and it stays out, when the
    /// table was closed meanwhile: the caller ends it).
    pub fn activate(&mut self, reservation: &Reservation, session: Session) -> Option<Shared> {
        self.release(&reservation.key);
        if self.closed {
            return None;
        }
        let sid = session.session_id.clone();
        let shared = Arc::new(Mutex::new(session));
        let entry = Entry {
            key: reservation.key.clone(),
            number: reservation.number,
            session: Arc::clone(&shared),
        };
        self.active.insert(sid, entry);
        Some(shared)
    }

    /// The reserved session could not start (its number stays used).
    pub fn abandon(&mut self, reservation: &Reservation) {
        self.release(&reservation.key);
    }

    /// The session `sid` if it belongs to `key` (else `None`, as for an unknown id).
    #[must_use]
    pub fn get(&self, key: &Key, sid: &str) -> Option<Shared> {
        self.active
            .get(sid)
            .filter(|e| &e.key == key)
            .map(|e| Arc::clone(&e.session))
    }

    /// Removes and returns the session `sid` if it belongs to `key`.
    pub fn take(&mut self, key: &Key, sid: &str) -> Option<Shared> {
        self.get(key, sid)?;
        self.active.remove(sid).map(|e| e.session)
    }

    /// Removes and returns every session of `key`.
    pub fn take_all_of(&mut self, key: &Key) -> Vec<Shared> {
        let sids: Vec<String> = self.active_of(key).into_iter().map(|(_, s)| s).collect();
        sids.iter()
            .filter_map(|sid| self.active.remove(sid).map(|e| e.session))
            .collect()
    }

    /// Removes and returns every session, and closes the table.
    pub fn take_everything(&mut self) -> Vec<Shared> {
        self.closed = true;
        self.active.drain().map(|(_, e)| e.session).collect()
    }

    /// Removes and returns the sessions idle for `idle_secs` at `now`; a session in the middle
    /// of a call is not idle.
    pub fn take_idle(&mut self, now: f64, idle_secs: f64) -> Vec<Shared> {
        let idle: Vec<String> = self
            .active
            .iter()
            .filter(|(_, e)| {
                e.session
                    .try_lock()
                    .is_ok_and(|s| now - s.last_active >= idle_secs)
            })
            .map(|(sid, _)| sid.clone())
            .collect();
        idle.iter()
            .filter_map(|sid| self.active.remove(sid).map(|e| e.session))
            .collect()
    }

    /// Active sessions in all.
    #[must_use]
    pub fn len(&self) -> usize {
        self.active.len()
    }
}
