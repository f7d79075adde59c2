//! `/api/compare-runs?models=<group>…` (or `?runs=<run>…`): groups of runs compared on every
//! task at least two of them share, with per-task ranks and an ELO-style rating
//! (docs/visualizer.md#compare-groups). Groups come from the scanner's cached runs list.

use std::collections::BTreeMap;
use std::time::SystemTime;

use serde::Serialize;
use serde_json::{json, Value};

use super::compare::{direction_of, names, timeline_of, MAX_COMPARED};
use super::error::VizError;
use super::ranking::{self, group_of, is_retry, Standing};
use super::scan::{RunList, RunSummary, Scanner};
use super::status::Status;
use super::summary::TaskSummary;
use super::timeline::Timeline;

/// Most shared tasks compared (by name); the rest are counted as left out.
pub const MAX_SHARED_TASKS: usize = 100;

/// A group and the runs it is made of.
struct Group {
    name: String,
    runs: Vec<RunSummary>,
}

/// One group on one task.
#[derive(Debug, Serialize)]
struct Entry {
    group: String,
    run_id: String,
    status: Status,
    best_pass_rate: Option<f64>,
    best_score: Option<f64>,
    time_to_best: Option<f64>,
    rank: Option<usize>,
}

/// One group overall.
#[derive(Debug, Serialize)]
struct GroupResult {
    group: String,
    runs: Vec<String>,
    elo: f64,
    tasks: usize,
    wins: usize,
    mean_rank: Option<f64>,
}

/// The groups of the listed runs (retries left out), with how many runs each holds.
fn all_groups(list: &RunList) -> BTreeMap<String, Vec<&RunSummary>> {
    let mut groups: BTreeMap<String, Vec<&RunSummary>> = BTreeMap::new();
    for run in list.runs.iter().filter(|r| !is_retry(&r.run_id)) {
        groups
            .entry(group_of(&run.run_id).to_owned())
            .or_default()
            .push(run);
    }
    groups
}

/// The groups a query names: `models=` groups (each must hold a listed run) then `runs=` runs,
/// each its own group (each must exist). At most [`MAX_COMPARED`] in all.
fn chosen(
    scanner: &Scanner,
    list: &RunList,
    query: &[(String, String)],
) -> Result<Vec<Group>, VizError> {
    let models = names(query, "models")?;
    let runs = names(query, "runs")?;
    if models.len() + runs.len() > MAX_COMPARED {
        return Err(VizError::BadRequest(format!(
            "more than {MAX_COMPARED} groups: compare fewer at once"
        )));
    }
    let available = all_groups(list);
    let mut groups = Vec::new();
    for name in models {
        let members = available.get(&name).ok_or_else(|| {
            VizError::NotFound(format!("no listed run belongs to the group {name}"))
        })?;
        groups.push(Group {
            runs: members.iter().map(|r| (*r).clone()).collect(),
            name,
        });
    }
    for run_id in runs {
        let run = match list.runs.iter().find(|r| r.run_id == run_id) {
            Some(run) => run.clone(),
            None => scanner.run(&run_id, SystemTime::now())?,
        };
        if groups.iter().all(|g| g.name != run_id) {
            groups.push(Group {
                name: run_id,
                runs: vec![run],
            });
        }
    }
    Ok(groups)
}

/// The group's run for each task: tasks in error left out; of several runs, the one with the
/// highest best pass rate, then the newest.
fn tasks_of(group: &Group) -> BTreeMap<&str, (&str, &TaskSummary)> {
    let mut best: BTreeMap<&str, (&str, &TaskSummary)> = BTreeMap::new();
    for run in &group.runs {
        for task in run.tasks.iter().filter(|t| t.status != Status::Error) {
            let key = |t: &TaskSummary| {
                (
                    t.best_pass_rate.unwrap_or(f64::NEG_INFINITY),
                    t.started_at.unwrap_or(0.0),
                )
            };
            let better = best.get(task.task.as_str()).is_none_or(|(_, old)| {
                let (new, old) = (key(task), key(old));
                new.0.total_cmp(&old.0).then(new.1.total_cmp(&old.1)) == std::cmp::Ordering::Greater
            });
            if better {
                best.insert(&task.task, (&run.run_id, task));
            }
        }
    }
    best
}

/// The groups a query names (none, or two or more), checked as `/api/compare-runs` checks them.
fn checked(
    scanner: &Scanner,
    list: &RunList,
    query: &[(String, String)],
) -> Result<Vec<Group>, VizError> {
    let groups = chosen(scanner, list, query)?;
    if groups.len() == 1 {
        return Err(VizError::BadRequest(
            "choose at least two groups (or runs) to compare".to_owned(),
        ));
    }
    Ok(groups)
}

/// Checks the query of the page (the same errors as its JSON, without reading any rounds).
pub fn check(scanner: &Scanner, query: &[(String, String)]) -> Result<(), VizError> {
    checked(scanner, &scanner.runs(), query).map(drop)
}

