//! `sforge audit`: red-team the graders of the chosen tasks (docs/audit.md) with the judge of
//! `sforge eval`, print a table per task (or `--json`). Exit 0 when every grader held, 3 when any
//! route succeeded, 1 when the audit could not run or an attack could not be graded, 130 when
//! interrupted.

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
    if args.json {
        let doc = serde_json::json!({"audit_id": opts.id, "dir": opts.dir, "tasks": audits});
        writeln!(out, "{}", serde_json::to_string_pretty(&doc)?)?;
    } else {
        for audit in &audits {
            print_table(&mut out, audit)?;
        }
    }
    let unsure = audits
        .iter()
        .flat_map(|a| &a.findings)
        .filter(|f| matches!(f.verdict, Verdict::Inconclusive { .. }))
        .count();
    Ok(if audits.iter().any(TaskAudit::is_vulnerable) {
        ExitCode::from(EXIT_VULNERABLE)
    } else if unsure > 0 {
        log::error!("{unsure} attack(s) could not be graded: the audit is incomplete");
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn print_table(out: &mut impl Write, audit: &TaskAudit) -> std::io::Result<()> {
    let verdict = if audit.is_vulnerable() {
        "VULNERABLE"
    } else {
        "held"
    };
    writeln!(out, "Task {}: {verdict}", audit.task_id)?;
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
        "  {:<10} {:<width$} {:<12} EVIDENCE",
        "ROUTE", "ATTACK", "VERDICT"
    )?;
    for f in &audit.findings {
        let lines = f.verdict.lines();
        let mut lines = lines.iter();
        writeln!(
            out,
            "  {:<10} {:<width$} {:<12} {}",
            f.route,
            f.attack,
            f.verdict.label(),
            lines.next().map_or("", String::as_str)
        )?;
        for line in lines {
            writeln!(out, "  {:<10} {:<width$} {:<12} | {line}", "", "", "")?;
        }
    }
    writeln!(out)
}
