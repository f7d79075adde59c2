//! Running an audit: for each task its baseline gradings (an empty submission and the shipped
//! partial solution) and every route's submissions, graded together by the real judge into
//! `<log_dir>/audits/<audit-id>/<task>/<attack>/`, then judged against the baseline.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::archive::{build_archive, ArchiveError};
use super::attack::Attack;
use super::judging::{baseline, judge as verdict_of, not_tried};
use super::routes::ROUTES;
use super::target::Target;
use super::verdict::{describe, Finding, Verdict};
use crate::judge::{grade_all, Judge, JudgeError, JudgeLimits, Report, Submission};
use crate::task::Task;

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error(transparent)]
    Archive(#[from] ArchiveError),
    #[error("cannot write {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// How to run an audit.
pub struct AuditOptions {
    /// Names the audit (the judge containers' run id, the output directory).
    pub id: String,
    /// `<log_dir>/audits/<id>/`.
    pub dir: PathBuf,
    /// Gradings at once.
    pub jobs: usize,
    pub limits: JudgeLimits,
    /// `<tasks>/solutions/`: a task's `partial/` solution there is a baseline.
    pub solutions: PathBuf,
}

/// A baseline grading of a task.
#[derive(Debug, Clone, Serialize)]
pub struct BaselineRun {
    pub name: String,
    /// One line: the counts and score, or the error.
    pub outcome: String,
}

/// A task's audit.
#[derive(Debug, Clone, Serialize)]
pub struct TaskAudit {
    pub task_id: String,
    /// `vulnerable` (a finding), `incomplete` (an attack could not be graded) or `held`.
    pub status: &'static str,
    /// The attacks that could not be tried on this task (their rows say why).
    pub not_applicable: Vec<String>,
    pub baseline: Vec<BaselineRun>,
    pub findings: Vec<Finding>,
}

impl TaskAudit {
    fn new(task_id: &str, baseline: Vec<BaselineRun>, findings: Vec<Finding>) -> Self {
        let status = if findings.iter().any(|f| f.verdict.is_finding()) {
            "vulnerable"
        } else if findings
            .iter()
            .any(|f| matches!(f.verdict, Verdict::Inconclusive { .. }))
        {
            "incomplete"
        } else {
            "held"
        };
        Self {
            task_id: task_id.to_owned(),
            status,
            not_applicable: findings
                .iter()
                .filter(|f| matches!(f.verdict, Verdict::NotApplicable { .. }))
                .map(|f| f.attack.clone())
                .collect(),
            baseline,
            findings,
        }
    }

    /// Whether any route succeeded.
    #[must_use]
    pub fn is_vulnerable(&self) -> bool {
        self.status == "vulnerable"
    }
}

/// One submission to grade: a baseline or an attack, its archive on disk.
struct Planned {
    task: usize,
    name: String,
    archive: PathBuf,
    dir: PathBuf,
    attack: Option<Attack>,
}

/// Audit `tasks` with `judge`; `progress` hears of each grading as it ends.
///
/// # Errors
/// When an archive cannot be built or written (the gradings' own failures are verdicts).
pub fn audit_tasks(
    judge: &Judge,
    tasks: &[Task],
    opts: &AuditOptions,
    progress: &(dyn Fn(&str, &str) + Sync),
) -> Result<Vec<TaskAudit>, AuditError> {
    let targets: Vec<Target> = tasks
        .iter()
        .map(|t| Target::of(t, &opts.solutions.join(&t.task_id)))
        .collect();
    let mut plan = Vec::new();
    let mut skipped: Vec<(usize, Attack)> = Vec::new();
    for (i, (task, target)) in tasks.iter().zip(&targets).enumerate() {
        plan_task(i, task, target, opts, &mut plan, &mut skipped)?;
    }
    let ids: Vec<String> = plan
        .iter()
        .map(|p| format!("{}-{}", opts.id, p.name))
        .collect();
    let subs: Vec<Submission<'_>> = plan
        .iter()
        .zip(&ids)
        .map(|(p, id)| Submission {
            task: &tasks[p.task],
            run_id: &opts.id,
            submission_id: id,
            round: &p.name,
            archive: &p.archive,
            // The task's own eval timeout, as in a real round.
            timeout: None,
            limits: opts.limits.clone(),
            dir: Some(p.dir.clone()),
        })
        .collect();
    let results = grade_all(judge, &subs, opts.jobs, &|i, _| {
        progress(&tasks[plan[i].task].task_id, &plan[i].name);
    });
    Ok(tasks
        .iter()
        .zip(&targets)
        .enumerate()
        .map(|(i, (task, target))| {
            let mine: Vec<(&Planned, &Result<Report, JudgeError>)> = plan
                .iter()
                .zip(&results)
                .filter(|(p, _)| p.task == i)
                .collect();
            let not_tried: Vec<&Attack> = skipped
                .iter()
                .filter(|(t, _)| *t == i)
                .map(|(_, a)| a)
                .collect();
            judge_task(task, target, &mine, &not_tried)
        })
        .collect())
}

/// Writes task `i`'s baselines and graded attacks into `plan`; the attacks its routes cannot
/// try go to `skipped`.
fn plan_task(
    i: usize,
    task: &Task,
    target: &Target,
    opts: &AuditOptions,
    plan: &mut Vec<Planned>,
    skipped: &mut Vec<(usize, Attack)>,
) -> Result<(), AuditError> {
    let dir = opts.dir.join(&task.task_id);
    plan.push(write(i, "baseline-empty", Vec::new(), &dir, None)?);
    let partial = opts.solutions.join(&task.task_id).join("partial");
    if partial.is_dir() {
        let bytes = tar_gz_of_dir(&partial).map_err(|source| AuditError::Write {
            path: partial.clone(),
            source,
        })?;
        plan.push(write(i, "baseline-partial", bytes, &dir, None)?);
    }
    for attack in ROUTES.iter().flat_map(|r| (r.attacks)(target)) {
        if attack.skipped.is_some() {
            skipped.push((i, attack));
            continue;
        }
        let bytes = build_archive(&attack.entries)?;
        plan.push(write(i, &attack.name.clone(), bytes, &dir, Some(attack))?);
    }
    Ok(())
}

fn judge_task(
    task: &Task,
    target: &Target,
    graded: &[(&Planned, &Result<Report, JudgeError>)],
    not_graded: &[&Attack],
) -> TaskAudit {
    let (bases, attacks): (Vec<_>, Vec<_>) = graded.iter().partition(|(p, _)| p.attack.is_none());
    let reports: Vec<(String, Report)> = bases
        .iter()
        .filter_map(|(p, r)| r.as_ref().ok().map(|r| (p.name.clone(), r.clone())))
        .collect();
    let judge_only: Vec<String> = target.secrets.iter().cloned().collect();
    let base = baseline(
        task.judge.selection,
        task.judge.score_direction,
        &task.judge.parser,
        &reports,
        &judge_only,
    );
    let finding = |attack: &Attack, verdict: Verdict, dir: String| Finding {
        route: attack.route,
        attack: attack.name.clone(),
        about: attack.about.clone(),
        verdict,
        dir,
    };
    let mut findings: Vec<Finding> = attacks
        .iter()
        .filter_map(|(p, result)| {
            let attack = p.attack.as_ref()?;
            let verdict = verdict_of(attack.check, &attack.about, result, &base);
            Some(finding(attack, verdict, p.dir.display().to_string()))
        })
        .collect();
    for attack in not_graded {
        let reason = attack.skipped.as_deref().unwrap_or_default();
        findings.push(finding(
            attack,
            not_tried(attack.check, reason, &base),
            String::new(),
        ));
    }
    // Report order: the routes' order, whether graded or not.
    findings.sort_by_key(|f| ROUTES.iter().position(|r| r.name == f.route));
    let runs = bases
        .iter()
        .map(|(p, r)| BaselineRun {
            name: p.name.clone(),
            outcome: match r {
                Ok(r) => describe(r),
                Err(e) => format!("error: {e}"),
            },
        })
        .collect();
    TaskAudit::new(&task.task_id, runs, findings)
}

/// Write `bytes` as `<dir>/<name>/submission.tar.gz`.
fn write(
    task: usize,
    name: &str,
    bytes: Vec<u8>,
    dir: &Path,
    attack: Option<Attack>,
) -> Result<Planned, AuditError> {
    let dir = dir.join(name);
    let archive = dir.join("submission.tar.gz");
    std::fs::create_dir_all(&dir)
        .and_then(|()| std::fs::write(&archive, bytes))
        .map_err(|source| AuditError::Write {
            path: archive.clone(),
            source,
        })?;
    Ok(Planned {
        task,
        name: name.to_owned(),
        archive,
        dir,
        attack,
    })
}

/// `dir` as a `.tar.gz` of its files (links kept as links).
fn tar_gz_of_dir(dir: &Path) -> std::io::Result<Vec<u8>> {
    let encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut builder = tar::Builder::new(encoder);
    builder.follow_symlinks(false);
    builder.append_dir_all(".", dir)?;
    builder.into_inner()?.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(attack: &str, verdict: Verdict) -> Finding {
        Finding {
            route: "leak",
            attack: attack.into(),
            about: String::new(),
            verdict,
            dir: String::new(),
        }
    }

    #[test]
    fn a_task_status_counts_findings_first_and_lists_what_was_not_applicable() {
        let na = || Verdict::NotApplicable {
            detail: "no judge-only word".into(),
        };
        let held = TaskAudit::new("t", vec![], vec![finding("leak-judge-files", na())]);
        assert_eq!(held.status, "held");
        assert_eq!(held.not_applicable, ["leak-judge-files"]);
        let leaks = TaskAudit::new(
            "t",
            vec![],
            vec![
                finding("a", Verdict::Inconclusive { detail: "x".into() }),
                finding("b", Verdict::LeaksAtBaseline { evidence: vec![] }),
            ],
        );
        assert!(leaks.is_vulnerable());
        let unsure = TaskAudit::new(
            "t",
            vec![],
            vec![finding("a", Verdict::Inconclusive { detail: "x".into() })],
        );
        assert_eq!(unsure.status, "incomplete");
        let json = serde_json::to_value(&held).expect("json");
        assert_eq!(json["findings"][0]["verdict"], "not_applicable");
        assert_eq!(json["findings"][0]["detail"], "no judge-only word");
    }
}
