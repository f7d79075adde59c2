//! The judge's state: tokens, round counters, submissions and histories. It changes only by
//! applying journal [`Record`]s, so replaying the journal on start rebuilds it exactly.

use std::collections::HashMap;
use std::sync::Arc;

use crate::judge::api::{EntryStatus, EntryType, HistoryEntry};

use super::grading::GradeJob;
use super::records::{Finished, GameArchived, Kind, Outcome, Record, Registration, Submitted};
use super::results::ResultCache;

/// Histories are kept per run and task (docs/compatibility.md#the-judge-api: keyed by
/// `"run_id/task_id"`).
pub type HistoryKey = (String, String);

/// A token and its counters.
#[derive(Debug)]
pub struct Token {
    pub reg: Registration,
    pub next_agent: u64,
    pub next_auto: u64,
    /// Epoch seconds of the last accepted agent submission.
    pub last_agent_at: Option<f64>,
}

/// Where a submission is (the wire names of `/result`).
pub use crate::judge::api::SubmissionStatus as Status;

/// One submission (its report lives in the [`ResultCache`] or at `result_offset` in the journal).
#[derive(Debug)]
pub struct Submission {
    pub submitted: Submitted,
    pub status: Status,
    pub error: Option<String>,
    pub result_offset: Option<u64>,
    history_index: usize,
}

/// Tokens, histories and submissions, rebuilt from the journal.
#[derive(Debug)]
pub struct State {
    pub tokens: HashMap<String, Token>,
    pub histories: HashMap<HistoryKey, Vec<HistoryEntry>>,
    pub submissions: HashMap<String, Submission>,
    pub results: ResultCache,
    /// Submission ids in the order they were accepted and not yet finished when replayed.
    pub replayed_pending: Vec<String>,
    /// True while the journal is being replayed (only then are pending ids collected).
    pub replaying: bool,
}

impl State {
    /// An empty state, ready to replay a journal, keeping up to `cache` reports in memory.
    #[must_use]
    pub fn new(cache: usize) -> Self {
        Self {
            tokens: HashMap::new(),
            histories: HashMap::new(),
            submissions: HashMap::new(),
            results: ResultCache::new(cache),
            replayed_pending: Vec::new(),
            replaying: true,
        }
    }

    /// Applies one record (live or replayed); `offset` is its position in the journal.
    pub fn apply(&mut self, offset: u64, record: Record) {
        match record {
            Record::Register(reg) => self.apply_register(reg),
            Record::Submit(sub) => self.apply_submit(sub),
            Record::Result(fin) => self.apply_result(offset, fin),
            Record::Game(game) => self.apply_game(game),
        }
    }

    /// An archived game session joins its run's history.
    fn apply_game(&mut self, game: GameArchived) {
        let key = (game.run_id, game.entry.task_id.clone());
        self.histories.entry(key).or_default().push(game.entry);
    }

    fn apply_register(&mut self, reg: Registration) {
        let token = Token {
            reg,
            next_agent: 1,
            next_auto: 1,
            last_agent_at: None,
        };
        self.tokens.insert(token.reg.token.clone(), token);
    }

    fn apply_submit(&mut self, sub: Submitted) {
        if let Some(token) = self.tokens.get_mut(&sub.token) {
            match sub.kind {
                Kind::Agent => {
                    token.next_agent = token.next_agent.max(sub.n + 1);
                    token.last_agent_at = Some(sub.at);
                }
                Kind::Auto => token.next_auto = token.next_auto.max(sub.n + 1),
            }
        }
        let entry = HistoryEntry {
            entry_type: EntryType::Submission,
            status: EntryStatus::Running,
            submission_id: sub.submission_id.clone(),
            task_id: sub.task_id.clone(),
            round: sub.round(),
            grade: None,
            game: None,
            error: None,
        };
        let key = (sub.run_id.clone(), sub.task_id.clone());
        let history = self.histories.entry(key).or_default();
        history.push(entry);
        let record = Submission {
            history_index: history.len() - 1,
            submitted: sub,
            status: Status::Queued,
            error: None,
            result_offset: None,
        };
        if self.replaying {
            self.replayed_pending
                .push(record.submitted.submission_id.clone());
        }
        self.submissions
            .insert(record.submitted.submission_id.clone(), record);
    }

    fn apply_result(&mut self, offset: u64, fin: Finished) {
        let Some(sub) = self.submissions.get_mut(&fin.submission_id) else {
            log::warn!(
                "journal: result for unknown submission {}",
                fin.submission_id
            );
            return;
        };
        let key = (sub.submitted.run_id.clone(), sub.submitted.task_id.clone());
        let entry = self
            .histories
            .get_mut(&key)
            .and_then(|h| h.get_mut(sub.history_index));
        sub.result_offset = Some(offset);
        match fin.outcome {
            Outcome::Completed { report, history } => {
                sub.status = Status::Completed;
                if let Some(entry) = entry {
                    entry.status = EntryStatus::Completed;
                    entry.grade = Some(history);
                }
                self.results.insert(&fin.submission_id, Arc::new(report));
            }
            Outcome::Error { error } => {
                sub.status = Status::Error;
                if let Some(entry) = entry {
                    entry.status = EntryStatus::Error;
                    entry.error = Some(error.clone());
                }
                sub.error = Some(error);
            }
        }
    }

    /// The grading job for an accepted submission.
    #[must_use]
    pub fn job_for(&self, sub: &Submitted) -> GradeJob {
        let reg = self.tokens.get(&sub.token).map(|t| &t.reg);
        GradeJob {
            submission_id: sub.submission_id.clone(),
            task_id: sub.task_id.clone(),
            run_id: sub.run_id.clone(),
            round: sub.round(),
            archive: sub.archive.clone(),
            judge_cpu_limit: reg.and_then(|r| r.judge_cpu_limit),
            judge_mem_limit: reg.and_then(|r| r.judge_mem_limit.clone()),
            internet: reg.and_then(|r| r.internet),
        }
    }

    /// Jobs accepted but not finished when the journal was replayed, in acceptance order.
    pub fn take_pending(&mut self) -> Vec<GradeJob> {
        self.replaying = false;
        let ids = std::mem::take(&mut self.replayed_pending);
        ids.iter()
            .filter_map(|id| self.submissions.get(id))
            .filter(|s| matches!(s.status, Status::Queued | Status::Running))
            .map(|s| self.job_for(&s.submitted))
            .collect()
    }
}
