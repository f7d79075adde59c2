//! Snapshots of the agent's code: a `.tar.gz` of the task's submit paths made inside the Work
//! container (as `sforge-submit` would) and streamed to a file on the host, and other files the
//! agent controls copied out of its container. Every copy is bounded in size (and `tar` in time):
//! whatever is larger is the agent's doing, refused, never read into memory
//! (docs/security.md#bounded-reads).

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::config::Settings;
use crate::sandbox::{ExecSpec, Sandbox, SandboxError};
use crate::shell::quote;
use crate::task::Task;

const SNAPSHOT: &str = "/tmp/sforge-snapshot.tar.gz";
/// Tar headers and padding around one copied file: `docker cp` adds a header (and a long name
/// record) before it and two zero blocks after, rounded up to 10 KiB records.
const TAR_OVERHEAD: u64 = 64 << 10;
/// Lines of `tar` complaints kept for the log.
const TAR_ERRORS_KEPT: usize = 20;
/// Exit status of GNU `timeout` when it killed the command (and of a shell killed by `SIGKILL`).
const KILLED: [i32; 2] = [124, 137];

/// Bounds on a snapshot of the agent's code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SnapshotLimits {
    /// Largest `.tar.gz` accepted.
    pub max_bytes: u64,
    /// How long `tar` may run in the container.
    pub timeout: Duration,
}

impl SnapshotLimits {
    #[must_use]
    pub fn from_settings(settings: &Settings) -> Self {
        Self {
            max_bytes: settings.snapshot_max_mib.value.saturating_mul(1 << 20),
            timeout: Duration::from_secs(settings.snapshot_timeout.value.max(1)),
        }
    }
}

/// Why a copy out of the Work container failed.
#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    /// Larger than allowed: the agent's doing.
    #[error(
        "{path} in the work container is larger than {max} bytes (the agent's doing); not copied"
    )]
    TooLarge { path: String, max: u64 },
    #[error("taking the snapshot took longer than {}s (the agent's doing); not copied", .0.as_secs())]
    TimedOut(Duration),
    #[error("{path} in the work container is not a regular file")]
    NotAFile { path: String },
    #[error(transparent)]
    Sandbox(SandboxError),
    #[error("cannot write {}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
}

/// Writes the submit paths of `task` as they are now in `container` to `dest` (gzip-compressed;
/// an empty archive when none of the paths exist) and returns its size. On error `dest` is gone.
pub fn snapshot(
    sandbox: &dyn Sandbox,
    container: &str,
    task: &Task,
    limits: SnapshotLimits,
    dest: &Path,
) -> Result<u64, CopyError> {
    let spec = ExecSpec {
        argv: vec![
            "bash".into(),
            "-c".into(),
            snapshot_script(task, limits.timeout),
        ],
        user: Some("root".into()),
        ..ExecSpec::default()
    };
    let mut errors = Vec::new();
    let result = sandbox
        .exec(container, &spec, &mut |l| {
            if errors.len() < TAR_ERRORS_KEPT {
                errors.push(l.chars().take(500).collect::<String>());
            }
        })
        .map_err(CopyError::Sandbox)?;
    let code = result.output.status.code;
    if code.is_some_and(|c| KILLED.contains(&c)) {
        return Err(CopyError::TimedOut(limits.timeout));
    }
    if !result.output.success() {
        log::warn!(
            "tar in the work container exited with {code:?}: {}",
            errors.join(" | ")
        );
    }
    copy_file_out(sandbox, container, SNAPSHOT, dest, limits.max_bytes)
}

/// `tar czf` of the submit paths that exist, under `timeout -s KILL`.
fn snapshot_script(task: &Task, timeout: Duration) -> String {
    let excludes: Vec<String> = task
        .submit_exclude
        .iter()
        .map(|e| format!("--exclude={}", quote(e)))
        .collect();
    let paths: Vec<String> = task
        .submit_paths
        .iter()
        .map(|p| quote(p).into_owned())
        .collect();
    format!(
        "cd {cwd} && rm -f {SNAPSHOT} && set -- && for p in {paths}; do [ -e \"$p\" ] && set -- \"$@\" \"$p\"; done; \
         if [ $# -eq 0 ]; then tar czf {SNAPSHOT} --files-from /dev/null; \
         else timeout -s KILL {secs} tar czf {SNAPSHOT} --exclude=.git {excludes} \"$@\"; fi",
        cwd = quote(&task.cwd),
        paths = paths.join(" "),
        excludes = excludes.join(" "),
        secs = timeout.as_secs(),
    )
}

/// Copies the regular file `path` of `container` to `dest` (at most `max_bytes`), streaming:
/// the tar stream goes to `<dest>.part`, its one member is then extracted into `dest`.
/// Returns the size. On error nothing is left at `dest`.
pub fn copy_file_out(
    sandbox: &dyn Sandbox,
    container: &str,
    path: &str,
    dest: &Path,
    max_bytes: u64,
) -> Result<u64, CopyError> {
    let mut part = dest.as_os_str().to_owned();
    part.push(".part");
    let part = PathBuf::from(part);
    let copied = sandbox
        .copy_out(
            container,
            path,
            &part,
            max_bytes.saturating_add(TAR_OVERHEAD),
        )
        .map_err(|e| match e {
            SandboxError::TooLarge { .. } => CopyError::TooLarge {
                path: path.to_owned(),
                max: max_bytes,
            },
            other => CopyError::Sandbox(other),
        })
        .and_then(|()| extract_member(&part, path, dest, max_bytes));
    let _ = fs::remove_file(&part);
    if copied.is_err() {
        let _ = fs::remove_file(dest);
    }
    copied
}

/// Extracts the first member of the tar file `tar` into `dest`, if it is a regular file of at
/// most `max_bytes` (checked in its header before any data is read).
fn extract_member(tar: &Path, path: &str, dest: &Path, max_bytes: u64) -> Result<u64, CopyError> {
    let io_error = |source| CopyError::Io {
        path: dest.to_owned(),
        source,
    };
    let mut archive = tar::Archive::new(File::open(tar).map_err(io_error)?);
    let not_a_file = || CopyError::NotAFile {
        path: path.to_owned(),
    };
    let mut entry = archive
        .entries()
        .map_err(io_error)?
        .next()
        .ok_or_else(not_a_file)?
        .map_err(io_error)?;
    if !entry.header().entry_type().is_file() {
        return Err(not_a_file());
    }
    if entry.size() > max_bytes {
        return Err(CopyError::TooLarge {
            path: path.to_owned(),
            max: max_bytes,
        });
    }
    let mut out = File::create(dest).map_err(io_error)?;
    io::copy(&mut io::Read::take(&mut entry, max_bytes), &mut out).map_err(io_error)
}
