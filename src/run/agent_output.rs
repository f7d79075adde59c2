//! `agent_output.txt`: everything the agent printed, optionally echoed on stdout.

use std::fs;
use std::io::Write;
use std::path::Path;

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
            // Above the run's status footer when there is one (crate::tty).
            crate::tty::echo(buf);
        }
        self.file.write_all(buf)?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}
