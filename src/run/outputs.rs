//! The run's records: `final_result.json` (SForge 1.0's keys, in order, plus `interrupted` and
//! `phase_seconds`), the per-task and unified `run_config.json`, and `summary.json`.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;
use serde_json::{json, Value};

use super::error::RunError;
use super::prepare::TaskPlan;
use super::shared::RunShared;
use crate::config::redacted_entries;
use crate::image::ImageDigest;
use crate::judge::api::History;

/// `final_result.json`.
#[derive(Debug, Clone, Serialize, Default)]
pub struct FinalResult {
    pub agent: String,
    pub task: String,
    pub run_id: String,
    pub model: Option<String>,
    pub best_pass_rate: f64,
    pub best_round: String,
    pub total_rounds: u64,
    pub agent_submissions: u64,
    pub auto_submissions: u64,
    pub timed_out: bool,
    pub runtime_seconds: f64,
    pub archive_size_bytes: u64,
    pub resume_count: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub best_score: Option<f64>,
    /// Ctrl-C or SIGTERM stopped the run (not the time budget).
    pub interrupted: bool,
    /// Wall time of each phase: build, create, install, agent, finalise.
    pub phase_seconds: BTreeMap<String, f64>,
    /// Why the run did not complete, when it did not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// A game task (its rounds are game sessions); not written.
    #[serde(skip)]
    pub game: bool,
}

impl FinalResult {
    /// The result of a task that failed before its container existed.
    #[must_use]
    pub fn failed(shared: &RunShared, plan: &TaskPlan, error: &RunError) -> Self {
        FinalResult {
            agent: plan.agent.name.clone(),
            task: plan.task.task_id.clone(),
            run_id: shared.run_id.clone(),
            model: plan.settings.agent_model.value.clone(),
            error: Some(error.to_string()),
            ..FinalResult::default()
        }
    }

    /// Fill the best values and counts from a judge history (admin view).
    pub fn apply_history(&mut self, history: &History) {
        self.best_pass_rate = history.best_pass_rate;
        self.best_score = history.best_score;
        self.best_round.clone_from(&history.best_round);
        self.agent_submissions = history.rounds_of("agent-");
        self.auto_submissions = history.rounds_of("auto-");
        self.total_rounds = self.agent_submissions + self.auto_submissions;
    }

    /// Fill the best values and counts of a game task from its history (agent view): every
    /// round is a game session.
    pub fn apply_game_history(&mut self, history: &History) {
        self.game = true;
        self.best_pass_rate = history.best_pass_rate;
        self.best_score = history.best_score;
        self.best_round.clone_from(&history.best_round);
        self.agent_submissions = history.rounds_of("game-");
        self.auto_submissions = 0;
        self.total_rounds = self.agent_submissions;
    }
}

/// One task of `summary.json`: its result, or why it could not run.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum SummaryEntry<'a> {
    Result(&'a FinalResult),
    Failed { task: &'a str, error: String },
}

/// `summary.json` of a multi-task run.
#[derive(Debug, Serialize)]
pub struct Summary<'a> {
    pub run_id: &'a str,
    pub tasks: Vec<SummaryEntry<'a>>,
}

/// Write `summary.json` into `run_dir`.
pub fn write_summary(
    run_dir: &Path,
    run_id: &str,
    outcomes: &[(String, Result<FinalResult, RunError>)],
) -> Result<(), RunError> {
    let summary = Summary {
        run_id,
        tasks: outcomes
            .iter()
            .map(|(task, outcome)| match outcome {
                Ok(result) => SummaryEntry::Result(result),
                Err(e) => SummaryEntry::Failed {
                    task,
                    error: e.to_string(),
                },
            })
            .collect(),
    };
    let path = run_dir.join("summary.json");
    write_json(&path, &summary).map_err(|e| RunError::io("write", &path, e))
}

