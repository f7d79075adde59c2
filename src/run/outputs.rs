//! The run's records: `final_result.json` (SForge 1.0's keys, in order, plus `interrupted` and
//! `phase_seconds`), the per-task and unified `run_config.json`, and `summary.json`.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::SystemTime;

use serde::Serialize;
use serde_json::Value;

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
}

impl FinalResult {
    /// Fill the best values and counts from a judge history (admin view).
    pub fn apply_history(&mut self, history: &Value) {
        self.best_pass_rate = history["best_pass_rate"].as_f64().unwrap_or(0.0);
        self.best_score = history["best_score"].as_f64();
        history["best_round"]
            .as_str()
            .unwrap_or_default()
            .clone_into(&mut self.best_round);
        let count = |prefix: &str| -> u64 {
            history["entries"].as_array().map_or(0, |entries| {
                entries
                    .iter()
                    .filter(|e| e["round"].as_str().is_some_and(|r| r.starts_with(prefix)))
                    .count() as u64
            })
        };
        self.agent_submissions = count("agent-");
        self.auto_submissions = count("auto-");
        self.total_rounds = self.agent_submissions + self.auto_submissions;
    }
}

/// Write JSON with two-space indentation and a trailing newline.
pub fn write_json(path: &Path, value: &impl Serialize) -> std::io::Result<()> {
    let text = serde_json::to_string_pretty(value).map_err(std::io::Error::other)?;
    std::fs::write(path, text + "\n")
}

/// The current time as `YYYY-MM-DDTHH:MM:SS` (UTC).
#[must_use]
pub fn local_timestamp() -> String {
    let text = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
    text.trim_end_matches('Z').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_look_like_iso_seconds() {
        let t = local_timestamp();
        assert_eq!(t.len(), 19, "{t}");
        assert_eq!(&t[10..11], "T");
    }

    #[test]
    fn history_counts_and_best() {
        let history = serde_json::json!({
            "best_pass_rate": 0.5, "best_score": null, "best_round": "auto-1",
            "entries": [{"round": "agent-1"}, {"round": "auto-1"}, {"round": "auto-2"}]
        });
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
