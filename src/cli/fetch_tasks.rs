//! The arguments of `sforge fetch-tasks` (clap derive only). Doc comments are the help text.
#![allow(clippy::doc_markdown)]

use std::path::PathBuf;

use clap::Args;

#[derive(Debug, Args)]
pub struct FetchTasksArgs {
    /// Benchmark name; each names a Hub dataset (edgebench: ByteDance-Seed/EdgeBench)
    #[arg(value_name = "BENCHMARK", default_value = "edgebench")]
    pub benchmark: String,

    /// Hub dataset to fetch instead of the benchmark's
    #[arg(long, value_name = "ORG/NAME")]
    pub repo: Option<String>,

    /// Branch, tag or commit of the dataset
    #[arg(long, value_name = "REV", default_value = "main")]
    pub revision: String,

    /// Directory to fetch into [default: the tasks directory: --tasks-dir, SFORGE_TASKS_DIR,
    /// else ./tasks]
    #[arg(long, value_name = "DIR")]
    pub dest: Option<PathBuf>,

    /// Replace or remove files changed locally since the last fetch (or present before it)
    #[arg(long)]
    pub force: bool,
}
