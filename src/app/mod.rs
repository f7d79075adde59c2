//! Command dispatch: turns parsed CLI arguments into work and an exit code.

mod list;
mod show_config;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;

use crate::cli::{Cli, Command, RunSettingsArgs};
use crate::config::{EnvMap, Resolver};

/// What every command starts from: the environment snapshot and the working directory.
pub struct Context {
    pub env: EnvMap,
    pub cwd: PathBuf,
}

impl Context {
    pub fn from_process() -> anyhow::Result<Self> {
        let cwd = std::env::current_dir().context("cannot determine the current directory")?;
        Ok(Context {
            env: EnvMap::from_process(),
            cwd,
        })
    }
}

/// Run the command; `Err` is printed by `main` and exits 1.
pub fn run(cli: &Cli) -> anyhow::Result<ExitCode> {
    let ctx = Context::from_process()?;
    let mut out = std::io::stdout().lock();
    match &cli.command {
        Command::List(args) => {
            let resolver =
                Resolver::new(ctx.env, &ctx.cwd, &cli.global, &RunSettingsArgs::default())?;
            list::run(&resolver.global(), args, &mut out)
        }
        Command::Config(args) => {
            let resolver = Resolver::new(ctx.env, &ctx.cwd, &cli.global, &args.run)?;
            show_config::run(&resolver, args, &mut out)
        }
    }?;
    Ok(ExitCode::SUCCESS)
}
