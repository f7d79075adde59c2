//! The `sforge run` flags that feed the layered settings; shared by `run` and `config`.
#![allow(clippy::doc_markdown)] // doc comments are the help text

use std::path::PathBuf;

use clap::{Args, ValueEnum};

/// Flags that override settings for a run (the highest-priority layer).
#[allow(
    clippy::struct_excessive_bools,
    reason = "each bool is an independent command-line switch"
)]
#[derive(Debug, Default, Clone, Args)]
#[command(next_help_heading = "Run settings")]
pub struct RunSettingsArgs {
    /// Experiment YAML file (env, model, defaults and per-task overrides)
    #[arg(long, value_name = "PATH")]
    pub experiment: Option<PathBuf>,

    /// Agent to run: claude-code, codex or script
    #[arg(long, value_name = "NAME")]
    pub agent: Option<String>,

    /// Model name passed to the agent [env: SFORGE_AGENT_MODEL]
    #[arg(long, value_name = "M")]
    pub model: Option<String>,

    /// Agent time budget in seconds [env: SFORGE_AGENT_TIMEOUT] [default: 3600]
    #[arg(long, value_name = "N")]
    pub timeout: Option<u64>,

    /// Seconds between automatic evaluations; 0 turns them off [default: 300]
    #[arg(long, value_name = "N")]
    pub eval_interval: Option<u64>,

    /// Do not grade the agent's code periodically
    #[arg(long)]
    pub disable_auto_eval: bool,

    /// Do not install the stop hook that reminds the agent of its remaining time
    #[arg(long)]
    pub disable_stop_hook: bool,

    /// Do not restart the agent when it stops before its time is up
    #[arg(long)]
    pub disable_auto_resume: bool,

    /// Maximum number of submissions the agent may make (unlimited when unset)
    #[arg(long, value_name = "N")]
    pub max_submissions: Option<u32>,

    /// Minimum seconds between two agent submissions
    #[arg(long, value_name = "N")]
    pub submission_cooldown: Option<u64>,

    /// Warm judge containers kept ready per task, so that a submission does not wait for one to
    /// start; each grades one submission and is replaced [env: SFORGE_JUDGE_POOL] [default: 1]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(0..=64))]
    pub judge_pool: Option<u32>,

    /// Seconds between the starts of consecutive tasks of a multi-task run
    #[arg(long, value_name = "N")]
    pub stagger: Option<u64>,

    /// Judge URL as seen from inside the Work container [default: http://host.docker.internal:8080]
    #[arg(long, value_name = "URL")]
    pub judge_url: Option<String>,

    /// Cut the Work container off from the internet (judge and LLM API stay reachable)
    #[arg(long, conflicts_with = "enable_internet")]
    pub disable_internet: bool,

    /// Give the Work container internet access even when the task disables it
    #[arg(long)]
    pub enable_internet: bool,

    /// CPU limit of the Work container (whole CPUs) [env: SFORGE_WORK_CPU_LIMIT]
    #[arg(long, value_name = "N")]
    pub work_cpu_limit: Option<u32>,

    /// Memory limit of the Work container, e.g. 8g [env: SFORGE_WORK_MEM_LIMIT]
    #[arg(long, value_name = "SIZE")]
    pub work_mem_limit: Option<String>,

    /// CPU limit of each Judge container (whole CPUs)
    #[arg(long, value_name = "N")]
    pub judge_cpu_limit: Option<u32>,

    /// Memory limit of each Judge container, e.g. 8g
    #[arg(long, value_name = "SIZE")]
    pub judge_mem_limit: Option<String>,

    /// PEM file of extra CA certificates the Work container trusts, for a TLS-inspecting proxy
    /// [env: SFORGE_CA_FILE]
    #[arg(long, value_name = "PATH")]
    pub ca_file: Option<PathBuf>,

    /// Container backend [env: SFORGE_BACKEND] [default: docker]
    #[arg(long, value_enum, value_name = "NAME")]
    pub backend: Option<BackendArg>,
}

/// Backends selectable on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BackendArg {
    Docker,
    K8s,
}
