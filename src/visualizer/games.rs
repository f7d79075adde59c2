//! Game tasks as the visualizer reads them (docs/visualizer.md#game-tasks): the history in
//! `game_history.json` when there is no `run_history.json`, a `game-N` round's values from its
//! `game_result.json` (or, while the session is being played, the last line of `steps.jsonl`),
//! and the steps of a session, read in bounded pieces.

use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::files::{self, optional_json};
use super::model::{finite, HistoryView, ReportView};
use super::paths::Root;

/// Bytes of `steps.jsonl` read for a round's page.
pub const STEPS_READ: u64 = 4 << 20;
/// Steps shown for a round.
pub const STEPS_SHOWN: usize = 2000;
/// Characters of one observation shown.
pub const OBSERVATION_SHOWN: usize = 4096;
/// Bytes read from the end of `steps.jsonl` for a session in play.
const LAST_STEP_READ: u64 = 64 << 10;

/// The task's history: `run_history.json`, or `game_history.json` for a game task.
pub fn history(root: &Root, dir: &Path, warnings: &mut Vec<String>) -> HistoryView {
    optional_json(root, &dir.join("run_history.json"), warnings)
        .or_else(|| optional_json(root, &dir.join("game_history.json"), warnings))
        .unwrap_or_default()
}

/// `game_result.json` (a game's history entry) as far as the pages use it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct GameResult {
    status: Option<String>,
    pass_rate: Option<f64>,
    score: Option<f64>,
    max_score: Option<f64>,
    summary: Option<String>,
    error: Option<String>,
    started_at: Option<f64>,
    ended_at: Option<f64>,
}

/// One line of `steps.jsonl` as far as a round's values need it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct StepView {
    #[serde(rename = "move")]
    moves: Option<u64>,
    score: Option<f64>,
    max_score: Option<f64>,
}

/// The values of the game round in `round_dir`: from `game_result.json` once the session ended
/// (none when `read_result` is false: the history's then), else from its last step
/// ("playing").
pub fn report(
    root: &Root,
    round_dir: &Path,
    read_result: bool,
    warnings: &mut Vec<String>,
) -> ReportView {
    if !read_result && std::fs::symlink_metadata(round_dir.join("game_result.json")).is_ok() {
        return ReportView::default();
    }
    if let Some(result) =
        optional_json::<GameResult>(root, &round_dir.join("game_result.json"), warnings)
    {
        let runtime = result
            .started_at
            .zip(result.ended_at)
            .map(|(start, end)| end - start);
        return ReportView {
            status: result.status,
            pass_rate: result.pass_rate,
            score: result.score,
            max_score: result.max_score,
            summary: result.summary,
            error: result.error,
            submitted_at: result.ended_at.or(result.started_at),
            runtime_seconds: runtime,
            ..ReportView::default()
        };
    }
    let Some(step) = last_step(root, round_dir) else {
        return ReportView::default();
    };
    let pass_rate = step
        .score
        .zip(step.max_score)
        .filter(|(_, max)| *max > 0.0)
        .map(|(score, max)| (score / max).clamp(0.0, 1.0));
    ReportView {
        status: Some("playing".to_owned()),
        pass_rate,
        score: step.score,
        max_score: step.max_score,
        summary: step.moves.map(|m| format!("in play: {m} moves so far")),
        ..ReportView::default()
    }
}

/// The last complete line of `steps.jsonl`, parsed.
fn last_step(root: &Root, round_dir: &Path) -> Option<StepView> {
    let path = root.file(round_dir, "steps.jsonl").ok()?;
    let piece = files::read_tail(&path, LAST_STEP_READ).ok()?;
    piece
        .text
        .lines()
        .rev()
        .find_map(|line| serde_json::from_str(line.trim()).ok())
}

/// The first steps of a session, each observation cut to [`OBSERVATION_SHOWN`] characters.
#[derive(Debug, Default, Serialize)]
pub struct Steps {
    pub entries: Vec<Value>,
    /// Why not every step is shown, if so.
    pub cut: Option<String>,
}

