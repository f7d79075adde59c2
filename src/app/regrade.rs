//! `sforge eval --run RUN_ID`: grade every recorded submission of a run again with the current
//! judge images (after a grader was fixed). Each new report goes beside the old one, in
//! `submissions/<round>/regrade-<time>-<id>/`; the comparison of old and new scores per round is
//! printed and written to `<run>/regrade-<time>.json`. Old reports are never touched.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use serde_json::{json, Value};

use super::eval_common::{interrupted, jobs, judge, outcome, provision};
use crate::cli::{EvalArgs, GlobalArgs};
use crate::config::Settings;
use crate::judge::launch::pool_size;
use crate::judge::{grade_all, JudgeError, JudgeLimits, Report, Submission};
use crate::task::{Catalog, Task};

/// Largest `report.json` or `run_config.json` read back (they are sforge's own files, but hold
/// what graded code printed).
const MAX_JSON_BYTES: u64 = 16 << 20;

/// One recorded submission to grade again.
struct Recorded {
    task: usize,
    round: String,
    archive: PathBuf,
    out: PathBuf,
    id: String,
    old: Option<Value>,
}

pub(super) fn regrade(
    settings: &Settings,
    global: &GlobalArgs,
    args: &EvalArgs,
    catalog: &Catalog,
    run_id: &str,
) -> anyhow::Result<ExitCode> {
    if !crate::task::is_plain_name(run_id) {
        anyhow::bail!("invalid --run {run_id:?}: not a run id (letters, digits, '.', '_', '-')");
    }
    let run_dir = settings.log_dir.value.join("runs").join(run_id);
    if !run_dir.is_dir() {
        anyhow::bail!(
            "no run {run_id} in {}",
            settings.log_dir.value.join("runs").display()
        );
    }
    let tasks = run_tasks(&run_dir, catalog, args.task.as_deref())?;
    // Unique even for two regrades of one run in the same second (files and container names).
    let stamp = format!(
        "regrade-{}-{}",
        crate::clock::timestamp().replace(':', ""),
        crate::ids::random_hex(4).context("cannot make a regrade id")?
    );
    let mut recorded = Vec::new();
    for (i, task) in tasks.iter().enumerate() {
        recorded.extend(recorded_rounds(&run_dir, task, i, &stamp)?);
    }
    if recorded.is_empty() {
        anyhow::bail!("run {run_id} has no recorded submissions to grade again");
    }
    let refs: Vec<&Task> = tasks.iter().collect();
    provision(settings, catalog, &refs).context("cannot grade the run again")?;
    let limits: Vec<JudgeLimits> = tasks
        .iter()
        .map(|t| recorded_limits(&run_dir.join(&t.task_id), settings, &t.task_id))
        .collect();
    let jobs = jobs(args);
    let judge = judge(settings, catalog, pool_size(settings.judge_pool.value));
    let subs: Vec<Submission<'_>> = recorded
        .iter()
        .map(|r| Submission {
            task: &tasks[r.task],
            run_id,
            submission_id: &r.id,
            round: &r.round,
            archive: &r.archive,
            timeout: None,
            limits: limits[r.task].clone(),
            dir: Some(r.out.clone()),
        })
        .collect();
    if !args.json {
        outln!(
            "Grading {} recorded submissions of run {run_id} again ({jobs} at a time)\n",
            subs.len()
        );
    }
    let total = subs.len();
    let finished = std::sync::atomic::AtomicUsize::new(0);
    let results = grade_all(&judge, &subs, jobs, &|i, result| {
        let n = finished.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        if !global.silent {
            let r = &recorded[i];
            let task = &tasks[r.task].task_id;
            eprintln!("[{n}/{total}] {task} {}: {}", r.round, outcome(result));
        }
    });
    drop(judge);
    if interrupted() {
        std::thread::sleep(std::time::Duration::from_secs(120));
        return Ok(ExitCode::from(130));
    }
    let rows: Vec<Value> = recorded
        .iter()
        .zip(&results)
        .map(|(r, result)| row(&tasks[r.task].task_id, r, result))
        .collect();
    let comparison = json!({
        "run_id": run_id,
        "regraded_at": crate::clock::epoch_seconds(),
        "rounds": rows,
    });
    let path = run_dir.join(format!("{stamp}.json"));
    std::fs::write(&path, serde_json::to_string_pretty(&comparison)? + "\n")
        .with_context(|| format!("cannot write {}", path.display()))?;
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&comparison)?);
    } else {
        print_comparison(&rows)?;
        outln!(
            "\nNew reports: submissions/<round>/{stamp}/; comparison: {}",
            path.display()
        );
    }
    // A round the judge refuses again is a result, not a failure of the regrade.
    Ok(if results.iter().any(Result::is_err) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// The run's tasks (its subdirectories with submissions), or only `only`.
fn run_tasks(run_dir: &Path, catalog: &Catalog, only: Option<&str>) -> anyhow::Result<Vec<Task>> {
    let mut ids: Vec<String> = std::fs::read_dir(run_dir)
        .with_context(|| format!("cannot read {}", run_dir.display()))?
        .flatten()
        .filter(|e| e.path().join("submissions").is_dir())
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|id| only.is_none_or(|o| o == id))
        .collect();
    ids.sort();
    if ids.is_empty() {
        match only {
            Some(t) => anyhow::bail!("run {} has no submissions of task {t}", dir_name(run_dir)),
            None => anyhow::bail!("run {} has no submissions", dir_name(run_dir)),
        }
    }
    ids.iter()
        .map(|id| {
            catalog.task(id).with_context(|| {
                format!("the run has submissions of task {id}, which the tasks directory lacks")
            })
        })
        .collect()
}

