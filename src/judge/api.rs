//! The judge's HTTP API as types, shared by the server (`judge::server`), its client
//! (`run::judge_client`) and the tests: what each endpoint takes and answers
//! (docs/compatibility.md#the-judge-api). The wire format is SForge 1.0's.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::grading::SelectionEntry;

/// `POST /api/v1/register` (JSON).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RegisterRequest {
    pub task_id: String,
    pub run_id: String,
    #[serde(default)]
    pub admin_secret: String,
    pub judge_cpu_limit: Option<u32>,
    pub judge_mem_limit: Option<String>,
    pub max_agent_submissions: Option<u64>,
    pub submission_cooldown: Option<u64>,
    /// Epoch seconds after which agent submissions are refused (ours).
    pub deadline: Option<f64>,
    /// Whether the run has internet (ours): when false, its judge containers get no network
    /// unless the task asks for one (`judge.internet`). Absent: the task's `internet`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub internet: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub k8s_image_registry: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub k8s_namespace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub k8s_node_selector: Option<BTreeMap<String, Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub k8s_kubeconfig: Option<String>,
}

/// The answer to `register`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisterResponse {
    /// 32 hex digits.
    pub token: String,
}

/// The answer to `POST /api/v1/submit`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubmitResponse {
    /// 12 hex digits.
    pub submission_id: String,
    /// `agent-N` or `auto-N`.
    pub round_id: String,
    /// Always `queued` when accepted.
    pub status: String,
    /// Agent rounds left under the budget (`null`: no budget, or an auto round).
    pub remaining_submissions: Option<u64>,
}

/// Where a submission is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubmissionStatus {
    Queued,
    Running,
    Completed,
    /// The harness could not grade it (never a zero score).
    Error,
}

impl SubmissionStatus {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Completed => "completed",
            Self::Error => "error",
        }
    }

    /// Grading has ended (either way).
    #[must_use]
    pub fn is_final(self) -> bool {
        matches!(self, Self::Completed | Self::Error)
    }
}

/// The answer to `GET /api/v1/result/{submission_id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResultResponse {
    pub submission_id: String,
    pub status: SubmissionStatus,
    /// The evaluation report without `raw_output` and `score_0_100`; `null` until completed.
    pub report: Option<Value>,
    /// Why the harness could not grade it.
    pub error: Option<String>,
}

/// The grading fields of a completed history entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryFields {
    pub pass_rate: f64,
    pub score: Option<f64>,
    pub passed: u64,
    pub failed: u64,
    pub total_tests: u64,
    pub valid: bool,
    pub summary: Option<String>,
}

/// What a history entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryType {
    Submission,
    Game,
}

/// The state of a history entry: `running` from submission until graded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryStatus {
    Running,
    Completed,
    Error,
}

/// One entry of a history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    #[serde(rename = "type")]
    pub entry_type: EntryType,
    pub status: EntryStatus,
    /// Submissions only (game entries name their `session_id` instead).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub submission_id: String,
    pub task_id: String,
    /// `agent-N`, `auto-N`, `game-N` or `manual-N`.
    pub round: String,
    /// Present once graded.
    #[serde(flatten, default, skip_serializing_if = "Option::is_none")]
    pub grade: Option<HistoryFields>,
    /// Game entries only: the session's scores and steps (its `grade` holds the pass rate,
    /// final ÷ maximum score, and the final score).
    #[serde(flatten, default, skip_serializing_if = "Option::is_none")]
    pub game: Option<GameFields>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The fields of a game history entry besides its grade (docs/compatibility.md#game-routes).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GameFields {
    pub session_id: String,
    pub max_score: i64,
    pub peak_score: i64,
    pub final_score: i64,
    pub moves: u64,
    /// One record per step: `{move, action, observation, score, peak_score, max_score, done}`.
    pub steps: Vec<Value>,
    /// Epoch seconds of the session's start and of its last move (sforge's addition: the
    /// visualizer places game rounds in time by them; SForge 1.0 entries lack them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<f64>,
}

/// The answer to a game session's `new` and `step`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GameState {
    pub session_id: String,
    pub observation: String,
    pub score: i64,
    pub peak_score: i64,
    pub max_score: i64,
    pub done: bool,
    pub moves: u64,
}

/// The answer to a game session's `status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GameStatus {
    pub session_id: String,
    pub score: i64,
    pub peak_score: i64,
    pub max_score: i64,
    pub done: bool,
    pub moves: u64,
}

/// The answer to a game session's `close`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GameClosed {
    pub session_id: String,
    pub final_score: i64,
    pub peak_score: i64,
    pub max_score: i64,
    pub moves: u64,
}

/// The answer to `close-all`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GamesClosed {
    pub closed: u64,
}

impl HistoryEntry {
    /// Not graded yet.
    #[must_use]
    pub fn is_pending(&self) -> bool {
        self.status == EntryStatus::Running
    }
}