/// The per-task `run_config.json`: effective settings (secrets redacted) with their sources.
#[must_use]
pub fn run_config(plan: &TaskPlan) -> Value {
    let (settings, task) = (&plan.settings, &plan.task);
    let entries: serde_json::Map<String, Value> = redacted_entries(settings)
        .into_iter()
        .map(|(name, value, source)| {
            (
                name.to_owned(),
                json!({"value": value, "source": source.to_string()}),
            )
        })
        .collect();
    json!({
        "task_id": task.task_id,
        "agent": settings.agent.value,
        "model": settings.agent_model.value,
        "timeout": settings.agent_timeout.value,
        "eval_interval": settings.eval_interval.value,
        "disable_stop_hook": settings.disable_stop_hook.value,
        "disable_auto_eval": settings.disable_auto_eval.value,
        "disable_auto_resume": settings.disable_auto_resume.value,
        "internet": settings.internet.value,
        "judge_url": settings.judge_url.value,
        "work_cpu_limit": settings.work_cpu_limit.value,
        "work_mem_limit": settings.work_mem_limit.value,
        "judge_cpu_limit": settings.judge_cpu_limit.value,
        "judge_mem_limit": settings.judge_mem_limit.value,
        "max_submissions": settings.max_submissions.value,
        "submission_cooldown": settings.submission_cooldown.value,
        "images": {"work": task.images.work.to_string(), "judge": task.images.judge.to_string()},
        // How the task's rounds compare (the visualizer's cross-run pages read them).
        "score_direction": task.judge.score_direction,
        "selection": task.judge.selection,
        "settings": entries,
    })
}

/// Each task's `run_config.json` (with the IDs and digests of its images) and the run's own,
/// which holds them all; the experiment file is copied beside them.
pub fn write_configs(
    run_dir: &Path,
    run_id: &str,
    experiment: Option<&Path>,
    plans: &[TaskPlan],
    digests: &[ImageDigest],
) -> Result<(), RunError> {
    let mut map = serde_json::Map::new();
    for plan in plans {
        let task = &plan.task;
        let dir = run_dir.join(&task.task_id);
        std::fs::create_dir_all(&dir).map_err(|e| RunError::io("create", &dir, e))?;
        let mut config = run_config(plan);
        let images = [task.images.work.to_string(), task.images.judge.to_string()];
        let pinned: Vec<&ImageDigest> = digests
            .iter()
            .filter(|d| images.contains(&d.image))
            .collect();
        config["image_digests"] = json!(pinned);
        let path = dir.join("run_config.json");
        write_json(&path, &config).map_err(|e| RunError::io("write", &path, e))?;
        map.insert(task.task_id.clone(), config);
    }
    if let Some(path) = experiment {
        let _ = std::fs::copy(path, run_dir.join("experiment.yaml"));
    }
    let stagger = plans.first().and_then(|p| p.settings.stagger.value);
    let unified =
        json!({"run_id": run_id, "experiment": experiment, "stagger": stagger, "tasks": map});
    let path = run_dir.join("run_config.json");
    write_json(&path, &unified).map_err(|e| RunError::io("write", &path, e))
}

/// Write JSON with two-space indentation and a trailing newline.
pub fn write_json(path: &Path, value: &impl Serialize) -> std::io::Result<()> {
    let text = serde_json::to_string_pretty(value).map_err(std::io::Error::other)?;
    std::fs::write(path, text + "\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_counts_and_best() {
        let entry = |round: &str| {
            json!({"type": "submission", "status": "completed", "submission_id": "s",
                   "task_id": "t", "round": round})
        };
        let history: History = serde_json::from_value(json!({
            "run_id": "r", "best_pass_rate": 0.5, "best_score": null, "best_round": "auto-1",
            "agent_submissions": 1, "auto_submissions": 2,
            "entries": [entry("agent-1"), entry("auto-1"), entry("auto-2")]
        }))
        .unwrap();
        let mut r = FinalResult::default();
        r.apply_history(&history);
        assert_eq!(
            (r.agent_submissions, r.auto_submissions, r.total_rounds),
            (1, 2, 3)
        );
        assert_eq!(r.best_round, "auto-1");
        assert!(r.best_score.is_none());
        let text = serde_json::to_string(&r).unwrap();
        assert!(
            !text.contains("best_score"),
            "best_score is left out when null: {text}"
        );
        assert!(text.starts_with(r#"{"agent":"","task":"","run_id":"","model":null,"best_pass_rate":0.5,"best_round":"auto-1""#), "{text}");
    }
}