fn dir_name(dir: &Path) -> String {
    dir.file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
}

/// The rounds of `task` with a recorded archive, in round order (kind, then number).
fn recorded_rounds(
    run_dir: &Path,
    task: &Task,
    index: usize,
    stamp: &str,
) -> anyhow::Result<Vec<Recorded>> {
    let dir = run_dir.join(&task.task_id).join("submissions");
    let mut rounds: Vec<(String, u64, String)> = std::fs::read_dir(&dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .filter_map(|name| {
            let (kind, n) = name.rsplit_once('-')?;
            let n = n.parse::<u64>().ok()?;
            matches!(kind, "agent" | "auto" | "manual" | "game")
                .then(|| (kind.to_owned(), n, name.clone()))
        })
        .filter(|(_, _, name)| dir.join(name).join("submission.tar.gz").is_file())
        .collect();
    rounds.sort();
    Ok(rounds
        .into_iter()
        .map(|(_, _, round)| {
            let round_dir = dir.join(&round);
            Recorded {
                task: index,
                id: format!("{round}-{}", &stamp["regrade-".len()..]).to_ascii_lowercase(),
                archive: round_dir.join("submission.tar.gz"),
                old: read_json(&round_dir.join("report.json")),
                out: round_dir.join(stamp),
                round,
            }
        })
        .collect())
}

/// The judge limits and internet the run registered with (its `run_config.json`), else the
/// settings' limits and no internet: a run whose setting is unknown is graded offline (fail
/// closed; a task whose grader needs the network says so with `judge.internet`).
fn recorded_limits(task_dir: &Path, settings: &Settings, task_id: &str) -> JudgeLimits {
    let config = read_json(&task_dir.join("run_config.json")).unwrap_or(Value::Null);
    let internet = config["internet"].as_bool();
    if internet.is_none() {
        log::warn!(
            "task {task_id}: the run's internet setting is unknown (no readable run_config.json); \
             its submissions are graded without network"
        );
    }
    JudgeLimits {
        cpu: config["judge_cpu_limit"]
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .or(settings.judge_cpu_limit.value),
        mem: config["judge_mem_limit"]
            .as_str()
            .map(str::to_owned)
            .or_else(|| settings.judge_mem_limit.value.clone()),
        internet: Some(internet.unwrap_or(false)),
    }
}

/// A JSON file of at most [`MAX_JSON_BYTES`]; `None` when missing, larger or malformed.
fn read_json(path: &Path) -> Option<Value> {
    let file = std::fs::File::open(path).ok()?;
    let mut text = Vec::new();
    file.take(MAX_JSON_BYTES + 1).read_to_end(&mut text).ok()?;
    if text.len() as u64 > MAX_JSON_BYTES {
        return None;
    }
    serde_json::from_slice(&text).ok()
}

/// The scores of a report (old: as recorded; new: as graded now).
fn scores(report: &Value) -> Value {
    json!({
        "score": report["score"],
        "score_0_100": report["score_0_100"],
        "pass_rate": report["pass_rate"],
        "passed": report["passed"],
        "total_tests": report["total_tests"],
        "valid": report["valid"],
    })
}

fn row(task_id: &str, r: &Recorded, result: &Result<Report, JudgeError>) -> Value {
    let old = r.old.as_ref().map(scores);
    let new = match result {
        Ok(report) => serde_json::to_value(report).map_or(Value::Null, |v| scores(&v)),
        Err(e) => json!({"error": e.to_string()}),
    };
    let changed = match (&old, result) {
        (Some(old), Ok(_)) => !same_scores(old, &new),
        _ => true,
    };
    json!({
        "task_id": task_id,
        "round": r.round,
        "old": old,
        "new": new,
        "changed": changed,
        "report": r.out.join("report.json"),
    })
}

/// Whether two score objects agree (numbers within a rounding error: a re-read float may
/// differ in its last digit).
fn same_scores(a: &Value, b: &Value) -> bool {
    let (Some(a), Some(b)) = (a.as_object(), b.as_object()) else {
        return a == b;
    };
    a.len() == b.len()
        && a.iter().all(|(k, x)| {
            b.get(k).is_some_and(|y| match (x.as_f64(), y.as_f64()) {
                (Some(x), Some(y)) => (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0),
                _ => x == y,
            })
        })
}

fn print_comparison(rows: &[Value]) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    let cell = |v: &Value| -> String {
        match (v["score"].as_f64(), v["pass_rate"].as_f64()) {
            _ if v.get("error").is_some() => "error".to_owned(),
            (Some(s), Some(p)) => format!("{s:.2} ({:.0}%)", p * 100.0),
            (None, Some(p)) => format!("- ({:.0}%)", p * 100.0),
            _ => "-".to_owned(),
        }
    };
    writeln!(
        out,
        "{:<24}  {:<12}  {:>16}     {:<16}",
        "TASK", "ROUND", "OLD", "NEW"
    )?;
    for row in rows {
        let mark = if row["changed"].as_bool().unwrap_or(true) {
            "  changed"
        } else {
            ""
        };
        writeln!(
            out,
            "{:<24}  {:<12}  {:>16} ->  {:<16}{mark}",
            row["task_id"].as_str().unwrap_or(""),
            row["round"].as_str().unwrap_or(""),
            cell(&row["old"]),
            cell(&row["new"]),
        )?;
    }
    for row in rows.iter().filter(|r| r["new"].get("error").is_some()) {
        writeln!(
            out,
            "error in {} {}: {}",
            row["task_id"].as_str().unwrap_or(""),
            row["round"].as_str().unwrap_or(""),
            row["new"]["error"].as_str().unwrap_or("")
        )?;
    }
    Ok(())
}
