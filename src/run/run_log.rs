//! The files a task run writes as it goes: `run_agent.log` (the harness's own log) and
//! `agent_output.txt` (everything the agent printed, optionally echoed on stdout).

use std::fs;
use std::io::Write;
use std::path::Path;

use super::outputs::local_timestamp;

/// `agent_output.txt`, optionally echoed on stdout.
pub(super) struct AgentOutput {
    file: fs::File,
    echo: bool,
}

impl AgentOutput {
    pub(super) fn open(path: &Path, echo: bool) -> Result<Self, super::error::RunError> {
        let file =
            fs::File::create(path).map_err(|e| super::error::RunError::io("create", path, e))?;
        Ok(AgentOutput { file, echo })
    }
}

impl Write for AgentOutput {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.echo {
            let _ = std::io::stdout().write_all(buf);
        }
        self.file.write_all(buf)?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

/// `run_agent.log`: the harness's own log of one task.
pub struct RunLog(std::sync::Mutex<Option<fs::File>>);

impl RunLog {
    #[must_use]
    pub fn create(path: &Path) -> Self {
        RunLog(std::sync::Mutex::new(fs::File::create(path).ok()))
    }

    pub fn line(&self, text: &str) {
        log::info!("{text}");
        if let Ok(mut guard) = self.0.lock() {
            if let Some(file) = guard.as_mut() {
                let _ = writeln!(file, "{} - INFO - {text}", local_timestamp());
            }
        }
    }
}
