//! Sandboxes: where Work and Judge containers live. One trait, [`Sandbox`], and its backends
//! (Docker today, over the docker CLI). Every container carries sforge's ownership labels.

mod backend;
mod docker;
mod file_tar;
pub mod k8s;
pub mod lease;
mod spec;
mod watchdog;

use std::time::Duration;

pub use crate::task::Role;
pub use backend::{k8s_sandbox, sandbox_for};
pub use docker::DockerSandbox;
pub use file_tar::single_file_tar;
pub use k8s::K8sSandbox;
pub use spec::{labels, ContainerSpec, ExecSpec, Network};

use crate::process::{Output, ProcessError};

/// Why a sandbox operation failed (always naming the container and the operation).
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("cannot {action} container {name}: {source}")]
    Command {
        action: &'static str,
        name: String,
        #[source]
        source: ProcessError,
    },
    /// The backend refused or gave up (a pod that cannot start, a missing image, bad limits).
    #[error("container {name}: {message}")]
    Failed { name: String, message: String },
}

/// The result of a command run inside a container.
#[derive(Debug, Clone)]
pub struct ExecResult {
    pub output: Output,
    /// The deadline passed and the command was killed (the output is what arrived until then).
    pub timed_out: bool,
    pub elapsed: Duration,
}

/// A place to run containers: create, exec, copy, remove. Implementations must make `remove`
/// idempotent (removing a missing container is not an error).
pub trait Sandbox: Send + Sync {
    /// Create and start a long-lived container that does nothing until told to.
    fn start(&self, spec: &ContainerSpec) -> Result<(), SandboxError>;

    /// Run a command in the container; `on_line` receives output lines as they arrive. When
    /// `exec.timeout` passes, everything running in the container is killed.
    fn exec(
        &self,
        name: &str,
        exec: &ExecSpec,
        on_line: &mut dyn FnMut(&str),
    ) -> Result<ExecResult, SandboxError>;

    /// Extract an (uncompressed) tar stream into `dir` inside the container.
    fn copy_in(&self, name: &str, dir: &str, tar: Vec<u8>) -> Result<(), SandboxError>;

    /// A tar stream of `path` inside the container.
    fn copy_out(&self, name: &str, path: &str) -> Result<Vec<u8>, SandboxError>;

    /// The container's own output (its main process's stdout and stderr).
    fn logs(&self, name: &str) -> Result<String, SandboxError>;

    /// Remove the container and whatever runs in it; fine if it does not exist.
    fn remove(&self, name: &str) -> Result<(), SandboxError>;
}
