//! Sandboxes: where Work and Judge containers live. One trait, [`Sandbox`], and its backends
//! (Docker today, over the docker CLI). Every container carries sforge's ownership labels.

mod backend;
mod docker;
mod file_tar;
pub mod k8s;
pub mod lease;
mod spec;
mod watchdog;

use std::path::Path;
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
    /// What the container handed out was larger than allowed (the container's doing).
    #[error("{path} in container {name} is larger than {max} bytes; not copied")]
    TooLarge {
        name: String,
        path: String,
        max: u64,
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

/// [`SandboxError::TooLarge`] for a copy that went over its limit, else the backend's error.
pub(crate) fn copy_out_error(
    name: &str,
    path: &str,
    fail: impl FnOnce(ProcessError) -> SandboxError,
) -> impl FnOnce(ProcessError) -> SandboxError {
    let (name, path) = (name.to_owned(), path.to_owned());
    move |e| match e {
        ProcessError::OutputLimit { limit, .. } => SandboxError::TooLarge {
            name,
            path,
            max: limit,
        },
        other => fail(other),
    }
}

/// A place to run containers: create, exec, copy, remove. Implementations must make `remove`
/// idempotent (removing a missing container is not an error).
pub trait Sandbox: Send + Sync {
    /// Create and start a long-lived container that does nothing until told to.
    fn start(&self, spec: &ContainerSpec) -> Result<(), SandboxError>;

    /// [`Sandbox::start`], and the container's id when the backend has one that every other
    /// method accepts in place of the name and that survives [`Sandbox::rename`].
    fn start_with_id(&self, spec: &ContainerSpec) -> Result<Option<String>, SandboxError> {
        self.start(spec).map(|()| None)
    }

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

    /// Extract the (uncompressed) tar file `tar` of the host into `dir` inside the container,
    /// streaming it (large archives are never held in memory).
    fn copy_in_file(&self, name: &str, dir: &str, tar: &Path) -> Result<(), SandboxError>;

    /// Write a tar stream of `path` inside the container to the host file `dest`, streaming it.
    /// More than `max_bytes` of tar stream is [`SandboxError::TooLarge`] (whatever arrived stays
    /// in `dest`, for the caller to remove).
    fn copy_out(
        &self,
        name: &str,
        path: &str,
        dest: &Path,
        max_bytes: u64,
    ) -> Result<(), SandboxError>;

    /// The container's own output (its main process's stdout and stderr).
    fn logs(&self, name: &str) -> Result<String, SandboxError>;

    /// Remove the container and whatever runs in it; fine if it does not exist.
    fn remove(&self, name: &str) -> Result<(), SandboxError>;

    /// Give container `from` the name `to`; `Ok(false)` when the backend cannot rename (the
    /// container keeps its name).
    fn rename(&self, from: &str, to: &str) -> Result<bool, SandboxError> {
        let _ = (from, to);
        Ok(false)
    }
}
