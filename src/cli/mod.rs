//! Command-line definitions (clap derive only; no behaviour lives here).
//! Global flags may come before or after the subcommand; `sforge <cmd> --help` documents each one.
//! Doc comments here are the user-facing help text, hence plain prose without Markdown.
#![allow(clippy::doc_markdown)]

mod run_settings;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

pub use run_settings::{BackendArg, RunSettingsArgs};

/// Evaluation harness for autonomous coding agents.
///
/// sforge builds task images, runs an agent in a Work container, grades its submissions in fresh
/// Judge containers and records the whole trajectory.
#[derive(Debug, Parser)]
#[command(
    name = "sforge",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags shared by every subcommand.
#[derive(Debug, Default, Clone, Args)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// Directory for build logs, run records and judge state [env: SFORGE_LOG_DIR] [default: ./logs]
    #[arg(long, value_name = "PATH", global = true)]
    pub log_dir: Option<PathBuf>,

    /// Directory holding BENCHMARK.yaml and the task JSON files [env: SFORGE_TASKS_DIR] [default: ./tasks]
    #[arg(long, value_name = "PATH", global = true)]
    pub tasks_dir: Option<PathBuf>,

    /// Do not stream progress to the console (results and errors are still printed)
    #[arg(long, global = true)]
    pub silent: bool,

    /// More log output on stderr: -v for info, -vv for every command sforge runs (RUST_LOG overrides)
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build the base, work and judge images of tasks (missing ones only, unless forced)
    Build(BuildArgs),
    /// Pull task images from a registry and tag them with their local names
    Pull(RegistryArgs),
    /// Tag task images for a registry and push them
    Push(RegistryArgs),
    /// Write every generated file of a task to a directory and print its docker commands
    Render(RenderArgs),
    /// List the tasks of the benchmark in the tasks directory
    List(ListArgs),
    /// Show the fully resolved settings and where each value came from
    Config(Box<ConfigArgs>),
}

/// Which tasks a command works on.
#[derive(Debug, Clone, Args)]
#[group(required = true, multiple = false)]
pub struct TaskSelection {
    /// Task ids (file names in the tasks directory, without .json)
    #[arg(long, num_args = 1.., value_name = "ID")]
    pub task: Vec<String>,

    /// Every task of the tasks directory, in file-name order
    #[arg(long)]
    pub all: bool,
}

#[derive(Debug, Args)]
pub struct BuildArgs {
    #[command(flatten)]
    pub select: TaskSelection,

    /// Rebuild work and judge images without cache (base images are kept if present)
    #[arg(long)]
    pub force_rebuild: bool,

    /// Rebuild base images too, without cache (implies --force-rebuild)
    #[arg(long)]
    pub force_rebuild_with_base: bool,

    /// Print the docker commands as a shell script instead of running them (existing images are
    /// still looked up); the generated files are written as usual
    #[arg(long)]
    pub dry_run: bool,

    /// Images built at the same time [default: number of CPUs]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: Option<u16>,
}

#[derive(Debug, Args)]
pub struct RegistryArgs {
    #[command(flatten)]
    pub select: TaskSelection,

    /// Registry prefix: images are <REGISTRY>/<local name> there [env: SFORGE_REGISTRY]
    #[arg(long, value_name = "REGISTRY")]
    pub registry: Option<String>,

    /// Print the docker commands as a shell script instead of running them
    #[arg(long)]
    pub dry_run: bool,

    /// Images transferred at the same time [default: 4]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: Option<u16>,
}

#[derive(Debug, Args)]
pub struct RenderArgs {
    /// The task to render
    #[arg(long, value_name = "ID")]
    pub task: String,

    /// Directory to write the files to (created if missing)
    #[arg(short, long, value_name = "DIR")]
    pub output: PathBuf,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Print JSON (one object per task, with its base/work/judge image names) instead of the table
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// Resolve the settings a run of this task would use (task JSON limits and experiment task
    /// overrides included)
    #[arg(long, value_name = "ID")]
    pub task: Option<String>,

    /// Print JSON instead of a table
    #[arg(long)]
    pub json: bool,

    #[command(flatten)]
    pub run: RunSettingsArgs,
}
