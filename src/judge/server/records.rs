//! The journal's record types: one JSON object per line, tagged by `type`. Every change of judge
//! state is one record, and replaying the records in order rebuilds the state.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::grading::HistoryFields;
use crate::judge::api::HistoryEntry;

/// One journal line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Record {
    Register(Registration),
    Submit(Submitted),
    Result(Finished),
    Game(GameArchived),
}

/// A game session that ended (closed, idle, evicted or cut short): its history entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GameArchived {
    pub run_id: String,
    pub entry: HistoryEntry,
    /// Epoch seconds.
    pub at: f64,
}

/// Who submitted: the agent itself (budget, cooldown and deadline apply) or the harness.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Agent,
    Auto,
}

impl Kind {
    /// Parses the `kind` form field.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "agent" => Some(Self::Agent),
            "auto" => Some(Self::Auto),
            _ => None,
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Agent => "agent",
            Self::Auto => "auto",
        })
    }
}

/// A `POST /register`: a new token and the limits stored with it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Registration {
    pub token: String,
    pub task_id: String,
    pub run_id: String,
    pub judge_cpu_limit: Option<u32>,
    pub judge_mem_limit: Option<String>,
    pub max_agent_submissions: Option<u64>,
    pub submission_cooldown: Option<u64>,
    /// Epoch seconds after which `kind=agent` submissions are refused (our extension).
    pub deadline: Option<f64>,
    /// The run's internet (our extension; `None`: the task's own setting).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub internet: Option<bool>,
    pub backend: Option<String>,
    pub k8s_image_registry: Option<String>,
    pub k8s_namespace: Option<String>,
    pub k8s_node_selector: Option<BTreeMap<String, Value>>,
    pub k8s_kubeconfig: Option<String>,
    /// Epoch seconds.
    pub registered_at: f64,
}

/// An accepted `POST /submit`: consumes round `n` of `kind` for the token, starts the cooldown
/// clock for agent rounds, and queues the archive (stored at `archive`) for grading.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Submitted {
    pub submission_id: String,
    pub token: String,
    pub task_id: String,
    pub run_id: String,
    pub kind: Kind,
    pub n: u64,
    pub archive: PathBuf,
    /// Epoch seconds.
    pub at: f64,
}

impl Submitted {
    /// `agent-N` or `auto-N`.
    #[must_use]
    pub fn round(&self) -> String {
        format!("{}-{}", self.kind, self.n)
    }
}

/// The end of grading: a report, or an infrastructure error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finished {
    pub submission_id: String,
    pub outcome: Outcome,
    /// Epoch seconds.
    pub at: f64,
}

/// How grading ended, as journaled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    Completed {
        report: Value,
        history: HistoryFields,
    },
    Error {
        error: String,
    },
}