/// The answer to `GET /api/v1/history` (admin view: every round; agent view: no `auto-*`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct History {
    pub run_id: String,
    pub best_score: Option<f64>,
    pub best_pass_rate: f64,
    pub best_round: String,
    pub agent_submissions: u64,
    pub auto_submissions: u64,
    pub entries: Vec<HistoryEntry>,
}

impl History {
    /// The number of entries whose round starts with `prefix` (`agent-`, `auto-`).
    #[must_use]
    pub fn rounds_of(&self, prefix: &str) -> u64 {
        self.entries
            .iter()
            .filter(|e| e.round.starts_with(prefix))
            .count() as u64
    }
}

/// An error answer: `{"detail": …}` (a text, or pydantic-style items for a 422).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorResponse {
    pub detail: Value,
}

impl SelectionEntry for HistoryEntry {
    fn entry_type(&self) -> Option<&str> {
        Some(match self.entry_type {
            EntryType::Submission => "submission",
            EntryType::Game => "game",
        })
    }
    fn status(&self) -> Option<&str> {
        Some(match self.status {
            EntryStatus::Running => "running",
            EntryStatus::Completed => "completed",
            EntryStatus::Error => "error",
        })
    }
    fn pass_rate(&self) -> Option<f64> {
        self.grade.as_ref().map(|g| g.pass_rate)
    }
    fn score(&self) -> Option<f64> {
        self.grade.as_ref().and_then(|g| g.score)
    }
    #[allow(clippy::cast_precision_loss, reason = "game scores are small integers")]
    fn max_score(&self) -> Option<f64> {
        self.game.as_ref().map(|g| g.max_score as f64)
    }
    fn valid(&self) -> Option<bool> {
        self.grade.as_ref().map(|g| g.valid)
    }
    fn round(&self) -> Option<&str> {
        Some(&self.round)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn history_entries_read_and_write_the_wire_format() {
        let wire = json!({
            "type": "submission", "status": "completed", "submission_id": "abc123abc123",
            "task_id": "t", "round": "agent-1", "pass_rate": 0.5, "score": null, "passed": 1,
            "failed": 1, "total_tests": 2, "valid": true, "summary": "1/2 tests passed"
        });
        let entry: HistoryEntry = serde_json::from_value(wire.clone()).unwrap();
        assert_eq!(entry.grade.as_ref().unwrap().passed, 1);
        assert_eq!(serde_json::to_value(&entry).unwrap(), wire);

        let running = json!({
            "type": "submission", "status": "running", "submission_id": "x",
            "task_id": "t", "round": "auto-2"
        });
        let entry: HistoryEntry = serde_json::from_value(running.clone()).unwrap();
        assert!(entry.is_pending() && entry.grade.is_none());
        assert_eq!(serde_json::to_value(&entry).unwrap(), running);

        let failed = json!({
            "type": "submission", "status": "error", "submission_id": "x",
            "task_id": "t", "round": "agent-3", "error": "judge container did not start"
        });
        let entry: HistoryEntry = serde_json::from_value(failed.clone()).unwrap();
        assert_eq!(serde_json::to_value(&entry).unwrap(), failed);
    }

    #[test]
    fn game_entries_read_and_write_the_wire_format() {
        let wire = json!({
            "type": "game", "status": "completed", "task_id": "t", "round": "game-2",
            "pass_rate": 0.5, "score": 1.0, "passed": 0, "failed": 0, "total_tests": 0,
            "valid": true, "summary": "score 1 of 2 in 3 moves",
            "session_id": "0123456789ab", "max_score": 2, "peak_score": 1, "final_score": 1,
            "moves": 3, "steps": [{"move": 1, "action": "north"}]
        });
        let entry: HistoryEntry = serde_json::from_value(wire.clone()).unwrap();
        assert_eq!(entry.game.as_ref().unwrap().max_score, 2);
        assert!((entry.grade.as_ref().unwrap().pass_rate - 0.5).abs() < 1e-9);
        assert_eq!(serde_json::to_value(&entry).unwrap(), wire);
        let submission = json!({
            "type": "submission", "status": "completed", "submission_id": "abc123abc123",
            "task_id": "t", "round": "agent-1", "pass_rate": 0.5, "score": null, "passed": 1,
            "failed": 1, "total_tests": 2, "valid": true, "summary": null
        });
        let entry: HistoryEntry = serde_json::from_value(submission).unwrap();
        assert!(entry.game.is_none() && entry.grade.is_some());
    }

    #[test]
    fn statuses_are_lower_case_words() {
        let r: ResultResponse = serde_json::from_value(json!({
            "submission_id": "s", "status": "queued", "report": null, "error": null
        }))
        .unwrap();
        assert_eq!(r.status, SubmissionStatus::Queued);
        assert!(!r.status.is_final());
        assert_eq!(
            serde_json::to_value(SubmissionStatus::Error).unwrap(),
            json!("error")
        );
    }
}
