//! Human-readable progress and results. Goes to stdout, except in dry-run mode, where stdout
//! carries the shell script and these lines go to stderr.

use std::io::Write;
use std::sync::Mutex;

pub struct Console {
    to_stderr: bool,
    lock: Mutex<()>,
}

impl Console {
    #[must_use]
    pub fn new(dry_run: bool) -> Self {
        Console {
            to_stderr: dry_run,
            lock: Mutex::new(()),
        }
    }

    /// A result or progress line.
    pub fn say(&self, line: &str) {
        let _guard = self.lock.lock();
        if self.to_stderr {
            let _ = writeln!(std::io::stderr().lock(), "{line}");
        } else {
            let _ = writeln!(std::io::stdout().lock(), "{line}");
        }
    }

    /// A failure line (always stderr).
    pub fn warn(&self, line: &str) {
        let _guard = self.lock.lock();
        let _ = writeln!(std::io::stderr().lock(), "{line}");
    }
}
