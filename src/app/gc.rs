//! `sforge gc`: what sforge left behind, removed (or listed with `--dry-run`), one line each.

use std::io::Write;
use std::process::ExitCode;

use crate::cli::GcArgs;
use crate::config::Settings;
use crate::gc::{collect, Found, GcOptions, Verdict};

pub fn collect_garbage(settings: &Settings, args: &GcArgs) -> anyhow::Result<ExitCode> {
    let opts = GcOptions {
        all_owners: args.all_owners,
        older_than: args.older_than,
        dry_run: args.dry_run,
    };
    let runner = crate::process::runner(false);
    let found = collect(settings, &runner, &opts)?;
    let mut out = std::io::stdout().lock();
    let (mut removed, mut kept, mut failed) = (0, 0, 0);
    for f in &found {
        match (&f.verdict, &f.failed) {
            (Verdict::Keep(why), _) => {
                kept += 1;
                log::info!("kept {} {} ({why})", f.kind, f.name);
            }
            (Verdict::Remove(why), Some(e)) => {
                failed += 1;
                eprintln!("error: cannot remove {} {} ({why}): {e}", f.kind, f.name);
            }
            (Verdict::Remove(why), None) => {
                removed += 1;
                let verb = if args.dry_run {
                    "would remove"
                } else {
                    "removed"
                };
                writeln!(out, "{verb} {} {} ({why})", f.kind, f.name)?;
            }
        }
    }
    writeln!(
        out,
        "{}",
        summary(args.dry_run, removed, kept, failed, &found)
    )?;
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn summary(dry_run: bool, removed: usize, kept: usize, failed: usize, found: &[Found]) -> String {
    if found.is_empty() {
        return "gc: nothing of sforge's found".to_owned();
    }
    let verb = if dry_run { "would remove" } else { "removed" };
    let failed = if failed > 0 {
        format!(", {failed} failed")
    } else {
        String::new()
    };
    let kept = if kept > 0 {
        format!(", kept {kept} in use or not yours (-v lists them with the reason)")
    } else {
        String::new()
    };
    format!("gc: {verb} {removed}{failed}{kept}")
}
