//! What `sforge run` prints on stdout: the banner when the tasks start, and the results (one
//! task in full, several as a table).

use std::path::Path;

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
        outln!(
            "Auto-eval: {}",
            if s.disable_auto_eval.value || s.eval_interval.value == 0 {
                "disabled".to_owned()
            } else {
                format!("{}s", s.eval_interval.value)
            }
        );
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
    for (task, outcome) in &report.outcomes {
        match outcome {
            Err(e) => outln!("{task:<30} ERROR: {e}"),
            Ok(r) => {
                let score = r
                    .best_score
                    .map(|s| format!("  (score {s})"))
                    .unwrap_or_default();
                outln!("{task:<30} {:.2}{score}", r.best_pass_rate);
            }
        }
    }
    outln!(
        "Summary saved: {}",
        report.run_dir.join("summary.json").display()
    );
}

fn print_result(r: &FinalResult, dir: &Path) {
    outln!("Agent completed in {:.1}s", r.runtime_seconds);
    outln!("Timed out: {}", r.timed_out);
    outln!("Total rounds: {}", r.total_rounds);
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
