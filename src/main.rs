//! Entry point: parse the command line, set up logging, run the command, map errors to exit codes.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use sforge::cli::Cli;

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.global.verbose, cli.global.silent);
    match sforge::app::dispatch(&cli) {
        Ok(code) => code,
        // A closed stdout (`sforge config | head`) ends the command quietly, with the status a
        // program killed by SIGPIPE has.
        Err(err) if is_broken_pipe(&err) => ExitCode::from(141),
        Err(err) => {
            let mut stderr = std::io::stderr().lock();
            // One line per error in the chain, outermost first, no backtrace.
            let _ = writeln!(stderr, "error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Logs go to stderr; `-v` shows info, `-vv` debug (every command run), `RUST_LOG` overrides both.
fn init_logging(verbose: u8, silent: bool) {
    let level = match (silent, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, _) => "debug",
    };
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or(level))
        .format_timestamp(None)
        .format_target(false)
        .init();
}
