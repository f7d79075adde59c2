//! Command dispatch: turns parsed CLI arguments into work and an exit code.

mod audit;
mod build;
mod console;
mod doctor;
mod eval;
mod eval_batch;
mod eval_common;
mod fetch_tasks;
mod flags;
mod gc;
mod list;
mod proxy;
mod registry;
mod regrade;
mod render;
mod run;
mod selection;
mod serve;
mod show_config;
mod visualizer;

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
pub fn dispatch(cli: &Cli) -> anyhow::Result<ExitCode> {
    let ctx = Context::from_process()?;
    let run_flags = match &cli.command {
        Command::Config(args) => args.run.clone(),
        Command::Run(args) => args.settings.clone(),
        Command::Eval(args) => RunSettingsArgs {
            backend: args.backend,
            judge_pool: args.judge_pool,
            judge_cpu_limit: args.judge_cpu_limit,
            judge_mem_limit: args.judge_mem_limit.clone(),
            ..RunSettingsArgs::default()
        },
        Command::Audit(args) => RunSettingsArgs {
            backend: args.backend,
            ..RunSettingsArgs::default()
        },
        Command::Render(args) => RunSettingsArgs {
            backend: args.backend,
            ..RunSettingsArgs::default()
        },
        Command::Gc(args) => RunSettingsArgs {
            backend: args.backend,
            ..RunSettingsArgs::default()
        },
        Command::Doctor(args) => RunSettingsArgs {
            backend: args.backend,
            judge_url: args.judge_url.clone(),
            ..RunSettingsArgs::default()
        },
        _ => RunSettingsArgs::default(),
    };
    let resolver = Resolver::new(
        ctx.env.clone(),
        &ctx.cwd,
        &flags::flags(&cli.global, &run_flags),
    )?;
    let settings = resolver.global();
    match &cli.command {
        Command::Build(args) => return build::build_images(&settings, &cli.global, args),
        Command::Pull(args) => {
            return registry::transfer(&settings, args, registry::Direction::Pull)
        }
        Command::Push(args) => {
            return registry::transfer(&settings, args, registry::Direction::Push)
        }
        Command::Run(args) => return run::run_tasks(&resolver, &ctx.env, &cli.global, args),
        Command::Eval(args) => return eval::evaluate(&settings, &cli.global, args),
        Command::Audit(args) => return audit::audit(&settings, &cli.global, args),
        Command::Gc(args) => return gc::collect_garbage(&settings, args),
        Command::Doctor(args) => return doctor::doctor(&settings, args),
        Command::Serve(args) => return serve::serve(&settings, &ctx.env, args),
        Command::Proxy(args) => return proxy::serve_proxy(&settings, &ctx.env, args),
        Command::Visualizer(args) => {
            return visualizer::serve_visualizer(&settings, &ctx.env, args)
        }
        Command::Render(args) => render::render(&settings, args, &mut std::io::stdout().lock())?,
        Command::List(args) => list::list_tasks(&settings, args, &mut std::io::stdout().lock())?,
        Command::FetchTasks(args) => {
            return fetch_tasks::fetch_tasks(&settings, &ctx.env, &ctx.cwd, &cli.global, args);
        }
        Command::Config(args) => {
            show_config::show_config(&resolver, args, &mut std::io::stdout().lock())?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
