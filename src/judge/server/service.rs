//! The judge's operations behind the HTTP routes: register, admit a submission, record grading,
//! read results and histories. Every change is journaled before it is applied.

use std::collections::HashSet;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use tempfile::TempPath;

use crate::clock::epoch_seconds;

use super::error::ApiError;
use super::grading::{GradeJob, GradeOutcome};
use super::journal::Journal;
use super::limits;
use super::records::{Finished, GameArchived, Kind, Outcome, Record, Registration, Submitted};
use super::secret;
use super::state::{State, Status};

/// Prefix of in-progress upload files in the uploads directory.
pub const UPLOAD_PREFIX: &str = ".upload-";

/// How the judge's state is opened.
#[derive(Debug, Clone)]
pub struct Options {
    pub log_dir: PathBuf,
    pub known_tasks: HashSet<String>,
    pub admin_secret: Option<String>,
    pub fsync: bool,
    pub result_cache: usize,
}

/// A submission accepted by [`Judge::admit`].
#[derive(Debug)]
pub struct Admitted {
    pub job: GradeJob,
    pub remaining: Option<u64>,
}

/// The journal and the state it rebuilds, behind one lock so that journal order is state order.
#[derive(Debug)]
pub(super) struct Inner {
    pub journal: Journal,
    pub state: State,
    /// Set when shutdown gave up waiting for graders: late results are left for the next start.
    pub detached: bool,
}

impl Inner {
    /// Journals `record`, then applies it.
    fn commit(&mut self, record: Record) -> io::Result<()> {
        let offset = self.journal.append(&record)?;
        self.state.apply(offset, record);
        Ok(())
    }
}

/// The judge state and its journal, shared by the HTTP and grading threads.
#[derive(Debug)]
pub struct Judge {
    inner: Mutex<Inner>,
    admin_secret: String,
    known_tasks: HashSet<String>,
    uploads: PathBuf,
    journal_path: PathBuf,
    /// Held while this judge owns the state directory (released on detach).
    dir_lock: Mutex<Option<fs::File>>,
}

/// Take the state directory's lock, so that two servers never grade the same submissions.
fn lock_state_dir(dir: &std::path::Path) -> io::Result<fs::File> {
    fs::create_dir_all(dir)?;
    let path = dir.join("lock");
    let file = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(fs::TryLockError::WouldBlock) => Err(io::Error::other(format!(
            "another judge server already uses {} (its lock is {}); give this one another --log-dir",
            dir.display(),
            path.display()
        ))),
        Err(fs::TryLockError::Error(e)) => Err(e),
    }
}

impl Judge {
    /// Opens the state directory, replays the journal and returns the jobs to grade again.
    pub fn open(opts: Options) -> io::Result<(Self, Vec<GradeJob>)> {
        let dir = secret::state_dir(&opts.log_dir);
        let lock = lock_state_dir(&dir)?;
        let admin_secret = secret::load_or_create(&opts.log_dir, opts.admin_secret.as_deref())?;
        let uploads = dir.join("uploads");
        fs::create_dir_all(&uploads)?;
        remove_stale_uploads(&uploads);
        let mut state = State::new(opts.result_cache);
        let journal = Journal::open(&dir, opts.fsync, |offset, record| {
            state.apply(offset, record);
        })?;
        let journal_path = journal.path().to_owned();
        let judge = Self {
            inner: Mutex::new(Inner {
                journal,
                state,
                detached: false,
            }),
            admin_secret,
            known_tasks: opts.known_tasks,
            uploads,
            journal_path,
            dir_lock: Mutex::new(Some(lock)),
        };
        let pending = judge.recover();
        Ok((judge, pending))
    }

