//! What a run is doing, task by task: phase, time against budget, graded rounds, best result
//! and the last event. Tasks report phases; graded rounds come from the judge's history (polled
//! by the view, `progress_view.rs`). Every change can also go to an events file, one JSON object
//! per line (`--events FILE`).

use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::judge::api::History;

/// One task's line.
#[derive(Debug, Clone)]
pub struct TaskState {
    pub task: String,
    pub phase: String,
    pub started: Instant,
    /// Set when the agent starts: its budget, counted from then.
    pub agent: Option<(Instant, Duration)>,
    /// The judge token, once registered (to read the history).
    pub token: Option<String>,
    pub rounds: usize,
    pub best_pass_rate: Option<f64>,
    pub best_score: Option<f64>,
    pub last_event: String,
    pub done: bool,
}

/// How a task ended, as its final result says.
#[derive(Debug, Clone, Copy, Default)]
pub struct Ended<'a> {
    pub error: Option<&'a str>,
    pub total_rounds: u64,
    pub best_pass_rate: f64,
    pub best_score: Option<f64>,
}

/// The run's progress, shared by its tasks and its view.
pub struct Progress {
    tasks: Mutex<Vec<TaskState>>,
    events: Option<Mutex<File>>,
    /// Lines for the console when there is no live view (one per change).
    lines: Mutex<Vec<String>>,
}

impl Progress {
    /// Progress of `tasks`, all queued; events appended to `events` when given.
    ///
    /// # Errors
    /// When the events file cannot be created.
    pub fn new(tasks: &[String], events: Option<&Path>) -> std::io::Result<Self> {
        let now = Instant::now();
        let events = events.map(File::create).transpose()?.map(Mutex::new);
        Ok(Progress {
            tasks: Mutex::new(
                tasks
                    .iter()
                    .map(|t| TaskState {
                        task: t.clone(),
                        phase: "queued".to_owned(),
                        started: now,
                        agent: None,
                        token: None,
                        rounds: 0,
                        best_pass_rate: None,
                        best_score: None,
                        last_event: String::new(),
                        done: false,
                    })
                    .collect(),
            ),
            events,
            lines: Mutex::new(Vec::new()),
        })
    }

    /// A copy of every task's state.
    #[must_use]
    pub fn snapshot(&self) -> Vec<TaskState> {
        self.tasks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The console lines since the last call.
    pub fn take_lines(&self) -> Vec<String> {
        std::mem::take(&mut *self.lines.lock().unwrap_or_else(PoisonError::into_inner))
    }

    fn update(&self, task: &str, change: impl FnOnce(&mut TaskState)) {
        let mut tasks = self.tasks.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(state) = tasks.iter_mut().find(|s| s.task == task) {
            change(state);
        }
    }

    fn emit(&self, task: &str, line: String, event: serde_json::Value) {
        self.lines
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(format!("[{task}] {line}"));
        self.update(task, |s| s.last_event = line);
        if let Some(file) = &self.events {
            let mut record = event;
            record["time"] = json!(crate::clock::epoch_seconds());
            record["task"] = json!(task);
            let mut file = file.lock().unwrap_or_else(PoisonError::into_inner);
            let _ = writeln!(file, "{record}");
            let _ = file.flush();
        }
    }

    /// The task entered `phase` (create, install, isolate, agent, finalise, cleanup).
    pub fn phase(&self, task: &str, phase: &str) {
        self.update(task, |s| phase.clone_into(&mut s.phase));
        self.emit(
            task,
            phase.to_owned(),
            json!({"event": "phase", "phase": phase}),
        );
    }

    /// Registered with the judge: its history can be read with `token`.
    pub fn registered(&self, task: &str, token: &str) {
        self.update(task, |s| s.token = Some(token.to_owned()));
    }

    /// The agent started with `budget`.
    pub fn agent_started(&self, task: &str, budget: Duration) {
        self.update(task, |s| s.agent = Some((Instant::now(), budget)));
    }

    /// The judge's history of `task` as read now: new graded rounds become events.
    pub fn history(&self, task: &str, history: &History) {
        let graded: Vec<_> = history
            .entries
            .iter()
            .filter_map(|e| e.grade.as_ref().map(|g| (e.round.clone(), g.clone())))
            .collect();
        let seen = self
            .snapshot()
            .iter()
            .find(|s| s.task == task)
            .map_or(0, |s| s.rounds);
        for (round, grade) in graded.iter().skip(seen) {
            let score = grade
                .score
                .map(|s| format!(", score {s}"))
                .unwrap_or_default();
            let line = format!(
                "{round}: {}/{} passed{score}",
                grade.passed, grade.total_tests
            );
            self.emit(
                task,
                line,
                json!({"event": "round", "round": round, "pass_rate": grade.pass_rate,
                       "score": grade.score, "passed": grade.passed, "total": grade.total_tests}),
            );
        }
        self.update(task, |s| {
            s.rounds = graded.len();
            if !graded.is_empty() {
                s.best_pass_rate = Some(history.best_pass_rate);
                s.best_score = history.best_score;
            }
        });
    }

    /// The task ended with `result` (its final round and drained grades included).
    pub fn finished(&self, task: &str, result: &Ended<'_>) {
        let error = result.error;
        self.update(task, |s| {
            s.done = true;
            "done".clone_into(&mut s.phase);
            s.rounds = usize::try_from(result.total_rounds).unwrap_or(usize::MAX);
            s.best_pass_rate = (s.rounds > 0).then_some(result.best_pass_rate);
            s.best_score = result.best_score;
        });
        let line = error.map_or_else(|| "done".to_owned(), |e| format!("failed: {e}"));
        self.emit(task, line, json!({"event": "finished", "error": error}));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn history(rounds: &[(&str, f64)]) -> History {
        let entries: Vec<serde_json::Value> = rounds
            .iter()
            .map(|(round, rate)| {
                json!({"type": "submission", "status": "completed", "submission_id": "s",
                       "task_id": "t", "round": round, "pass_rate": rate, "score": null,
                       "passed": 1, "failed": 1, "total_tests": 2, "valid": true,
                       "summary": null})
            })
            .collect();
        serde_json::from_value(json!({
            "run_id": "r", "best_pass_rate": 0.5, "best_score": null, "best_round": "agent-1",
            "agent_submissions": 1, "auto_submissions": 1, "entries": entries
        }))
        .unwrap()
    }

    #[test]
    fn phases_and_new_rounds_become_lines_and_events() {
        let dir = tempfile::tempdir().unwrap();
        let events = dir.path().join("events.jsonl");
        let p = Progress::new(&["t".to_owned()], Some(&events)).unwrap();
        p.phase("t", "agent");
        p.history("t", &history(&[("agent-1", 0.5)]));
        p.history("t", &history(&[("agent-1", 0.5), ("auto-1", 0.5)]));
        let state = &p.snapshot()[0];
        assert_eq!((state.rounds, state.best_pass_rate), (2, Some(0.5)));
        p.finished("t", &Ended::default());
        assert_eq!(
            p.take_lines(),
            [
                "[t] agent",
                "[t] agent-1: 1/2 passed",
                "[t] auto-1: 1/2 passed",
                "[t] done"
            ]
        );
        let state = &p.snapshot()[0];
        assert_eq!(
            (state.rounds, state.best_pass_rate),
            (0, None),
            "the result has the say"
        );
        let text = std::fs::read_to_string(&events).unwrap();
        let kinds: Vec<String> = text
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["event"].to_string())
            .collect();
        assert_eq!(
            kinds,
            ["\"phase\"", "\"round\"", "\"round\"", "\"finished\""]
        );
    }
}
