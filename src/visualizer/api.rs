//! The JSON API behind the pages (`docs/visualizer.md#json-api`): the runs list, one run, one
//! task with its rounds, one round with its report, test output and archive listing, the
//! reference's chart data, and windows of the agent's trajectory.

use std::time::SystemTime;

use serde_json::{json, Value};

use super::error::VizError;
use super::files;
use super::model::mask_secrets;
use super::rounds::{self, Round};
use super::scan::Scanner;
use super::status::Status;
use super::summary::{self, optional_json, TaskSummary};
use super::trajectory;
use super::window;

/// Tasks of one run whose rounds are read for the run page's charts.
pub const MAX_CHARTED_TASKS: usize = 40;
/// Bytes of `agent_output.txt` parsed per trajectory page.
pub const TRAJECTORY_WINDOW: u64 = 1 << 20;
/// Bytes of test output shown on a round (head and tail halves).
pub const TEST_OUTPUT_SHOWN: u64 = 256 << 10;
/// Bytes of a round's `analysis.md` shown (its head).
pub const ANALYSIS_SHOWN: u64 = 256 << 10;

/// `/api/runs`.
#[must_use]
pub fn runs(scanner: &Scanner) -> Value {
    let list = scanner.runs();
    json!({"runs_dir": scanner.root().dir(), "runs": list.runs, "left_out": list.left_out})
}

/// `/api/run/{run}`: the run in brief with each task's rounds (for the comparison plot).
pub fn run(scanner: &Scanner, run_id: &str) -> Result<Value, VizError> {
    let summary = scanner.run(run_id, SystemTime::now())?;
    if summary.task_count == 0 {
        return Err(VizError::NotFound(format!(
            "run {run_id} has no task directories"
        )));
    }
    let mut charts = serde_json::Map::new();
    // The per-task charts of a very wide run are limited to its first tasks.
    for task in summary.tasks.iter().take(MAX_CHARTED_TASKS) {
        let dir = scanner.root().resolve(&[run_id, &task.task])?;
        let rounds = rounds::rounds(scanner.root(), &dir, task, &mut Vec::new());
        charts.insert(task.task.clone(), json!(rounds));
    }
    Ok(json!({"run": summary, "rounds": charts}))
}

fn task_summary(
    scanner: &Scanner,
    run_id: &str,
    task: &str,
) -> Result<(std::path::PathBuf, TaskSummary), VizError> {
    let dir = scanner.root().resolve(&[run_id, task])?;
    if !summary::is_task_dir(&dir) {
        return Err(VizError::NotFound(format!(
            "{run_id}/{task} is not a task directory"
        )));
    }
    let summary = summary::summarize(
        scanner.root(),
        task,
        &dir,
        SystemTime::now(),
        scanner.abort_threshold(),
    );
    Ok((dir, summary))
}

/// `/api/run/{run}/{task}`.
pub fn task(scanner: &Scanner, run_id: &str, task: &str) -> Result<Value, VizError> {
    let (dir, summary) = task_summary(scanner, run_id, task)?;
    let mut warnings = summary.warnings.clone();
    let rounds = rounds::rounds(scanner.root(), &dir, &summary, &mut warnings);
    let mut config: Value = optional_json(
        scanner.root(),
        &dir.join("run_config.json"),
        &mut Vec::new(),
    )
    .unwrap_or(Value::Null);
    mask_secrets(&mut config);
    let text = |name: &str, tail: bool| {
        let piece = scanner.root().file(&dir, name).and_then(|path| {
            if tail {
                files::read_tail(&path, 64 << 10)
            } else {
                files::read_head(&path, 256 << 10)
            }
        });
        piece.ok().map(|p| json!(p))
    };
    let agent_output_bytes = scanner
        .root()
        .file(&dir, "agent_output.txt")
        .and_then(|p| std::fs::metadata(&p).map_err(|e| VizError::io(&p, e)))
        .map_or(0, |m| m.len());
    Ok(json!({
        "run_id": run_id,
        "summary": summary,
        "rounds": rounds,
        "config": config,
        "prompt": text("agent_prompt.md", false),
        "log": text("run_agent.log", true),
        "final_round": rounds::final_round(scanner.root(), &dir),
        "agent_output_bytes": agent_output_bytes,
        "has_daemon_log": scanner.root().file(&dir, "auto_eval_ticks.log").is_ok(),
        "warnings": warnings,
    }))
}

