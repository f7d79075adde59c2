//! The graded rounds of a task: `submissions/<round>/report.json` merged with `run_history.json`
//! (rounds that failed before a report exists), in time order, each tagged agent, auto, final,
//! manual or game; and the chart data of the reference's `/chart-data` route.

use std::path::Path;

use serde::Serialize;

use super::files::{self, optional_json};
use super::games;
use super::model::{finite, HistoryView, ReportView};
use super::paths::Root;
use super::summary::TaskSummary;

/// Most rounds read per task.
pub const MAX_ROUNDS: usize = 5000;
/// Most bytes of `report.json` files read for one task's rounds.
pub const MAX_REPORT_BYTES_PER_TASK: u64 = 64 << 20;

/// One graded (or failed) round.
#[derive(Debug, Clone, Serialize)]
pub struct Round {
    pub label: String,
    /// agent, auto, final, manual or game.
    pub kind: &'static str,
    pub seq: u64,
    pub status: Option<String>,
    pub pass_rate: Option<f64>,
    pub score: Option<f64>,
    pub score_0_100: Option<f64>,
    pub max_score: Option<f64>,
    pub passed: Option<u64>,
    pub total: Option<u64>,
    pub submitted_at: Option<f64>,
    pub runtime_seconds: Option<f64>,
    pub summary: Option<String>,
    pub error: Option<String>,
    pub is_best: bool,
}

/// The kind and sequence number of a round folder name; `None` for names that are no round.
#[must_use]
pub fn parse_round(name: &str) -> Option<(&'static str, u64)> {
    if let Ok(n) = name.parse::<u64>() {
        return Some(("agent", n));
    }
    let (prefix, n) = name.rsplit_once('-')?;
    let n = n.parse().ok()?;
    let kind = match prefix {
        "agent" => "agent",
        "auto" => "auto",
        "manual" => "manual",
        "game" => "game",
        _ => return None,
    };
    Some((kind, n))
}

/// The round graded as the final sample, from `run_agent.log` ("final round <r> submitted").
#[must_use]
pub fn final_round(root: &Root, task_dir: &Path) -> Option<String> {
    let path = root.file(task_dir, "run_agent.log").ok()?;
    let log = files::read_tail(&path, 256 << 10).ok()?;
    log.text.lines().rev().find_map(|line| {
        let rest = line.split_once("final round ")?.1;
        let round = rest.split_whitespace().next()?;
        rest.contains("submitted").then(|| round.to_owned())
    })
}

/// The round folders of `submissions/`, then rounds only the history knows (at most
/// [`MAX_ROUNDS`]).
fn round_names(dir: &Path, history: &HistoryView) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir.join("submissions"))
        .map(|entries| {
            entries
                .take(MAX_ROUNDS * 2)
                .filter_map(Result::ok)
                .filter_map(|e| e.file_name().into_string().ok())
                .filter(|n| parse_round(n).is_some())
                .collect()
        })
        .unwrap_or_default();
    for entry in &history.entries {
        if let Some(round) = &entry.round {
            if parse_round(round).is_some() && !names.contains(round) {
                names.push(round.clone());
            }
        }
    }
    names.truncate(MAX_ROUNDS);
    names
}

/// The rounds of the task in `dir`, in time order, with the best one marked.
pub fn rounds(
    root: &Root,
    dir: &Path,
    summary: &TaskSummary,
    warnings: &mut Vec<String>,
) -> Vec<Round> {
    let history = games::history(root, dir, &mut Vec::new());
    let final_label = final_round(root, dir);
    let names = round_names(dir, &history);
    // Reports are read up to a total size; past it, rounds show what the history says.
    let mut budget = ReportBudget {
        left: MAX_REPORT_BYTES_PER_TASK,
        exhausted: false,
    };
    let mut rounds: Vec<Round> = names
        .iter()
        .map(|name| {
            let entry = history
                .entries
                .iter()
                .find(|e| e.round.as_ref() == Some(name));
            let round_dir = dir.join("submissions").join(name);
            let is_game = name.starts_with("game-");
            let file = round_dir.join(if is_game {
                "game_result.json"
            } else {
                "report.json"
            });
            let affordable = budget.allow(&file, warnings);
            let mut report: ReportView = if is_game {
                games::report(root, &round_dir, affordable, warnings)
            } else if affordable {
                optional_json(root, &file, warnings).unwrap_or_default()
            } else {
                ReportView::default()
            };
            // Without its report's time (too large, unread, missing) a round is placed by its
            // files' time, so that the rounds keep their order (and diffs their previous round).
            if report.submitted_at.is_none() {
                report.submitted_at = files_time(&round_dir);
            }
            round(name, &report, entry, final_label.as_deref())
        })
        .collect();
    rounds.sort_by(|a, b| {
        let time = |r: &Round| r.submitted_at.unwrap_or(f64::MAX);
        time(a)
            .total_cmp(&time(b))
            .then_with(|| a.kind.cmp(b.kind))
            .then_with(|| a.seq.cmp(&b.seq))
    });
    if let Some(best) = &summary.best_round {
        for r in &mut rounds {
            r.is_best = &r.label == best;
        }
    }
    rounds
}

