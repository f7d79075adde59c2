//! The command-line layer as config's own all-`Option` value: what the command layer read from
//! its flags, each `None` when not given. Config knows nothing of how flags are parsed.

use std::path::PathBuf;

use super::settings::Backend;

/// Flags that override settings (the highest-priority layer); switches are `Some(true)` only
/// when given.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Flags {
    /// `--experiment`: the experiment file (relative to the working directory).
    pub experiment: Option<PathBuf>,
    pub log_dir: Option<PathBuf>,
    pub tasks_dir: Option<PathBuf>,
    pub agent: Option<String>,
    pub model: Option<String>,
    pub timeout: Option<u64>,
    pub eval_interval: Option<u64>,
    pub disable_auto_eval: Option<bool>,
    pub disable_stop_hook: Option<bool>,
    pub disable_auto_resume: Option<bool>,
    pub max_submissions: Option<u32>,
    pub submission_cooldown: Option<u64>,
    pub stagger: Option<u64>,
    pub judge_url: Option<String>,
    /// `--enable-internet` (`true`) or `--disable-internet` (`false`).
    pub internet: Option<bool>,
    pub work_cpu_limit: Option<u32>,
    /// As given; checked when the layer is built.
    pub work_mem_limit: Option<String>,
    pub judge_cpu_limit: Option<u32>,
    pub judge_mem_limit: Option<String>,
    pub judge_pool: Option<u32>,
    pub ca_file: Option<PathBuf>,
    pub backend: Option<Backend>,
}
