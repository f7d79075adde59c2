//! The read side: `/result/{id}` (reports from the bounded cache, else from the journal) and
//! `/history` (admin view, or the agent view without `auto-*` entries).

use std::sync::Arc;

use serde_json::Value;

use crate::judge::api::{EntryType, History, ResultResponse};

use super::error::ApiError;
use super::grading::Policy;
use super::journal;
use super::records::{Outcome, Record};
use super::service::Judge;
use super::state::Status;

/// The `/result/{id}` body.
pub fn result(judge: &Judge, submission_id: &str) -> Result<ResultResponse, ApiError> {
    let (status, error, offset, cached) = judge.with_inner(|inner| {
        let sub = inner
            .state
            .submissions
            .get(submission_id)
            .ok_or_else(|| ApiError::new(404, "Submission not found"))?;
        let (status, error, offset) = (sub.status, sub.error.clone(), sub.result_offset);
        Ok::<_, ApiError>((
            status,
            error,
            offset,
            inner.state.results.get(submission_id),
        ))
    })?;
    let report = match (status, cached, offset) {
        (Status::Completed, Some(report), _) => Some((*report).clone()),
        (Status::Completed, None, Some(offset)) => Some(reload(judge, submission_id, offset)?),
        _ => None,
    };
    Ok(ResultResponse {
        submission_id: submission_id.to_owned(),
        status,
        report,
        error,
    })
}

/// Reads a report that fell out of the cache back from its journal line.
fn reload(judge: &Judge, submission_id: &str, offset: u64) -> Result<Value, ApiError> {
    let record = journal::read_at(judge.journal_path(), offset)
        .map_err(|e| ApiError::internal("could not read the report from the journal", &e))?;
    let Record::Result(fin) = record else {
        return Err(ApiError::internal("journal offset", &"not a result record"));
    };
    let Outcome::Completed { report, .. } = fin.outcome else {
        return Ok(Value::Null);
    };
    let report = Arc::new(report);
    judge.with_inner(|inner| {
        inner
            .state
            .results
            .insert(submission_id, Arc::clone(&report));
    });
    Ok(Arc::unwrap_or_clone(report))
}

/// The `/history` body for `token`; `admin` selects the full view.
pub fn history(
    judge: &Judge,
    policy: &dyn Policy,
    token: &str,
    admin: bool,
) -> Result<History, ApiError> {
    let (run_id, task_id, mut entries) = judge.with_inner(|inner| {
        let tok = inner
            .state
            .tokens
            .get(token)
            .ok_or_else(|| ApiError::new(401, "Invalid token"))?;
        let key = (tok.reg.run_id.clone(), tok.reg.task_id.clone());
        let entries = inner.state.histories.get(&key).cloned().unwrap_or_default();
        Ok::<_, ApiError>((key.0, key.1, entries))
    })?;
    if !admin {
        entries.retain(|e| !e.round.starts_with("auto-"));
    }
    let best = policy.best(&task_id, &entries);
    let submissions = |prefix: &str| {
        entries
            .iter()
            .filter(|e| e.entry_type == EntryType::Submission && e.round.starts_with(prefix))
            .count() as u64
    };
    let (agent, auto) = if admin {
        (submissions("agent-"), submissions("auto-"))
    } else {
        (submissions(""), 0)
    };
    Ok(History {
        run_id,
        best_score: best.best_score,
        best_pass_rate: best.best_pass_rate,
        best_round: best.best_round,
        agent_submissions: agent,
        auto_submissions: auto,
        entries,
    })
}
