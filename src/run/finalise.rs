//! The end of one task's run: the final archive, the final round, the wait for the judge's last
//! grades and the history saved (`game_end.rs` for game tasks), and the agent's state file.

use std::fs;
use std::time::{Duration, Instant};

use super::agent::STATE_FILE;
use super::error::RunError;
use super::game_end::finish_games;
use super::outputs::{write_json, FinalResult};
use super::task_run::TaskRun;
use super::workspace::{copy_file_out, snapshot, CopyError, SnapshotLimits};
use crate::judge::api::History;
use crate::run_log::RunLog;

/// The largest state file copied out (`sforge-submit` writes a few KiB).
pub const STATE_MAX_BYTES: u64 = 1 << 20;

impl TaskRun<'_> {
    /// The final archive, then the final round (or the game sessions closed) and the history.
    pub(super) fn finalise(
        &self,
        log: &RunLog,
        token: &str,
        result: &mut FinalResult,
    ) -> Result<(), RunError> {
        let dir = self.dir();
        let name = self.container();
        let archive = dir.join("final_archive.tar.gz");
        let limits = SnapshotLimits::from_settings(self.settings);
        let size =
            snapshot(&**self.sandbox(), &name, self.task, limits, &archive).unwrap_or_else(|e| {
                log.warning(&format!("cannot take the final archive: {e}"));
                let _ = fs::write(&archive, b"");
                0
            });
        result.archive_size_bytes = size;
        if self.task.game_mode {
            let key = (self.shared.run_id.as_str(), self.task.task_id.as_str());
            let history = finish_games(&self.shared.client, key, token, &dir, log)?;
            self.shared.progress.history(&self.task.task_id, &history);
            result.apply_game_history(&history);
            return Ok(());
        }
        self.copy_state(log, &name);
        let stopping = self
            .shared
            .shutdown
            .load(std::sync::atomic::Ordering::SeqCst);
        if self.shared.final_eval && size > 0 && !stopping {
            match self.shared.client.submit_file(token, &archive, "auto") {
                Ok(s) => log.line(&format!("final round {} submitted", s.round_id)),
                Err(e) => log.line(&format!(
                    "warning: the final round could not be submitted: {e}"
                )),
            }
        }
        let history = self.drain(log, token)?;
        self.shared.progress.history(&self.task.task_id, &history);
        let path = dir.join("run_history.json");
        write_json(&path, &history).map_err(|e| RunError::io("write", &path, e))?;
        result.apply_history(&history);
        Ok(())
    }

    /// `/tmp/sforge_state.json` as `evolve_state.json`, at most [`STATE_MAX_BYTES`]; a missing
    /// file is no error, a larger one is the agent's doing and is logged, not copied.
    fn copy_state(&self, log: &RunLog, name: &str) {
        let dest = self.dir().join("evolve_state.json");
        match copy_file_out(&**self.sandbox(), name, STATE_FILE, &dest, STATE_MAX_BYTES) {
            Ok(_) => {}
            Err(e @ (CopyError::TooLarge { .. } | CopyError::NotAFile { .. })) => {
                log.warning(&e.to_string());
            }
            Err(e) => log::debug!("no state file: {e}"),
        }
    }

    /// Wait (bounded) until the judge has graded everything of this run; the final history.
    fn drain(&self, log: &RunLog, token: &str) -> Result<History, RunError> {
        // Interrupted runs do not wait for pending grades: the judge keeps them in its journal.
        let patience = if self
            .shared
            .shutdown
            .load(std::sync::atomic::Ordering::SeqCst)
        {
            0
        } else {
            900
        };
        let until = Instant::now() + Duration::from_secs(patience);
        loop {
            let history = self.shared.client.history(token)?;
            let pending = history.entries.iter().filter(|e| e.is_pending()).count();
            if pending == 0 || Instant::now() >= until {
                if pending > 0 {
                    log.line("drain timed out after 15 min; some reports may be missing");
                }
                return Ok(history);
            }
            log.line(&format!("draining {pending} pending judge evals..."));
            std::thread::sleep(Duration::from_millis(500));
        }
    }
}
