//! The harness's own log files, `run_agent.log` of a task and `run_instance.log` of a graded
//! submission: one line format, `<timestamp> - <LEVEL> - <message>` (docs/compatibility.md#run-directory),
//! each line also given to the `log` crate. Best effort: a log that cannot be written is skipped.

use std::fs;
use std::io::Write;
use std::path::Path;
use std::sync::{Mutex, PoisonError};

/// One log file (or nothing, when it could not be opened).
#[derive(Debug)]
pub struct RunLog {
    file: Mutex<Option<fs::File>>,
    /// The level at which lines also reach the console's logger.
    echo: log::Level,
}

impl RunLog {
    /// Starts the file afresh (a task's `run_agent.log`); lines are echoed at info level.
    #[must_use]
    pub fn create(path: &Path) -> Self {
        Self::new(fs::File::create(path), log::Level::Info)
    }

    /// Appends to the file (a submission graded again after a restart keeps its earlier lines);
    /// lines are echoed at debug level.
    #[must_use]
    pub fn append(path: &Path) -> Self {
        let file = fs::OpenOptions::new().create(true).append(true).open(path);
        Self::new(file, log::Level::Debug)
    }

    fn new(file: std::io::Result<fs::File>, echo: log::Level) -> Self {
        Self {
            file: Mutex::new(file.ok()),
            echo,
        }
    }

    /// Writes one INFO line.
    pub fn line(&self, text: &str) {
        self.write(log::Level::Info, text);
    }

    /// Writes one WARNING line.
    pub fn warning(&self, text: &str) {
        self.write(log::Level::Warn, text);
    }

    /// Writes one ERROR line: what the reference's tools grep (`" - ERROR - "`) to tell a
    /// harness failure from a low score (docs/compatibility.md#run-directory).
    pub fn error(&self, text: &str) {
        self.write(log::Level::Error, text);
    }

    fn write(&self, level: log::Level, text: &str) {
        log::log!(self.echo.min(level), "{text}");
        let mut guard = self.file.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(file) = guard.as_mut() {
            let line = format_line(&crate::clock::timestamp(), level, text);
            let _ = writeln!(file, "{line}");
        }
    }
}

/// `<timestamp> - <LEVEL> - <text>`, with Python logging's level names.
fn format_line(timestamp: &str, level: log::Level, text: &str) -> String {
    let name = match level {
        log::Level::Error => "ERROR",
        log::Level::Warn => "WARNING",
        log::Level::Info => "INFO",
        log::Level::Debug | log::Level::Trace => "DEBUG",
    };
    format!("{timestamp} - {name} - {text}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_carry_timestamp_and_level_and_append_keeps_earlier_lines() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("run_instance.log");
        RunLog::append(&path).line("first");
        RunLog::append(&path).line("second");
        let text = fs::read_to_string(&path).expect("log written");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert!(lines[0].ends_with(" - INFO - first") && lines[1].ends_with(" - INFO - second"));
        assert_eq!(lines[0].len(), "2026-01-01T00:00:00 - INFO - first".len());
        RunLog::create(&path).line("fresh");
        assert!(fs::read_to_string(&path)
            .expect("log")
            .ends_with(" - INFO - fresh\n"));
    }

    #[test]
    fn an_unwritable_log_is_skipped() {
        RunLog::create(Path::new("/nonexistent/dir/run_agent.log")).line("dropped");
        assert_eq!(format_line("T", log::Level::Info, "x"), "T - INFO - x");
    }

    #[test]
    fn errors_and_warnings_carry_python_level_names() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("run_agent.log");
        let log = RunLog::create(&path);
        log.error("boom");
        log.warning("careful");
        let text = fs::read_to_string(&path).expect("log written");
        assert!(text.contains(" - ERROR - boom\n"), "{text}");
        assert!(text.contains(" - WARNING - careful\n"), "{text}");
    }
}
