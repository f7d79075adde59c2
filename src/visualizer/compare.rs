//! The cross-run answers for one task (docs/visualizer.md#cross-run-pages): `/api/task/{task}`,
//! every listed run of the task, and `/api/compare/{task}?runs=…`, chosen runs side by side.
//! Runs come from the scanner's cached list; only the runs shown read their rounds.

use std::time::SystemTime;

use serde_json::{json, Value};

use super::error::VizError;
use super::paths::is_safe_name;
use super::rounds;
use super::scan::{RunList, Scanner};
use super::summary::{self, TaskSummary};
use super::timeline::{self, Direction, RunRow, Timeline};

/// Most runs (or groups) one comparison takes.
pub const MAX_COMPARED: usize = 20;
/// Most runs drawn on a task's page (the first of its sorted table).
pub const MAX_PLOTTED: usize = 20;

/// The names given to `key` in the query, each value split on commas, trimmed, without empty
/// ones and repeats; at most [`MAX_COMPARED`], each a safe name.
pub fn names(query: &[(String, String)], key: &str) -> Result<Vec<String>, VizError> {
    let mut out: Vec<String> = Vec::new();
    for name in query
        .iter()
        .filter(|(k, _)| k == key)
        .flat_map(|(_, v)| v.split(','))
        .map(str::trim)
        .filter(|n| !n.is_empty())
    {
        if !is_safe_name(name) {
            return Err(VizError::BadName(name.to_owned()));
        }
        if !out.iter().any(|n| n == name) {
            if out.len() == MAX_COMPARED {
                return Err(VizError::BadRequest(format!(
                    "more than {MAX_COMPARED} names in {key}=: compare fewer at once"
                )));
            }
            out.push(name.to_owned());
        }
    }
    Ok(out)
}

fn check_name(name: &str) -> Result<(), VizError> {
    if is_safe_name(name) {
        Ok(())
    } else {
        Err(VizError::BadName(name.to_owned()))
    }
}

/// Every listed run holding `task`, as (run id, the task in brief).
fn runs_with<'a>(list: &'a RunList, task: &str) -> Vec<(&'a str, &'a TaskSummary)> {
    list.runs
        .iter()
        .filter_map(|r| {
            let t = r.tasks.iter().find(|t| t.task == task)?;
            Some((r.run_id.as_str(), t))
        })
        .collect()
}

/// `task` of the run `run_id`: from the cached list, else (a run older than the list keeps)
/// read directly. `None` when the run exists but holds no such task.
pub fn task_of(
    scanner: &Scanner,
    list: &RunList,
    run_id: &str,
    task: &str,
) -> Result<Option<TaskSummary>, VizError> {
    scanner.root().resolve(&[run_id])?;
    if let Some(run) = list.runs.iter().find(|r| r.run_id == run_id) {
        return Ok(run.tasks.iter().find(|t| t.task == task).cloned());
    }
    let dir = match scanner.root().resolve(&[run_id, task]) {
        Ok(dir) => dir,
        Err(VizError::NotFound(_)) => return Ok(None),
        Err(e) => return Err(e),
    };
    Ok(summary::is_task_dir(&dir).then(|| {
        summary::summarize(
            scanner.root(),
            task,
            &dir,
            SystemTime::now(),
            scanner.abort_threshold(),
        )
    }))
}

/// The direction of `task` across the runs holding it ([`timeline::task_direction`]).
pub fn direction_of<'t>(tasks: impl IntoIterator<Item = &'t TaskSummary>) -> Direction {
    timeline::task_direction(
        tasks
            .into_iter()
            .map(|t| Direction::parse(t.score_direction.as_deref())),
    )
}

/// The timeline of `task` in `run_id` (its rounds read now; none when the directory is gone),
/// its best score so far by `direction`.
#[must_use]
pub fn timeline_of(
    scanner: &Scanner,
    run_id: &str,
    task: &TaskSummary,
    direction: Direction,
) -> Timeline {
    let rounds = match scanner.root().resolve(&[run_id, &task.task]) {
        Ok(dir) => rounds::rounds(scanner.root(), &dir, task, &mut Vec::new()),
        Err(_) => Vec::new(),
    };
    timeline::timeline(
        run_id,
        &rounds,
        task.started_at,
        direction,
        task.best_pass_rate,
    )
}

/// Checks that some listed run holds `task` (the page's 404).
pub fn check_task(scanner: &Scanner, task: &str) -> Result<(), VizError> {
    check_name(task)?;
    if runs_with(&scanner.runs(), task).is_empty() {
        return Err(VizError::NotFound(format!(
            "no listed run has a task {task}"
        )));
    }
    Ok(())
}