/// The steps in `round_dir/steps.jsonl` (`None` without the file).
pub fn steps(root: &Root, round_dir: &Path) -> Result<Option<Steps>, super::error::VizError> {
    let Ok(path) = root.file(round_dir, "steps.jsonl") else {
        return Ok(None);
    };
    let piece = files::read_head(&path, STEPS_READ)?;
    let mut steps = Steps::default();
    // A piece cut inside a line leaves that line incomplete: it is not shown.
    let complete = if piece.truncated {
        piece.text.matches('\n').count()
    } else {
        usize::MAX
    };
    for (i, line) in piece.text.lines().enumerate() {
        if i >= complete {
            break;
        }
        if steps.entries.len() == STEPS_SHOWN {
            steps.cut = Some(format!("only the first {STEPS_SHOWN} steps are shown"));
            break;
        }
        let Ok(mut step) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        if let Some(Value::String(text)) = step.get_mut("observation") {
            if let Some((end, _)) = text.char_indices().nth(OBSERVATION_SHOWN) {
                text.truncate(end);
                text.push_str(" […]");
            }
        }
        if let Some(score) = step.get("score").and_then(Value::as_f64) {
            step["score"] = finite(Some(score)).map_or(Value::Null, Value::from);
        }
        steps.entries.push(step);
    }
    if piece.truncated && steps.cut.is_none() {
        steps.cut = Some(format!(
            "steps.jsonl holds {} bytes; only its first {STEPS_READ} were read",
            piece.total_bytes
        ));
    }
    Ok(Some(steps))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root_with(files: &[(&str, &str)]) -> (tempfile::TempDir, Root, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let round = dir.path().join("r/t/submissions/game-1");
        std::fs::create_dir_all(&round).unwrap();
        for (name, text) in files {
            std::fs::write(round.join(name), text).unwrap();
        }
        let root = Root::new(dir.path());
        let round = root.resolve(&["r", "t", "submissions", "game-1"]).unwrap();
        (dir, root, round)
    }

    #[test]
    fn a_finished_game_reads_its_result() {
        let result = r#"{"status":"completed","pass_rate":0.5,"score":2,"max_score":4,
            "summary":"score 2 of 4 in 9 moves","started_at":100.0,"ended_at":130.5}"#;
        let (_d, root, round) = root_with(&[("game_result.json", result), ("steps.jsonl", "")]);
        let report = report(&root, &round, true, &mut Vec::new());
        assert_eq!(report.pass_rate, Some(0.5));
        assert_eq!(report.score, Some(2.0));
        assert_eq!(report.submitted_at, Some(130.5));
        assert_eq!(report.runtime_seconds, Some(30.5));
    }

    #[test]
    fn a_game_in_play_reads_its_last_step() {
        let steps = "{\"move\":1,\"score\":1,\"max_score\":4}\n{\"move\":2,\"score\":3,\"max_score\":4}\n{\"mo";
        let (_d, root, round) = root_with(&[("steps.jsonl", steps)]);
        let report = report(&root, &round, true, &mut Vec::new());
        assert_eq!(report.status.as_deref(), Some("playing"));
        assert_eq!(report.score, Some(3.0));
        assert_eq!(report.pass_rate, Some(0.75));
        let shown = super::steps(&root, &round).unwrap().unwrap();
        assert_eq!(shown.entries.len(), 2, "the cut line is skipped");
    }

    #[test]
    fn steps_are_bounded() {
        let long = "x".repeat(OBSERVATION_SHOWN + 50);
        let first = format!("{{\"move\":1,\"observation\":\"{long}\",\"score\":1}}\n");
        let text = first + &"{\"move\":2,\"score\":1}\n".repeat(STEPS_SHOWN + 5);
        let (_d, root, round) = root_with(&[("steps.jsonl", &text)]);
        let shown = super::steps(&root, &round).unwrap().unwrap();
        assert_eq!(shown.entries.len(), STEPS_SHOWN);
        assert!(shown.cut.is_some());
        let observation = shown.entries[0]["observation"].as_str().unwrap();
        assert!(observation.chars().count() < OBSERVATION_SHOWN + 10);
    }
}
