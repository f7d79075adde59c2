//! `agent_output.txt`: everything the agent printed, optionally echoed on stdout, up to
//! [`LIMIT`] bytes on disk (an agent's output flood must not fill the host's disk); past it one
//! line says how much was dropped when the file is closed.

use std::fs;
use std::io::Write;
use std::path::Path;

/// The most of the agent's output kept on disk.
pub(super) const LIMIT: u64 = 256 << 20;

/// `agent_output.txt`, optionally echoed on stdout.
pub(super) struct AgentOutput {
    file: fs::File,
    echo: bool,
    limit: u64,
    written: u64,
    dropped: u64,
}

impl AgentOutput {
    pub(super) fn open(path: &Path, echo: bool) -> Result<Self, super::error::RunError> {
        Self::with_limit(path, echo, LIMIT)
    }

    fn with_limit(path: &Path, echo: bool, limit: u64) -> Result<Self, super::error::RunError> {
        let file =
            fs::File::create(path).map_err(|e| super::error::RunError::io("create", path, e))?;
        Ok(AgentOutput {
            file,
            echo,
            limit,
            written: 0,
            dropped: 0,
        })
    }
}

impl Write for AgentOutput {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.echo && self.dropped == 0 {
            // Above the run's status footer when there is one (crate::tty).
            crate::tty::echo(buf);
        }
        let room = usize::try_from(self.limit.saturating_sub(self.written)).unwrap_or(usize::MAX);
        let kept = &buf[..buf.len().min(room)];
        self.file.write_all(kept)?;
        self.written += kept.len() as u64;
        self.dropped += (buf.len() - kept.len()) as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

impl Drop for AgentOutput {
    fn drop(&mut self) {
        if self.dropped > 0 {
            let _ = writeln!(
                self.file,
                "\n[sforge: the agent's output passed {} bytes; {} more bytes were dropped]",
                self.limit, self.dropped
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_past_the_limit_is_dropped_and_counted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("agent_output.txt");
        {
            let mut out = AgentOutput::with_limit(&path, false, 10).unwrap();
            out.write_all(b"0123456").unwrap();
            out.write_all(b"789abcdef").unwrap();
            out.write_all(b"more").unwrap();
        }
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text,
            "0123456789\n[sforge: the agent's output passed 10 bytes; 10 more bytes were dropped]\n"
        );
    }
}
