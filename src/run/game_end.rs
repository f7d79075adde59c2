//! The end of a game task's run (docs/compatibility.md#game-routes): its sessions closed through
//! `close-all`, and its history in the agent's view saved as `game_history.json`.

use std::path::Path;

use super::error::RunError;
use super::judge_client::JudgeClient;
use super::outputs::write_json;
use crate::judge::api::History;
use crate::run_log::RunLog;

/// Closes the run's game sessions (each is archived by the judge), then reads and saves the
/// history the agent sees.
pub(super) fn finish_games(
    client: &JudgeClient,
    (run_id, task_id): (&str, &str),
    token: &str,
    dir: &Path,
    log: &RunLog,
) -> Result<History, RunError> {
    match client.close_all_games(run_id, task_id, token) {
        Ok(n) => log.line(&format!("{n} open game session(s) closed")),
        Err(e) => log.warning(&format!("cannot close the game sessions: {e}")),
    }
    let history = client.agent_history(token)?;
    let path = dir.join("game_history.json");
    write_json(&path, &history).map_err(|e| RunError::io("write", &path, e))?;
    Ok(history)
}
