//! What a game session leaves: `steps.jsonl` (a line per step, written as the game goes),
//! `game_result.json` and its history entry (docs/compatibility.md#game-routes).

use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use super::table::Session;
use crate::judge::api::{EntryStatus, EntryType, GameFields, HistoryEntry, HistoryFields};

/// Longest observation kept in a history entry's copy of a step (the full text is in
/// `steps.jsonl`), so that a long game cannot bloat the journal and the judge's memory.
pub const HISTORY_OBSERVATION: usize = 512;
/// Steps kept in a history entry (the first ones; `steps.jsonl` has them all).
pub const HISTORY_STEPS: usize = 1000;

/// `<log_dir>/runs/<run>/<task>/submissions/game-N/`.
#[must_use]
pub fn game_dir(log_dir: &Path, session: &Session) -> PathBuf {
    log_dir
        .join("runs")
        .join(&session.run_id)
        .join(&session.task_id)
        .join("submissions")
        .join(format!("game-{}", session.number))
}

/// The step record of the session's last move.
#[must_use]
pub fn step_record(session: &Session, action: &str, observation: &str) -> Value {
    json!({
        "move": session.moves,
        "action": action,
        "observation": observation,
        "score": session.score,
        "peak_score": session.peak_score,
        "max_score": session.max_score,
        "done": session.done,
    })
}

/// Appends `record` as a line of the session's `steps.jsonl`.
pub fn append_step(log_dir: &Path, session: &Session, record: &Value) -> io::Result<()> {
    let dir = game_dir(log_dir, session);
    fs::create_dir_all(&dir)?;
    let mut file = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("steps.jsonl"))?;
    writeln!(file, "{record}")
}

/// The copy of a step kept in the history: its observation shortened.
#[must_use]
pub fn history_step(record: &Value) -> Value {
    let mut copy = record.clone();
    if let Some(Value::String(text)) = copy.get_mut("observation") {
        if text.len() > HISTORY_OBSERVATION {
            let mut end = HISTORY_OBSERVATION;
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            text.truncate(end);
            text.push_str(" [...]");
        }
    }
    copy
}

/// The session's history entry: pass rate = final ÷ maximum score (0 without a maximum).
#[must_use]
#[allow(clippy::cast_precision_loss, reason = "game scores are small integers")]
pub fn history_entry(session: &Session) -> HistoryEntry {
    let pass_rate = if session.max_score > 0 {
        (session.score as f64 / session.max_score as f64).clamp(0.0, 1.0)
    } else {
        0.0
    };
    HistoryEntry {
        entry_type: EntryType::Game,
        status: EntryStatus::Completed,
        submission_id: String::new(),
        task_id: session.task_id.clone(),
        round: format!("game-{}", session.number),
        grade: Some(HistoryFields {
            pass_rate,
            score: Some(session.score as f64),
            passed: 0,
            failed: 0,
            total_tests: 0,
            valid: true,
            summary: Some(format!(
                "score {} of {} in {} moves",
                session.score, session.max_score, session.moves
            )),
        }),
        game: Some(GameFields {
            session_id: session.session_id.clone(),
            max_score: session.max_score,
            peak_score: session.peak_score,
            final_score: session.score,
            moves: session.moves,
            steps: session.steps.clone(),
            started_at: Some(session.started_at),
            ended_at: Some(session.last_active),
        }),
        error: None,
    }
}

/// Writes `game_result.json` (the history entry) into the session's directory.
pub fn write_result(log_dir: &Path, session: &Session, entry: &HistoryEntry) -> io::Result<()> {
    let dir = game_dir(log_dir, session);
    fs::create_dir_all(&dir)?;
    let text = serde_json::to_string_pretty(entry).map_err(io::Error::other)?;
    fs::write(dir.join("game_result.json"), text + "\n")
}
