//! `/run/{run}/{task}/trace/json`: the JSON lines of `agent_output.txt` (claude-code's
//! `stream-json` events) one bounded window at a time, never the whole file; lines that are not
//! JSON are counted and skipped (docs/visualizer.md#trace-and-logs).

use std::time::SystemTime;

use serde_json::{json, Value};

use super::error::VizError;
use super::scan::Scanner;
use super::status::Status;
use super::summary;
use super::window;

/// Bytes of `agent_output.txt` read per answer.
pub const TRACE_WINDOW: u64 = 1 << 20;
/// Most events per answer.
pub const MAX_EVENTS: usize = 2000;

/// `{task, run_id, total_events, events, …}` for the window at `offset`.
pub fn trace_json(
    scanner: &Scanner,
    run: &str,
    task: &str,
    offset: Option<u64>,
) -> Result<Value, VizError> {
    let root = scanner.root();
    let dir = root.resolve(&[run, task])?;
    if !summary::is_task_dir(&dir) {
        return Err(VizError::NotFound(format!(
            "{run}/{task} is not a task directory"
        )));
    }
    let path = root.file(&dir, "agent_output.txt")?;
    let status = summary::summarize(
        root,
        task,
        &dir,
        SystemTime::now(),
        scanner.abort_threshold(),
    )
    .status;
    let growing = status == Status::Running;
    let w = window::read_lines(&path, offset.unwrap_or(0), TRACE_WINDOW, growing)?;
    let mut events = Vec::new();
    let (mut skipped, mut pos) = (0usize, 0usize);
    let mut stopped_at = None;
    for line in w.bytes.split_inclusive(|b| *b == b'\n') {
        let trimmed = line.trim_ascii();
        if !trimmed.is_empty() {
            match serde_json::from_slice::<Value>(trimmed) {
                Ok(value) if events.len() < MAX_EVENTS => events.push(value),
                Ok(_) => {
                    stopped_at = Some(w.offset + pos as u64);
                    break;
                }
                Err(_) => skipped += 1,
            }
        }
        pos += line.len();
    }
    let end_offset = stopped_at.unwrap_or(w.end_offset);
    let cut = stopped_at.is_some() || !w.reached_end;
    Ok(json!({
        "run_id": run,
        "task": task,
        "total_events": events.len(),
        "events": events,
        "skipped_lines": skipped,
        "offset": w.offset,
        "end_offset": end_offset,
        "next_offset": cut.then_some(end_offset),
        "total_bytes": w.total_bytes,
        "cut": cut,
        "running": growing,
    }))
}
