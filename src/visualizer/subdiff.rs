//! `/api/run/{run}/{task}/submission/{round}/diff`: a round's `submission.tar.gz` against the
//! archive of the round before it in time (`rounds::rounds` order; none for the first round, so
//! everything is added), both read as hostile and bounded (docs/visualizer.md#submission-diffs).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Mutex, PoisonError};
use std::time::SystemTime;

use serde_json::{json, Value};

use super::diff;
use super::error::VizError;
use super::rounds;
use super::scan::Scanner;
use super::snapshot;
use super::summary;

const ARCHIVE: &str = "submission.tar.gz";

/// Diffs are computed one at a time: each may hold two archives' text (2 ×
/// [`snapshot::MAX_KEPT`]), so concurrent requests queue rather than multiply the memory.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// The round folder's archive, or a clear "not found".
fn archive(scanner: &Scanner, run: &str, task: &str, round: &str) -> Result<PathBuf, VizError> {
    if rounds::parse_round(round).is_none() {
        return Err(VizError::NotFound(format!("{round} is not a round name")));
    }
    let dir = scanner.root().resolve(&[run, task, "submissions", round])?;
    scanner.root().file(&dir, ARCHIVE).map_err(|e| match e {
        VizError::NotFound(_) => {
            VizError::NotFound(format!("round {round} of {run}/{task} has no {ARCHIVE}"))
        }
        other => other,
    })
}

/// The latest round before `round` (in time order) that has an archive; `None` for the first.
pub fn previous_round(
    scanner: &Scanner,
    run: &str,
    task: &str,
    round: &str,
) -> Result<Option<String>, VizError> {
    let root = scanner.root();
    let dir = root.resolve(&[run, task])?;
    let summary = summary::summarize(
        root,
        task,
        &dir,
        SystemTime::now(),
        scanner.abort_threshold(),
    );
    let list = rounds::rounds(root, &dir, &summary, &mut Vec::new());
    let Some(at) = list.iter().position(|r| r.label == round) else {
        return Err(VizError::NotFound(format!(
            "no round {round} in {run}/{task}"
        )));
    };
    Ok(list[..at]
        .iter()
        .rev()
        .find(|r| archive(scanner, run, task, &r.label).is_ok())
        .map(|r| r.label.clone()))
}

/// The diff of `round` against its previous round, as JSON.
pub fn submission_diff(
    scanner: &Scanner,
    run: &str,
    task: &str,
    round: &str,
) -> Result<Value, VizError> {
    let new_path = archive(scanner, run, task, round)?;
    let previous = previous_round(scanner, run, task, round)?;
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner);
    let new = snapshot::read(&new_path)?;
    let old = match &previous {
        Some(label) => Some(snapshot::read(&archive(scanner, run, task, label)?)?),
        None => None,
    };
    let empty = BTreeMap::new();
    let d = diff::diff(old.as_ref().map_or(&empty, |s| &s.files), &new.files);
    let mut warnings: Vec<String> = new
        .warnings
        .iter()
        .map(|w| format!("{round}: {w}"))
        .collect();
    let mut cut: Vec<String> = new.cut.iter().map(|c| format!("{round}: {c}")).collect();
    if let (Some(label), Some(old)) = (&previous, &old) {
        warnings.extend(old.warnings.iter().map(|w| format!("{label}: {w}")));
        cut.extend(old.cut.iter().map(|c| format!("{label}: {c}")));
    }
    cut.extend(d.cut.clone());
    Ok(json!({
        "run_id": run,
        "task": task,
        "round": round,
        "previous": previous,
        "files": d.files,
        "changed": d.changed,
        "unchanged": d.unchanged,
        "cut": (!cut.is_empty()).then(|| cut.join("; ")),
        "warnings": warnings,
    }))
}
