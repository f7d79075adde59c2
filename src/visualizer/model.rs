//! The run files as the visualizer reads them: lenient serde views (every field optional) of
//! `final_result.json`, `report.json` and `run_history.json`, so that records of older versions
//! and of SForge 1.0 load too.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `final_result.json`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct FinalView {
    pub agent: Option<String>,
    pub task: Option<String>,
    pub model: Option<String>,
    pub best_pass_rate: Option<f64>,
    pub best_score: Option<f64>,
    pub best_round: Option<String>,
    pub total_rounds: Option<u64>,
    pub timed_out: Option<bool>,
    pub interrupted: Option<bool>,
    pub runtime_seconds: Option<f64>,
    pub resume_count: Option<u64>,
    pub phase_seconds: BTreeMap<String, f64>,
    pub error: Option<String>,
    /// `maximize` or `minimize`, where a record carries it (docs/visualizer.md#cross-run-pages).
    pub score_direction: Option<String>,
}

/// `submissions/<round>/report.json`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct ReportView {
    pub status: Option<String>,
    pub total_tests: Option<u64>,
    pub passed: Option<u64>,
    pub failed: Option<u64>,
    pub errors: Option<u64>,
    pub pass_rate: Option<f64>,
    pub score: Option<f64>,
    pub score_0_100: Option<f64>,
    pub max_score: Option<f64>,
    pub timed_out: Option<bool>,
    pub runtime_seconds: Option<f64>,
    pub valid: Option<bool>,
    pub summary: Option<String>,
    pub error: Option<String>,
    pub submitted_at: Option<f64>,
}

/// One entry of `run_history.json`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct HistoryEntry {
    pub round: Option<String>,
    pub status: Option<String>,
    pub pass_rate: Option<f64>,
    pub score: Option<f64>,
    pub passed: Option<u64>,
    pub total_tests: Option<u64>,
    pub summary: Option<String>,
    pub error: Option<String>,
}

/// `run_history.json`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct HistoryView {
    pub best_round: Option<String>,
    pub entries: Vec<HistoryEntry>,
}

/// The fields of a task's `run_config.json` the pages use.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ConfigView {
    pub agent: Option<String>,
    pub model: Option<String>,
    pub timeout: Option<f64>,
    pub score_direction: Option<String>,
}

/// A finite number, or `None` (JSON has no NaN or infinity).
#[must_use]
pub fn finite(value: Option<f64>) -> Option<f64> {
    value.filter(|v| v.is_finite())
}

/// Replaces every value whose key names a secret (`…key`, `…token`, `…secret`, `…password`) by
/// `***`, and passwords inside URLs, recursively.
pub fn mask_secrets(value: &mut Value) {
    match value {
        Value::Object(map) => {
            // `settings` entries are `{name: {value, source}}`: the name decides for the value.
            for (key, item) in map.iter_mut() {
                if crate::redact::is_secret_name(key) && !item.is_null() {
                    mask_leaves(item);
                } else {
                    mask_secrets(item);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(mask_secrets),
        Value::String(text) if crate::redact::has_password(text) => {
            *text = crate::redact::redact_url(text);
        }
        _ => {}
    }
}

/// Masks every string or number under `value`, keeping `source` fields (where a value came from).
fn mask_leaves(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, item) in map.iter_mut() {
                if key != "source" {
                    mask_leaves(item);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(mask_leaves),
        Value::Null => {}
        other => *other = Value::String(crate::redact::MASK.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secrets_are_masked_at_any_depth() {
        let mut config = json!({
            "agent": "codex",
            "settings": {
                "agent_api_key": {"value": "sk-live-123", "source": "env SFORGE_AGENT_API_KEY"},
                "http_proxy": {"value": "http://u:pw@proxy:3128", "source": "env"},
                "git_token": "ghp_x",
                "timeout": {"value": 60, "source": "default"}
            }
        });
        mask_secrets(&mut config);
        let text = config.to_string();
        assert!(!text.contains("sk-live-123") && !text.contains("ghp_x") && !text.contains(":pw@"));
        assert_eq!(config["settings"]["agent_api_key"]["value"], "***");
        assert_eq!(
            config["settings"]["agent_api_key"]["source"],
            "env SFORGE_AGENT_API_KEY"
        );
        assert_eq!(config["settings"]["timeout"]["value"], 60);
        assert_eq!(config["agent"], "codex");
    }
}