/// What is left of the bytes of reports read for one task.
struct ReportBudget {
    left: u64,
    exhausted: bool,
}

impl ReportBudget {
    /// Whether the file at `path` may be read (its size is then charged); the first refusal
    /// adds a warning.
    fn allow(&mut self, path: &Path, warnings: &mut Vec<String>) -> bool {
        let size = std::fs::symlink_metadata(path).map_or(0, |m| m.len());
        if !self.exhausted && size <= self.left {
            self.left -= size;
            return true;
        }
        if !self.exhausted {
            warnings.push(format!(
                "reports beyond {MAX_REPORT_BYTES_PER_TASK} bytes in total were not read; \
                 later rounds show the values of the history"
            ));
            self.exhausted = true;
        }
        false
    }
}

/// Seconds since the epoch of a round's files, the first of them that exists.
fn files_time(round_dir: &Path) -> Option<f64> {
    [
        "submission.tar.gz",
        "report.json",
        "game_result.json",
        "steps.jsonl",
    ]
    .iter()
    .find_map(|name| std::fs::symlink_metadata(round_dir.join(name)).ok())
    .and_then(|m| m.modified().ok())
    .and_then(crate::clock::seconds_of)
}

fn round(
    name: &str,
    report: &ReportView,
    entry: Option<&super::model::HistoryEntry>,
    final_label: Option<&str>,
) -> Round {
    let (mut kind, seq) = parse_round(name).unwrap_or(("agent", 0));
    if Some(name) == final_label {
        kind = "final";
    }
    let from_entry = |f: fn(&super::model::HistoryEntry) -> Option<f64>| entry.and_then(f);
    Round {
        label: name.to_owned(),
        kind,
        seq,
        status: report
            .status
            .clone()
            .or_else(|| entry.and_then(|e| e.status.clone())),
        pass_rate: finite(report.pass_rate.or_else(|| from_entry(|e| e.pass_rate))),
        score: finite(report.score.or_else(|| from_entry(|e| e.score))),
        score_0_100: finite(report.score_0_100),
        max_score: finite(report.max_score),
        // A game has a score, not tests (its history entry carries zero counts).
        passed: (kind != "game")
            .then(|| report.passed.or_else(|| entry.and_then(|e| e.passed)))
            .flatten(),
        total: (kind != "game")
            .then(|| {
                report
                    .total_tests
                    .or_else(|| entry.and_then(|e| e.total_tests))
            })
            .flatten(),
        submitted_at: finite(report.submitted_at),
        runtime_seconds: finite(report.runtime_seconds),
        summary: report
            .summary
            .clone()
            .or_else(|| entry.and_then(|e| e.summary.clone())),
        error: report
            .error
            .clone()
            .or_else(|| entry.and_then(|e| e.error.clone())),
        is_best: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_names() {
        assert_eq!(parse_round("agent-3"), Some(("agent", 3)));
        assert_eq!(parse_round("auto-12"), Some(("auto", 12)));
        assert_eq!(parse_round("manual-1"), Some(("manual", 1)));
        assert_eq!(parse_round("7"), Some(("agent", 7)));
        assert_eq!(parse_round("notes"), None);
        assert_eq!(parse_round("agent-x"), None);
    }

    #[test]
    fn a_round_without_a_readable_report_keeps_its_place_by_its_files_time() {
        let dir = tempfile::tempdir().unwrap();
        let task = dir.path().join("r/t");
        let write = |round: &str, file: &str, text: &str| {
            let path = task.join("submissions").join(round).join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        };
        let now = crate::clock::epoch_seconds();
        write("agent-1", "report.json", r#"{"submitted_at": 100.0}"#);
        // Damaged: its time comes from its archive, written now.
        write("agent-2", "report.json", "{not json");
        write("agent-2", "submission.tar.gz", "");
        write(
            "auto-1",
            "report.json",
            &format!(r#"{{"submitted_at": {}}}"#, now + 1000.0),
        );
        let root = Root::new(dir.path());
        let task = root.resolve(&["r", "t"]).unwrap();
        let summary = crate::visualizer::summary::summarize(
            &root,
            "t",
            &task,
            std::time::SystemTime::now(),
            7200,
        );
        let mut warnings = Vec::new();
        let labels: Vec<String> = rounds(&root, &task, &summary, &mut warnings)
            .into_iter()
            .map(|r| r.label)
            .collect();
        assert_eq!(labels, ["agent-1", "agent-2", "auto-1"], "{warnings:?}");
    }
}
