//! What every task of a run shares: the run's id and directory, sandboxes and isolations per
//! backend, the judge client and the shutdown flag.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use super::judge_client::JudgeClient;
use super::progress::Progress;
use crate::config::Backend;
use crate::isolation::Isolator;
use crate::sandbox::Sandbox;

/// What every task of a run shares.
pub struct RunShared {
    pub run_id: String,
    pub run_dir: PathBuf,
    /// The sandbox of each backend the run's tasks use.
    pub sandboxes: BTreeMap<Backend, Arc<dyn Sandbox>>,
    pub client: JudgeClient,
    pub shutdown: Arc<AtomicBool>,
    pub owner: String,
    /// Echo the agent's output on stdout.
    pub stream: bool,
    pub final_eval: bool,
    /// Seconds between TERM and KILL at the deadline.
    pub grace: Duration,
    /// How tasks with internet off are cut off, per backend (its firewall or policy).
    pub isolations: BTreeMap<Backend, Arc<dyn Isolator>>,
    /// What each task is doing, for the console's view and the events file.
    pub progress: Arc<Progress>,
}
