//! `sforge visualizer`: resolves the runs directory and address, starts the server
//! (`crate::visualizer`) and serves until Ctrl-C or SIGTERM.

use std::net::{SocketAddr, ToSocketAddrs};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;

use crate::cli::VisualizerArgs;
use crate::config::{EnvMap, Settings};
use crate::visualizer::{self, VisualizerConfig};

pub fn serve_visualizer(
    settings: &Settings,
    env: &EnvMap,
    args: &VisualizerArgs,
) -> anyhow::Result<ExitCode> {
    let runs_dir = match &args.runs_dir {
        Some(dir) if dir.is_absolute() => dir.clone(),
        Some(dir) => std::env::current_dir()
            .context("cannot determine the current directory")?
            .join(dir),
        None => settings.log_dir.value.join("runs"),
    };
    let addr: SocketAddr = (args.host.as_str(), args.port)
        .to_socket_addrs()
        .with_context(|| format!("invalid --host {:?}", args.host))?
        .next()
        .with_context(|| format!("--host {:?} resolves to no address", args.host))?;
    let config = VisualizerConfig {
        runs_dir: runs_dir.clone(),
        addr,
        abort_threshold: visualizer::abort_threshold(env.get("SFORGE_VIZ_ABORT_THRESHOLD")),
    };
    let server = visualizer::start(&config)
        .with_context(|| format!("cannot listen on {addr}; is the port in use? (try --port)"))?;
    let handle = server.shutdown_handle();
    ctrlc::set_handler(move || handle.shutdown()).context("cannot install the Ctrl-C handler")?;
    match visualizer::count_runs(&runs_dir) {
        Some(n) => eprintln!("Found {n} run folder(s) in {}", runs_dir.display()),
        None => eprintln!("WARNING: runs dir does not exist: {}", runs_dir.display()),
    }
    if !addr.ip().is_loopback() {
        eprintln!("WARNING: listening on {addr} without authentication: anyone who reaches it can read your runs");
    }
    eprintln!("Open: http://{}/", server.addr());
    let _ = server.wait(Duration::from_secs(2));
    eprintln!("Stopped the visualizer");
    Ok(ExitCode::SUCCESS)
}
