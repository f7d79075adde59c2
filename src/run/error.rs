//! Why a run, or one task of it, did not complete. Setup errors stop the run before any container
//! starts; task errors are recorded in the task's `final_result.json` (`error`) and its log.

use std::path::PathBuf;

use crate::certs::CaFileError;
use crate::isolation::IsolationError;
use crate::judge::launch::LaunchError;
use crate::process::ProcessError;
use crate::proxy::ProxyClientError;
use crate::sandbox::SandboxError;
use crate::task::TaskError;

use super::agent::AgentError;
use super::judge_client::JudgeClientError;

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    // ---- Inputs, checked before anything starts.
    #[error("--agent is required")]
    NoAgent,
    #[error(transparent)]
    Agent(#[from] AgentError),
    #[error("cannot read the agent script {}: {source}", path.display())]
    AgentScript {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A base URL the agent cannot use (the text names the fix and where it was set).
    #[error("{0}")]
    BaseUrl(String),
    #[error("{source} (set by {setting})")]
    CaFile {
        setting: String,
        source: CaFileError,
    },
    #[error(transparent)]
    Task(#[from] TaskError),
    #[error("invalid run id {0:?}: use letters, digits, '.', '_' and '-' (it names a directory)")]
    RunId(String),

    // ---- What a run sets up: backends, images, the judge, keyless tokens.
    #[error(transparent)]
    Isolation(#[from] IsolationError),
    #[error(transparent)]
    Sandbox(#[from] SandboxError),
    #[error(transparent)]
    Copy(#[from] super::workspace::CopyError),
    #[error("cannot list the local docker images (is the docker daemon running?): {0}")]
    ImageList(#[source] ProcessError),
    #[error(transparent)]
    Launch(#[from] LaunchError),
    #[error(transparent)]
    JudgeClient(#[from] JudgeClientError),
    #[error("{0}")]
    Judge(String),
    #[error("{0}")]
    Keyless(String),
    #[error(transparent)]
    Proxy(#[from] ProxyClientError),
    #[error("cannot install the signal handler: {0}")]
    Signals(#[from] ctrlc::Error),
    #[error("cannot {what} {}: {source}", path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },

    // ---- One task.
    #[error("Install command failed (exit {code:?}): {script}\n{output}")]
    Install {
        script: String,
        code: Option<i32>,
        output: String,
    },
    /// The Work image lacks programs the install needs (the text names them and the fix).
    #[error("{0}")]
    MissingPrograms(String),
    #[error("the agent failed (exit code {code}): {reason}")]
    AgentFailed { code: String, reason: String },
    #[error("images not available: {0}")]
    Images(String),
    #[error("internet is off but no isolation backend is available")]
    NoIsolation,
    #[error("not started: the run was interrupted")]
    NotStarted,
}

impl RunError {
    /// An I/O error on `path` while doing `what` (e.g. "create").
    pub(crate) fn io(what: &'static str, path: &std::path::Path, source: std::io::Error) -> Self {
        RunError::Io {
            what,
            path: path.to_owned(),
            source,
        }
    }
}
