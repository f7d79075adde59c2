//! What `sforge run` prints on stdout: the banner when the tasks start, and the results (one
//! task in full, several as a table).

use std::path::Path;

use super::orchestrator::RunReport;
use super::outputs::FinalResult;
use super::prepare::TaskPlan;

/// The lines printed before the tasks start.
#[allow(clippy::cast_precision_loss, reason = "seconds shown with one decimal")]
pub fn banner(run_id: &str, plans: &[TaskPlan], judge: &str, stagger: Option<u64>) {
    if let [plan] = plans {
        let s = &plan.settings;
        println!(
            "Running agent '{}' on task: {}",
            plan.agent.name, plan.task.task_id
        );
        println!("Work image: {}", plan.task.images.work);
        println!("Run ID: {run_id}");
        println!("Timeout: {}s", plan.budget_seconds());
        println!(
            "Auto-eval: {}",
            if s.disable_auto_eval.value || s.eval_interval.value == 0 {
                "disabled".to_owned()
            } else {
                format!("{}s", s.eval_interval.value)
            }
        );
        println!("Judge URL: {judge}");
    } else {
        println!("Multi-task run (verbose output disabled, check log files for details)");
        println!("Run ID: {run_id}");
        let ids: Vec<&str> = plans.iter().map(|p| p.task.task_id.as_str()).collect();
        let spread = match stagger {
            Some(s) if s > 0 => format!(
                "(staggered over {s}s, {:.1}s apart)",
                s as f64 / plans.len() as f64
            ),
            _ => "(all in parallel)".to_owned(),
        };
        println!("Tasks: {} {spread}", ids.join(", "));
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
    println!(
        "=== Multi-task summary ({} tasks) ===",
        report.outcomes.len()
    );
    for (task, outcome) in &report.outcomes {
        match outcome {
            Err(e) => println!("{task:<30} ERROR: {e}"),
            Ok(r) => {
                let score = r
                    .best_score
                    .map(|s| format!("  (score {s})"))
                    .unwrap_or_default();
                println!("{task:<30} {:.2}{score}", r.best_pass_rate);
            }
        }
    }
    println!(
        "Summary saved: {}",
        report.run_dir.join("summary.json").display()
    );
}

fn print_result(r: &FinalResult, dir: &Path) {
    println!("Agent completed in {:.1}s", r.runtime_seconds);
    println!("Timed out: {}", r.timed_out);
    println!("Total rounds: {}", r.total_rounds);
    println!("Best pass rate: {:.2}%", r.best_pass_rate * 100.0);
    if let Some(score) = r.best_score {
        println!("Best score: {score:.0}");
    }
    println!("Best round: {}", r.best_round);
    println!(
        "Final archive: {}",
        dir.join("final_archive.tar.gz").display()
    );
    if let Some(e) = &r.error {
        eprintln!("error: {e}");
    }
    if let Ok(text) = serde_json::to_string_pretty(r) {
        println!("{text}");
    }
}
