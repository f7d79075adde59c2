//! What `sforge run` prints on stdout: the banner when the tasks start, and the results (one
//! task in full, several as a table).

use std::path::Path;

use super::error::RunError;
use super::outputs::FinalResult;
use super::prepare::TaskPlan;
use super::report::RunReport;

/// The lines printed before the tasks start.
#[allow(clippy::cast_precision_loss, reason = "seconds shown with one decimal")]
pub fn banner(run_id: &str, plans: &[TaskPlan], judge: &str, stagger: Option<u64>) {
    if let [plan] = plans {
        let s = &plan.settings;
        outln!(
            "Running agent '{}' on task: {}",
            plan.agent.name,
            plan.task.task_id
        );
        outln!("Work image: {}", plan.task.images.work);
        outln!("Run ID: {run_id}");
        outln!("Timeout: {}s", plan.budget_seconds());
        if plan.task.game_mode {
            outln!(
                "Game server: {judge}/api/v1/game/{run_id}/{}",
                plan.task.task_id
            );
        } else {
            outln!(
                "Auto-eval: {}",
                if s.disable_auto_eval.value || s.eval_interval.value == 0 {
                    "disabled".to_owned()
                } else {
                    format!("{}s", s.eval_interval.value)
                }
            );
        }
        outln!("Judge URL: {judge}");
    } else {
        outln!("Multi-task run (verbose output disabled, check log files for details)");
        outln!("Run ID: {run_id}");
        let ids: Vec<&str> = plans.iter().map(|p| p.task.task_id.as_str()).collect();
        let spread = match stagger {
            Some(s) if s > 0 => format!(
                "(staggered over {s}s, {:.1}s apart)",
                s as f64 / plans.len() as f64
            ),
            _ => "(all in parallel)".to_owned(),
        };
        outln!("Tasks: {} {spread}", ids.join(", "));
    }
}

/// The results: a single task in full, several as a summary table; failures on stderr.
pub fn print_report(report: &RunReport) {
    if let [(task, outcome)] = report.outcomes.as_slice() {
        match outcome {
            Ok(r) => print_result(r, &report.run_dir.join(task)),
            Err(e) => eprintln!("[{task}] ERROR: {e}"),
        }
        return;
    }
    for (task, outcome) in &report.outcomes {
        if let Err(e) = outcome {
            eprintln!("[{task}] ERROR: {e}");
        }
    }
    outln!(
        "=== Multi-task summary ({} tasks) ===",
        report.outcomes.len()
    );
    for line in summary_table(&report.outcomes) {
        outln!("{line}");
    }
    outln!(
        "Summary saved: {}",
        report.run_dir.join("summary.json").display()
    );
}

/// The multi-task summary: each task padded to 30 with its pass rate (as SForge 1.0 prints
/// it), then score, rounds and duration, aligned under a header; failed tasks say why.
#[must_use]
pub fn summary_table(outcomes: &[(String, Result<FinalResult, RunError>)]) -> Vec<String> {
    let mut rows = vec![format!(
        "{:<30} {:>9} {:>8} {:>7} {:>9}",
        "TASK", "PASS RATE", "SCORE", "ROUNDS", "DURATION"
    )];
    for (task, outcome) in outcomes {
        rows.push(match outcome {
            Err(e) => format!("{task:<30} ERROR: {e}"),
            Ok(r) => {
                let score = r
                    .best_score
                    .map_or_else(|| "-".to_owned(), |s| format!("{s}"));
                let seconds: f64 = r.phase_seconds.values().sum();
                format!(
                    "{task:<30} {:>9.2} {score:>8} {:>7} {:>8.0}s",
                    r.best_pass_rate, r.total_rounds, seconds
                )
            }
        });
    }
    rows
}

fn print_result(r: &FinalResult, dir: &Path) {
    outln!("Agent completed in {:.1}s", r.runtime_seconds);
    outln!("Timed out: {}", r.timed_out);
    if r.game {
        outln!("Game sessions: {}", r.total_rounds);
    } else {
        outln!("Total rounds: {}", r.total_rounds);
    }
    outln!("Best pass rate: {:.2}%", r.best_pass_rate * 100.0);
    if let Some(score) = r.best_score {
        outln!("Best score: {score:.0}");
    }
    outln!("Best round: {}", r.best_round);
    outln!(
        "Final archive: {}",
        dir.join("final_archive.tar.gz").display()
    );
    if let Some(e) = &r.error {
        eprintln!("error: {e}");
    }
    if let Ok(text) = serde_json::to_string_pretty(r) {
        outln!("{text}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_keeps_the_reference_columns_and_aligns_the_rest() {
        let ok = FinalResult {
            best_pass_rate: 0.5,
            best_score: Some(80.0),
            total_rounds: 3,
            phase_seconds: [("agent".to_owned(), 60.4), ("install".to_owned(), 2.0)].into(),
            ..FinalResult::default()
        };
        let rows = summary_table(&[
            ("coin_change".to_owned(), Ok(ok)),
            ("broken".to_owned(), Err(RunError::NotStarted)),
        ]);
        assert_eq!(
            rows[0],
            format!("{:<30} PASS RATE    SCORE  ROUNDS  DURATION", "TASK")
        );
        assert_eq!(
            rows[1],
            format!("{:<30}      0.50       80       3       62s", "coin_change")
        );
        assert!(
            rows[2].starts_with(&format!("{:<30} ERROR: ", "broken")),
            "{rows:?}"
        );
    }
}
