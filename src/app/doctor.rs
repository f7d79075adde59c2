//! `sforge doctor`: the checks as a table (or JSON), exit 1 when one fails.

use std::io::Write;
use std::process::ExitCode;

use crate::cli::DoctorArgs;
use crate::config::Settings;
use crate::doctor::{run_checks, Check, Status};
use crate::task::Catalog;

pub fn doctor(settings: &Settings, args: &DoctorArgs) -> anyhow::Result<ExitCode> {
    let tasks = Catalog::open(&settings.tasks_dir.value)
        .and_then(|c| c.all_tasks())
        .unwrap_or_else(|e| {
            log::info!("no tasks to check images for: {e}");
            Vec::new()
        });
    let runner = crate::process::runner(false);
    let checks = run_checks(settings, settings.backend.value, &runner, &tasks);
    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&checks)?)?;
    } else {
        print_table(&mut out, &checks)?;
    }
    let failed = checks.iter().filter(|c| c.status == Status::Fail).count();
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn print_table(out: &mut dyn Write, checks: &[Check]) -> std::io::Result<()> {
    let width = checks.iter().map(|c| c.name.len()).max().unwrap_or(0);
    for c in checks {
        let mark = match c.status {
            Status::Pass => "ok  ",
            Status::Warn => "WARN",
            Status::Fail => "FAIL",
            Status::Skip => "skip",
        };
        writeln!(out, "{mark}  {:<width$}  {}", c.name, c.detail)?;
        if let Some(fix) = &c.fix {
            writeln!(out, "      {:<width$}  fix: {fix}", "")?;
        }
    }
    let count = |s: Status| checks.iter().filter(|c| c.status == s).count();
    writeln!(
        out,
        "\n{} ok, {} warnings, {} failed, {} skipped",
        count(Status::Pass),
        count(Status::Warn),
        count(Status::Fail),
        count(Status::Skip)
    )
}