/// `/api/compare-runs`: without a query, the groups there are; with two or more groups, their
/// shared tasks (entries ranked, timelines) and each group's rating.
pub fn compare_runs(scanner: &Scanner, query: &[(String, String)]) -> Result<Value, VizError> {
    let list = scanner.runs();
    let available: Vec<Value> = all_groups(&list)
        .iter()
        .map(|(name, runs)| json!({"group": name, "runs": runs.len()}))
        .collect();
    let groups = checked(scanner, &list, query)?;
    if groups.is_empty() {
        return Ok(json!({"available": available, "groups": [], "tasks": [], "left_out_tasks": 0}));
    }
    let per_group: Vec<_> = groups.iter().map(tasks_of).collect();
    let mut shared: BTreeMap<&str, usize> = BTreeMap::new();
    for tasks in &per_group {
        for task in tasks.keys() {
            *shared.entry(task).or_default() += 1;
        }
    }
    let shared: Vec<&str> = shared
        .into_iter()
        .filter(|(_, n)| *n >= 2)
        .map(|(t, _)| t)
        .collect();
    let left_out_tasks = shared.len().saturating_sub(MAX_SHARED_TASKS);
    let mut tasks = Vec::new();
    let mut played: Vec<Vec<(usize, usize)>> = Vec::new();
    for task in shared.into_iter().take(MAX_SHARED_TASKS) {
        let (value, ranked) = compare_task(scanner, &groups, &per_group, task);
        tasks.push(value);
        played.push(ranked);
    }
    let results = standings(&groups, &played);
    Ok(json!({
        "available": available,
        "groups": results,
        "tasks": tasks,
        "left_out_tasks": left_out_tasks,
        "elo": {"start": ranking::ELO_START, "k": ranking::ELO_K},
    }))
}

/// One shared task: each holding group's entry with its rank, the timelines, and the ranked
/// `(group index, rank)` pairs for the rating.
fn compare_task(
    scanner: &Scanner,
    groups: &[Group],
    per_group: &[BTreeMap<&str, (&str, &TaskSummary)>],
    task: &str,
) -> (Value, Vec<(usize, usize)>) {
    let direction = direction_of(
        per_group
            .iter()
            .filter_map(|g| g.get(task).map(|(_, t)| *t)),
    );
    let holders: Vec<(usize, &str, &TaskSummary, Timeline)> = per_group
        .iter()
        .enumerate()
        .filter_map(|(i, tasks)| {
            let (run_id, summary) = tasks.get(task)?;
            let line = timeline_of(scanner, run_id, summary, direction);
            Some((i, *run_id, *summary, line))
        })
        .collect();
    let standings: Vec<Standing> = holders
        .iter()
        .map(|(_, _, summary, line)| Standing {
            pass_rate: summary.best_pass_rate.or_else(|| {
                line.points
                    .iter()
                    .filter_map(|p| p.pass_rate)
                    .max_by(f64::total_cmp)
            }),
            time_to_best: line.time_to_best,
        })
        .collect();
    let ranks = ranking::ranks(&standings);
    let mut entries: Vec<Entry> = holders
        .iter()
        .zip(&standings)
        .zip(&ranks)
        .map(|(((i, run_id, summary, line), standing), rank)| Entry {
            group: groups[*i].name.clone(),
            run_id: (*run_id).to_owned(),
            status: summary.status,
            best_pass_rate: standing.pass_rate,
            best_score: summary.best_score,
            time_to_best: line.time_to_best,
            rank: *rank,
        })
        .collect();
    entries.sort_by_key(|e| e.rank.unwrap_or(usize::MAX));
    let ranked = holders
        .iter()
        .zip(&ranks)
        .filter_map(|((i, ..), rank)| rank.map(|r| (*i, r)))
        .collect();
    let timelines: Vec<Value> = holders
        .iter()
        .map(|(i, _, _, line)| json!({"group": groups[*i].name, "timeline": line}))
        .collect();
    (
        json!({"task": task, "entries": entries, "timelines": timelines}),
        ranked,
    )
}

/// Each group's rating, ranked tasks, wins and mean rank from the ranks of every task played.
fn standings(groups: &[Group], played: &[Vec<(usize, usize)>]) -> Vec<GroupResult> {
    let ratings = ranking::elo(groups.len(), played);
    groups
        .iter()
        .enumerate()
        .map(|(i, g)| {
            let mine: Vec<usize> = played
                .iter()
                .flatten()
                .filter(|(gi, _)| *gi == i)
                .map(|(_, r)| *r)
                .collect();
            #[allow(clippy::cast_precision_loss)]
            let mean_rank =
                (!mine.is_empty()).then(|| mine.iter().sum::<usize>() as f64 / mine.len() as f64);
            GroupResult {
                group: g.name.clone(),
                runs: g.runs.iter().map(|r| r.run_id.clone()).collect(),
                elo: ratings[i],
                tasks: mine.len(),
                wins: mine.iter().filter(|r| **r == 1).count(),
                mean_rank,
            }
        })
        .collect()
}
