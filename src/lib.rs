//! sforge: an evaluation harness for autonomous coding agents.
//! The binary (`src/main.rs`) parses the command line and hands it to [`app::dispatch`].

/// `println!` for output that must not stop the work behind it: a closed stdout (`sforge run |
/// head`) drops the line instead of panicking, so a run goes on and cleans up after itself.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

pub mod app;
pub mod audit;
pub mod certs;
pub mod cli;
pub mod clock;
pub mod config;
pub mod doctor;
pub mod fetch;
pub mod gc;
#[cfg(test)]
mod golden;
pub mod http;
pub mod ids;
pub mod image;
pub mod isolation;
pub mod judge;
pub mod owner;
pub mod parallel;
pub mod process;
pub mod proxy;
pub mod redact;
pub mod run;
pub mod run_log;
pub mod sandbox;
pub mod shell;
pub mod task;
pub mod templates;
pub mod tty;
pub mod visualizer;
pub mod yaml;