    /// After replay: removes archives of finished submissions, fails pending ones whose archive
    /// is gone, and returns the rest to grade again.
    fn recover(&self) -> Vec<GradeJob> {
        let (pending, finished) = {
            let mut inner = self.lock();
            let finished: Vec<PathBuf> = inner
                .state
                .submissions
                .values()
                .filter(|s| matches!(s.status, Status::Completed | Status::Error))
                .map(|s| s.submitted.archive.clone())
                .collect();
            (inner.state.take_pending(), finished)
        };
        for path in finished.iter().filter(|p| p.exists()) {
            let _ = fs::remove_file(path);
        }
        let (ready, lost): (Vec<_>, Vec<_>) = pending.into_iter().partition(|j| j.archive.exists());
        for job in lost {
            let reason = "submission archive was lost across a judge restart".to_owned();
            self.finish(&job.submission_id, GradeOutcome::Error(reason));
        }
        if !ready.is_empty() {
            log::info!("re-queueing {} submission(s) from the journal", ready.len());
        }
        ready
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether `given` is this judge's admin secret.
    #[must_use]
    pub fn is_admin(&self, given: &str) -> bool {
        crate::redact::secrets_match(given, &self.admin_secret)
    }

    /// The admin secret (for masking it in answers).
    pub(super) fn admin_secret(&self) -> &str {
        &self.admin_secret
    }

    /// Where uploads are spooled before they are admitted.
    #[must_use]
    pub fn uploads_dir(&self) -> &Path {
        &self.uploads
    }

    /// `POST /register`: checks the secret and task, then journals a new token.
    pub fn register(&self, mut reg: Registration, admin_secret: &str) -> Result<String, ApiError> {
        if !self.is_admin(admin_secret) {
            return Err(ApiError::new(403, "Invalid admin secret"));
        }
        if !self.known_tasks.contains(&reg.task_id) {
            return Err(ApiError::new(404, format!("Unknown task: {}", reg.task_id)));
        }
        // The run id names the directory of the run's gradings (`<log_dir>/runs/<run_id>`).
        if !crate::task::is_plain_name(&reg.run_id) {
            return Err(ApiError::new(
                400,
                format!(
                    "Invalid run_id {:?}: use letters, digits, '.', '_' and '-' (it names a directory)",
                    reg.run_id
                ),
            ));
        }
        let mut inner = self.lock();
        reg.token = loop {
            let token = random_id(16)?;
            if !inner.state.tokens.contains_key(&token) {
                break token;
            }
        };
        reg.registered_at = epoch_seconds();
        let token = reg.token.clone();
        inner
            .commit(Record::Register(reg))
            .map_err(|e| ApiError::internal("could not journal the registration", &e))?;
        Ok(token)
    }

    /// `POST /submit` after the form is read: checks the token and limits, allocates the round,
    /// moves the upload into place and journals the submission, all or nothing.
    pub fn admit(&self, token: &str, kind: Kind, upload: TempPath) -> Result<Admitted, ApiError> {
        let mut inner = self.lock();
        let tok = inner
            .state
            .tokens
            .get(token)
            .ok_or_else(|| ApiError::new(401, "Invalid token"))?;
        if !self.known_tasks.contains(&tok.reg.task_id) {
            return Err(ApiError::new(
                404,
                format!("Unknown task: {}", tok.reg.task_id),
            ));
        }
        let at = epoch_seconds();
        let n = match kind {
            Kind::Agent => {
                limits::check_agent(tok, at)?;
                tok.next_agent
            }
            Kind::Auto => tok.next_auto,
        };
        let remaining = match kind {
            Kind::Agent => limits::remaining(tok, n),
            Kind::Auto => None,
        };
        let (task_id, run_id) = (tok.reg.task_id.clone(), tok.reg.run_id.clone());
        let submission_id = loop {
            let id = random_id(6)?;
            if !inner.state.submissions.contains_key(&id) {
                break id;
            }
        };
        let archive = self.uploads.join(format!("{submission_id}.tar.gz"));
        upload
            .persist(&archive)
            .map_err(|e| ApiError::internal("could not store the upload", &e.error))?;
        let sub = Submitted {
            submission_id,
            token: token.to_owned(),
            task_id,
            run_id,
            kind,
            n,
            archive,
            at,
        };
        let job = inner.state.job_for(&sub);
        if let Err(e) = inner.commit(Record::Submit(sub)) {
            let _ = fs::remove_file(&job.archive);
            return Err(ApiError::internal("could not journal the submission", &e));
        }
        Ok(Admitted { job, remaining })
    }

    /// A worker picked the submission up.
    pub fn set_running(&self, submission_id: &str) {
        if let Some(sub) = self.lock().state.submissions.get_mut(submission_id) {
            sub.status = Status::Running;
        }
    }

    /// Records how grading ended; false when shutdown detached the graders (or the journal
    /// failed), so the submission is graded again at the next start.
    pub fn finish(&self, submission_id: &str, outcome: GradeOutcome) -> bool {
        let outcome = match outcome {
            GradeOutcome::Completed(report, history) => Outcome::Completed { report, history },
            GradeOutcome::Error(error) => Outcome::Error { error },
            GradeOutcome::Abandoned => {
                log::warn!("judge stopping: {submission_id} is graded again at the next start");
                return false;
            }
        };
        let record = Record::Result(Finished {
            submission_id: submission_id.to_owned(),
            outcome,
            at: epoch_seconds(),
        });
        let mut inner = self.lock();
        if inner.detached {
            log::warn!("judge stopped: result of {submission_id} left for the next start");
            return false;
        }
        match inner.commit(record) {
            Ok(()) => true,
            Err(e) => {
                log::error!("could not journal the result of {submission_id}: {e}");
                false
            }
        }
    }

    /// Stops journaling results: the next start grades the unfinished submissions again.
    pub fn detach(&self) {
        self.lock().detached = true;
        // Late results are dropped from now on, so a new server may take over the directory.
        if let Ok(mut lock) = self.dir_lock.lock() {
            lock.take();
        }
    }

    /// The registration of `token` when it belongs to `run_id` and `task_id` (game routes);
    /// any other token is refused as invalid.
    pub fn game_registration(
        &self,
        token: &str,
        run_id: &str,
        task_id: &str,
    ) -> Result<Registration, ApiError> {
        let inner = self.lock();
        inner
            .state
            .tokens
            .get(token)
            .filter(|t| t.reg.run_id == run_id && t.reg.task_id == task_id)
            .filter(|t| self.known_tasks.contains(&t.reg.task_id))
            .map(|t| t.reg.clone())
            .ok_or_else(|| ApiError::new(401, "Invalid token"))
    }

    /// The highest `N` of the `game-N` rounds in the history of `run_id` and `task_id`.
    #[must_use]
    pub fn last_game_number(&self, run_id: &str, task_id: &str) -> u64 {
        let inner = self.lock();
        inner
            .state
            .histories
            .get(&(run_id.to_owned(), task_id.to_owned()))
            .into_iter()
            .flatten()
            .filter_map(|e| e.round.strip_prefix("game-")?.parse().ok())
            .max()
            .unwrap_or(0)
    }

    /// Journals an ended game session's history entry.
    pub fn archive_game(&self, run_id: &str, entry: crate::judge::api::HistoryEntry) {
        let record = Record::Game(GameArchived {
            run_id: run_id.to_owned(),
            entry,
            at: epoch_seconds(),
        });
        if let Err(e) = self.lock().commit(record) {
            log::error!("could not journal a game of run {run_id}: {e}");
        }
    }

    pub(super) fn with_inner<T>(&self, f: impl FnOnce(&mut Inner) -> T) -> T {
        f(&mut self.lock())
    }

    pub(super) fn journal_path(&self) -> &Path {
        &self.journal_path
    }
}

fn random_id(bytes: usize) -> Result<String, ApiError> {
    crate::ids::random_hex(2 * bytes).map_err(|e| ApiError::internal("no randomness", &e))
}

/// Removes upload spool files left by a crash.
fn remove_stale_uploads(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        if entry
            .file_name()
            .to_string_lossy()
            .starts_with(UPLOAD_PREFIX)
        {
            let _ = fs::remove_file(entry.path());
        }
    }
}

#[cfg(test)]
mod lock_tests {
    #[test]
    fn one_server_per_state_directory() {
        let dir = tempfile::tempdir().unwrap();
        let first = super::lock_state_dir(dir.path()).unwrap();
        let err = super::lock_state_dir(dir.path()).unwrap_err().to_string();
        assert!(err.contains("another judge server already uses"), "{err}");
        drop(first);
        assert!(super::lock_state_dir(dir.path()).is_ok());
    }
}