/// `/api/task/{task}`: every listed run of the task, sorted best first (pass rate, then score
/// by direction), with the timelines of the first [`MAX_PLOTTED`].
pub fn task_runs(scanner: &Scanner, task: &str) -> Result<Value, VizError> {
    check_name(task)?;
    let list = scanner.runs();
    let found = runs_with(&list, task);
    if found.is_empty() {
        return Err(VizError::NotFound(format!(
            "no listed run has a task {task}"
        )));
    }
    let direction = direction_of(found.iter().map(|(_, t)| *t));
    let mut rows: Vec<RunRow> = found.iter().map(|(id, t)| RunRow::new(id, t)).collect();
    timeline::sort_rows(&mut rows);
    let timelines: Vec<Timeline> = rows
        .iter()
        .take(MAX_PLOTTED)
        .filter_map(|row| {
            let (id, t) = found.iter().find(|(id, _)| *id == row.run_id)?;
            Some(timeline_of(scanner, id, t, direction))
        })
        .collect();
    Ok(json!({
        "task": task,
        "score_direction": direction,
        "timelines": timelines,
        "not_plotted": rows.len().saturating_sub(MAX_PLOTTED),
        "runs": rows,
    }))
}

/// The runs a comparison of `task` names: those holding it and those without it.
pub struct Selection {
    pub present: Vec<(String, TaskSummary)>,
    pub missing: Vec<String>,
}

/// Checks a comparison's query: 1 to [`MAX_COMPARED`] safe run names (400), each an existing
/// run (404); runs without the task are set apart, and none holding it is a 404.
pub fn select(
    scanner: &Scanner,
    task: &str,
    query: &[(String, String)],
) -> Result<Selection, VizError> {
    check_name(task)?;
    let wanted = names(query, "runs")?;
    if wanted.is_empty() {
        return Err(VizError::BadRequest(
            "name the runs to compare: ?runs=a,b".to_owned(),
        ));
    }
    let list = scanner.runs();
    let mut selection = Selection {
        present: Vec::new(),
        missing: Vec::new(),
    };
    for run_id in wanted {
        match task_of(scanner, &list, &run_id, task)? {
            Some(summary) => selection.present.push((run_id, summary)),
            None => selection.missing.push(run_id),
        }
    }
    if selection.present.is_empty() {
        return Err(VizError::NotFound(format!(
            "none of the chosen runs has a task {task}"
        )));
    }
    Ok(selection)
}

/// `/api/compare/{task}?runs=…`: the chosen runs' rows (sorted best first) and timelines (in
/// the order asked), and the runs that lack the task.
pub fn compare(
    scanner: &Scanner,
    task: &str,
    query: &[(String, String)],
) -> Result<Value, VizError> {
    let selection = select(scanner, task, query)?;
    let direction = direction_of(selection.present.iter().map(|(_, t)| t));
    let timelines: Vec<Timeline> = selection
        .present
        .iter()
        .map(|(id, t)| timeline_of(scanner, id, t, direction))
        .collect();
    let mut rows: Vec<RunRow> = selection
        .present
        .iter()
        .map(|(id, t)| RunRow::new(id, t))
        .collect();
    timeline::sort_rows(&mut rows);
    Ok(json!({
        "task": task,
        "score_direction": direction,
        "runs": rows,
        "timelines": timelines,
        "missing": selection.missing,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn names_are_split_deduplicated_checked_and_bounded() {
        let q = query(&[("runs", "a, b,,a"), ("other", "x"), ("runs", "c")]);
        assert_eq!(names(&q, "runs").unwrap(), ["a", "b", "c"]);
        assert!(names(&query(&[]), "runs").unwrap().is_empty());
        let bad = names(&query(&[("runs", "a,../etc")]), "runs");
        assert!(matches!(bad, Err(VizError::BadName(n)) if n == "../etc"));
        let many: Vec<String> = (0..=MAX_COMPARED).map(|i| format!("r{i}")).collect();
        let too_many = names(&query(&[("runs", &many.join(","))]), "runs");
        assert!(matches!(too_many, Err(VizError::BadRequest(_))));
        let exactly = names(&query(&[("runs", &many[1..].join(","))]), "runs");
        assert_eq!(exactly.unwrap().len(), MAX_COMPARED);
    }

    #[test]
    fn a_task_of_many_runs_draws_only_the_best_ones() {
        let tmp = tempfile::tempdir().unwrap();
        let extra = 5;
        for i in 0..MAX_PLOTTED + extra {
            let dir = tmp.path().join(format!("run{i:02}/t"));
            std::fs::create_dir_all(&dir).unwrap();
            #[allow(clippy::cast_precision_loss)]
            let result = json!({"best_pass_rate": i as f64 / 100.0, "best_score": 1.0});
            std::fs::write(dir.join("final_result.json"), result.to_string()).unwrap();
        }
        let scanner = Scanner::new(super::super::paths::Root::new(tmp.path()), 7200);
        let data = task_runs(&scanner, "t").unwrap();
        assert_eq!(data["runs"].as_array().unwrap().len(), MAX_PLOTTED + extra);
        assert_eq!(data["runs"][0]["run_id"], "run24");
        let drawn = data["timelines"].as_array().unwrap();
        assert_eq!(drawn.len(), MAX_PLOTTED);
        assert_eq!(drawn[MAX_PLOTTED - 1]["run_id"], "run05");
        assert_eq!(data["not_plotted"], extra);
        assert!(matches!(
            task_runs(&scanner, "u"),
            Err(VizError::NotFound(_))
        ));
        assert!(matches!(
            task_runs(&scanner, ".."),
            Err(VizError::BadName(_))
        ));
    }
}
