//! Game sessions behind the judge's `/api/v1/game/...` routes (docs/compatibility.md#game-routes):
//! each session is a game container the judge drives for one run and task, capped per run and
//! in total, reaped when idle, archived into the run's history and log directory.

mod archive;
mod host;
mod routes;
mod service;
mod table;
#[cfg(test)]
mod tests;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

pub use host::{AppCall, GameError, GameHost, GameLaunch};
pub use routes::dispatch;
pub use service::Games;

/// Seconds since the epoch, as the game sessions see it (a fixed clock in tests).
pub type Clock = Arc<dyn Fn() -> f64 + Send + Sync>;

/// The limits of game sessions (`sforge serve --game-*`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GameSettings {
    /// Active sessions per run and task; a new one beyond evicts the oldest (as SForge 1.0).
    pub per_run: usize,
    /// Active sessions in all; beyond, `new` is refused with 503.
    pub total: usize,
    /// A session without a call for this long is archived and its container removed.
    pub idle: Duration,
    /// Moves one session may make; later steps are refused with 400.
    pub max_moves: u64,
}

impl Default for GameSettings {
    fn default() -> Self {
        Self {
            per_run: 3,
            total: 32,
            idle: Duration::from_secs(600),
            max_moves: 5000,
        }
    }
}

/// What a judge server needs to serve game sessions.
#[derive(Clone)]
pub struct GameSetup {
    pub host: Arc<dyn GameHost>,
    pub settings: GameSettings,
    pub clock: Clock,
}

impl GameSetup {
    /// Sessions on `host` under `settings`, timed by the system clock.
    #[must_use]
    pub fn new(host: Arc<dyn GameHost>, settings: GameSettings) -> Self {
        Self {
            host,
            settings,
            clock: Arc::new(crate::clock::epoch_seconds),
        }
    }
}

impl fmt::Debug for GameSetup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GameSetup")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}
