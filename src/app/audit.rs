//! `sforge audit`: red-team the graders of the chosen tasks (docs/audit.md) with the judge of
//! `sforge eval`, print a table per task and a summary (or `--json`). Exit 0 when every grader
//! held (`not applicable` rows are shown but count only with `--strict`), 3 when any route
//! succeeded or a baseline leaks, 1 when the audit could not run, an attack could not be graded
//! or (`--strict`) a route was not applicable, 130 when interrupted.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context as _;

use super::eval_common::{install_interrupt, interrupted, judge, limits, provision};
use crate::audit::{audit_tasks, AuditOptions, TaskAudit, Verdict};
use crate::cli::{AuditArgs, GlobalArgs};
use crate::config::Settings;
use crate::ids::random_hex;
use crate::judge::launch::{default_concurrency, pool_size};
use crate::task::{Catalog, Task};

/// Exit status when a route succeeded on some task.
const EXIT_VULNERABLE: u8 = 3;

pub fn audit(
    settings: &Settings,
    global: &GlobalArgs,
    args: &AuditArgs,
) -> anyhow::Result<ExitCode> {
    let catalog = Catalog::open(&settings.tasks_dir.value)?;
    let tasks: Vec<Task> = if args.all {
        catalog.all_tasks()?
    } else {
        args.task
            .iter()
            .map(|id| catalog.task(id))
            .collect::<Result<_, _>>()?
    };
    if tasks.is_empty() {
        anyhow::bail!("no task to audit in {}", catalog.dir.display());
    }
    let id = format!(
        "audit-{}",
        random_hex(8).context("cannot create an audit id")?
    );
    install_interrupt(settings)?;
    provision(settings, &catalog, &tasks.iter().collect::<Vec<_>>())
        .context("cannot audit the tasks")?;
    let judge = judge(settings, &catalog, pool_size(settings.judge_pool.value));
    let opts = AuditOptions {
        dir: settings.log_dir.value.join("audits").join(&id),
        id,
        jobs: args.jobs.map_or_else(default_concurrency, usize::from),
        limits: limits(settings),
        solutions: catalog.dir.join("solutions"),
    };
    if !global.silent {
        eprintln!(
            "Audit {} of {} task(s), {} gradings at once; reports in {}",
            opts.id,
            tasks.len(),
            opts.jobs,
            opts.dir.display()
        );
    }
    let silent = global.silent;
    let audits = audit_tasks(&judge, &tasks, &opts, &|task, name| {
        if !silent {
            eprintln!("graded {task}: {name}");
        }
    })?;
    // Waits for the used containers' removal.
    drop(judge);
    if interrupted() {
        std::thread::sleep(std::time::Duration::from_secs(120));
        return Ok(ExitCode::from(130));
    }
    let mut out = std::io::stdout().lock();
    let summary = Summary::of(&audits);
    if args.json {
        let doc = serde_json::json!({
            "audit_id": opts.id, "dir": opts.dir, "summary": summary, "tasks": audits,
        });
        writeln!(out, "{}", serde_json::to_string_pretty(&doc)?)?;
    } else {
        for audit in &audits {
            print_table(&mut out, audit)?;
        }
        summary.print(&mut out)?;
    }
    Ok(if summary.vulnerable > 0 {
        ExitCode::from(EXIT_VULNERABLE)
    } else if summary.inconclusive > 0 {
        log::error!(
            "{} attack(s) could not be graded: the audit is incomplete",
            summary.inconclusive
        );
        ExitCode::FAILURE
    } else if args.strict && !summary.not_applicable.is_empty() {
        log::error!(
            "--strict: {} route(s) could not be tried",
            summary.not_applicable.len()
        );
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// The counts over every task (`summary` in `--json`, the last lines of the tables).
#[derive(serde::Serialize)]
struct Summary {
    tasks: usize,
    vulnerable: usize,
    held: usize,
    /// Attacks that could not be graded.
    inconclusive: usize,
    /// `<task>: <attack>` of every route that could not be tried.
    not_applicable: Vec<String>,
}

impl Summary {
    fn of(audits: &[TaskAudit]) -> Self {
        Self {
            tasks: audits.len(),
            vulnerable: audits.iter().filter(|a| a.is_vulnerable()).count(),
            held: audits.iter().filter(|a| a.status == "held").count(),
            inconclusive: audits
                .iter()
                .flat_map(|a| &a.findings)
                .filter(|f| matches!(f.verdict, Verdict::Inconclusive { .. }))
                .count(),
            not_applicable: audits
                .iter()
                .flat_map(|a| {
                    a.not_applicable
                        .iter()
                        .map(move |n| format!("{}: {n}", a.task_id))
                })
                .collect(),
        }
    }

    fn print(&self, out: &mut impl Write) -> std::io::Result<()> {
        writeln!(
            out,
            "Summary: {} task(s), {} vulnerable, {} held, {} attack(s) inconclusive, {} not applicable",
            self.tasks,
            self.vulnerable,
            self.held,
            self.inconclusive,
            self.not_applicable.len()
        )?;
        for na in &self.not_applicable {
            writeln!(out, "  not applicable: {na}")?;
        }
        Ok(())
    }
}

fn print_table(out: &mut impl Write, audit: &TaskAudit) -> std::io::Result<()> {
    let verdict = match audit.status {
        "vulnerable" => "VULNERABLE",
        other => other,
    };
    if audit.not_applicable.is_empty() {
        writeln!(out, "Task {}: {verdict}", audit.task_id)?;
    } else {
        writeln!(
            out,
            "Task {}: {verdict} ({} not applicable: {})",
            audit.task_id,
            audit.not_applicable.len(),
            audit.not_applicable.join(", ")
        )?;
    }
    for base in &audit.baseline {
        writeln!(out, "  {}: {}", base.name, base.outcome)?;
    }
    let width = audit
        .findings
        .iter()
        .map(|f| f.attack.len())
        .max()
        .unwrap_or(0)
        .max("ATTACK".len());
    writeln!(
        out,
        "  {:<10} {:<width$} {:<17} EVIDENCE",
        "ROUTE", "ATTACK", "VERDICT"
    )?;
    for f in &audit.findings {
        let lines = f.verdict.lines();
        let mut lines = lines.iter();
        writeln!(
            out,
            "  {:<10} {:<width$} {:<17} {}",
            f.route,
            f.attack,
            f.verdict.label(),
            lines.next().map_or("", String::as_str)
        )?;
        for line in lines {
            writeln!(out, "  {:<10} {:<width$} {:<17} | {line}", "", "", "")?;
        }
    }
    writeln!(out)
}