/// `/run/{run}/{task}/chart-data`, with the reference's field names.
pub fn chart_data(scanner: &Scanner, run_id: &str, task: &str) -> Result<Value, VizError> {
    let (dir, summary) = task_summary(scanner, run_id, task)?;
    let rounds: Vec<Round> = rounds::rounds(scanner.root(), &dir, &summary, &mut Vec::new());
    let best = rounds.iter().find(|r| r.is_best);
    let submissions: Vec<Value> = rounds
        .iter()
        .map(|r| {
            json!({"label": r.label, "kind": r.kind, "pass_rate": r.pass_rate, "score": r.score,
                   "score_0_100": r.score_0_100, "max_score": r.max_score,
                   "submitted_at": r.submitted_at, "passed": r.passed, "total": r.total})
        })
        .collect();
    Ok(json!({
        "task": task,
        "has_score": rounds.iter().any(|r| r.score.is_some()),
        "has_pass_rate": rounds.iter().any(|r| r.pass_rate.is_some()),
        "best_pass_rate": summary.best_pass_rate,
        "best_score": summary.best_score,
        "best_score_0_100": best.and_then(|r| r.score_0_100),
        "best_round": summary.best_round,
        "created_at": summary.started_at,
        "timeout_seconds": summary.timeout_seconds,
        "submissions": submissions,
    }))
}

/// `/api/run/{run}/{task}/submission/{round}`.
pub fn submission(
    scanner: &Scanner,
    run_id: &str,
    task: &str,
    round: &str,
) -> Result<Value, VizError> {
    if rounds::parse_round(round).is_none() {
        return Err(VizError::NotFound(format!("{round} is not a round name")));
    }
    let dir = scanner
        .root()
        .resolve(&[run_id, task, "submissions", round])?;
    let mut warnings = Vec::new();
    let mut report: Value = optional_json(scanner.root(), &dir.join("report.json"), &mut warnings)
        .unwrap_or(Value::Null);
    mask_secrets(&mut report);
    let test_output = scanner
        .root()
        .file(&dir, "test_output.txt")
        .and_then(|p| files::read_ends(&p, TEST_OUTPUT_SHOWN / 2))
        .ok();
    let archive = match scanner.root().file(&dir, "submission.tar.gz") {
        Ok(path) => match super::archive::list(&path) {
            Ok(listing) => Some(listing),
            Err(e) => {
                warnings.push(e.to_string());
                None
            }
        },
        Err(_) => None,
    };
    let game = if round.starts_with("game-") {
        let mut result: Value =
            optional_json(scanner.root(), &dir.join("game_result.json"), &mut warnings)
                .unwrap_or(Value::Null);
        if let Value::Object(map) = &mut result {
            // The page shows the steps from steps.jsonl; the entry's copy would double them.
            map.remove("steps");
        }
        let steps = super::games::steps(scanner.root(), &dir).unwrap_or_else(|e| {
            warnings.push(e.to_string());
            None
        });
        json!({"result": result, "steps": steps})
    } else {
        Value::Null
    };
    let analysis = scanner
        .root()
        .file(&dir, "analysis.md")
        .and_then(|p| files::read_head(&p, ANALYSIS_SHOWN))
        .ok();
    let previous = super::subdiff::previous_round(scanner, run_id, task, round).unwrap_or(None);
    Ok(
        json!({"round": round, "report": report, "test_output": test_output,
              "archive": archive, "game": game, "analysis": analysis,
              "previous_round": previous, "warnings": warnings}),
    )
}

/// `/api/run/{run}/{task}/trajectory?offset=N`: one window of `agent_output.txt` from the
/// line that starts at or after `offset`, cut after its last complete line (a last line without
/// a line end is included only once the task has ended), parsed. `end_offset` is where the next
/// window starts, also when the output is still growing (a page of a running task polls it).
pub fn trajectory(
    scanner: &Scanner,
    run_id: &str,
    task: &str,
    offset: Option<u64>,
) -> Result<Value, VizError> {
    let (dir, summary) = task_summary(scanner, run_id, task)?;
    let path = scanner.root().file(&dir, "agent_output.txt")?;
    let offset = offset.unwrap_or(0);
    let growing = summary.status == Status::Running;
    let w = window::read_lines(&path, offset, TRAJECTORY_WINDOW, growing)?;
    let (format, blocks) = trajectory::parse(&w.text());
    let (size, end_offset, reached_end) = (w.total_bytes, w.end_offset, w.reached_end);
    let offset = offset.min(size);
    Ok(json!({
        "total_bytes": size,
        "offset": w.offset,
        "end_offset": end_offset,
        "next_offset": (!reached_end).then_some(end_offset),
        "prev_offset": (offset > 0).then(|| offset.saturating_sub(TRAJECTORY_WINDOW)),
        "running": growing,
        "format": format,
        "blocks": blocks,
    }))
}
