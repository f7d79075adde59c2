//! Where game sessions run: the [`GameHost`] interface the sessions drive (game containers in
//! production, see `judge::game`), and the calls they make to the in-container game app.

use serde_json::Value;

/// One session's container, to start.
#[derive(Debug, Clone, PartialEq)]
pub struct GameLaunch {
    pub task_id: String,
    pub run_id: String,
    pub session_id: String,
    /// `sforge.game.<task>.<sid>`.
    pub container: String,
    /// The run's registered judge limits (else the task's).
    pub cpu: Option<u32>,
    pub mem: Option<String>,
    /// The run's internet as registered (`None`: the task's own).
    pub internet: Option<bool>,
}

/// A call to the game app (docs/compatibility.md#the-in-container-game-app).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppCall {
    New,
    Step(String),
    Status,
    Close,
}

impl AppCall {
    /// The app's method and path.
    #[must_use]
    pub fn route(&self) -> (&'static str, &'static str) {
        match self {
            Self::New => ("POST", "/new"),
            Self::Step(_) => ("POST", "/step"),
            Self::Status => ("GET", "/status"),
            Self::Close => ("POST", "/close"),
        }
    }

    /// The JSON body sent.
    #[must_use]
    pub fn body(&self) -> Value {
        match self {
            Self::Step(action) => serde_json::json!({ "action": action }),
            _ => serde_json::json!({}),
        }
    }
}

/// Why a game call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GameError {
    /// The task is unknown or not a game task (404).
    #[error("{0}")]
    NotAGame(String),
    /// The container or its app did not come up (503).
    #[error("game server not ready: {0}")]
    NotReady(String),
    /// The app refused the call (its status and `detail`, shortened): passed on as 400.
    #[error("{detail}")]
    Refused { status: u16, detail: String },
    /// The app failed, answered too slowly, too much or unreadably (502).
    #[error("game server failed: {0}")]
    Failed(String),
}

/// Runs game containers; implementations bound every answer of the app in size and time (the
/// agent's moves drive the game, so the app is hostile).
pub trait GameHost: Send + Sync {
    /// `Ok` when `task_id` is a game task this host can start; else [`GameError::NotAGame`].
    fn check_task(&self, task_id: &str) -> Result<(), GameError>;

    /// Starts the container and its game app and waits until the app answers `/health`.
    fn launch(&self, launch: &GameLaunch) -> Result<(), GameError>;

    /// One call to the app in `container`: its JSON answer.
    fn call(&self, container: &str, call: &AppCall) -> Result<Value, GameError>;

    /// Removes the container (fine if it is gone).
    fn remove(&self, container: &str);
}
