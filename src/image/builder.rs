//! Building one image: writes the context and `build_image.log` under
//! `<log_dir>/build_images/<role>/<name>/`, passes git credentials as BuildKit secret files,
//! and masks secret values in everything it logs or reports.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use super::docker::{major_version, Docker};
use super::spec::BuildSpec;
use crate::process::{Runner, Stream};
use crate::redact::mask;

/// Why an image was not built; the message names the image and its build log.
#[derive(Debug, thiserror::Error)]
#[error("Error building image {image}: {failure}. Check ({}) for more information.", log.display())]
pub struct BuildError {
    pub image: String,
    pub log: PathBuf,
    pub failure: BuildFailure,
}

/// What went wrong in a build.
#[derive(Debug, thiserror::Error)]
pub enum BuildFailure {
    #[error("cannot write the build context: {0}")]
    Context(std::io::Error),
    #[error("cannot write secret files: {0}")]
    Secrets(std::io::Error),
    #[error("{0}")]
    Log(std::io::Error),
    /// `docker build` ran and failed: how it ended and its last output lines.
    #[error("docker build {status}: {tail}")]
    Exit { status: String, tail: String },
    /// `docker build` could not run (the error text, secrets masked).
    #[error("{masked}")]
    Run { masked: String },
    /// The build was not started: `sforge` is stopping (Ctrl-C or SIGTERM).
    #[error("not built: interrupted")]
    Stopped,
}

/// Builds with git credentials need BuildKit, and this docker client has none.
#[derive(Debug, Clone, thiserror::Error)]
#[error(
    "BuildKit is unavailable: the docker client `{program}` (version {version}) has no buildx plugin, and git \
     credentials (SFORGE_GIT_USER/SFORGE_GIT_TOKEN) can only be passed to builds as BuildKit secrets. \
     Install the buildx plugin, or set SFORGE_DOCKER to a client with built-in BuildKit \
     (for example /usr/bin/docker from Debian's docker.io)"
)]
pub struct NoBuildKit {
    pub program: String,
    pub version: String,
}

/// Builds images with one docker client, logging under `log_dir`.
pub struct ImageBuilder<'a> {
    pub runner: &'a dyn Runner,
    pub docker: Docker,
    pub log_dir: PathBuf,
    /// Dry run: no secret files are written; the printed command says where to put them.
    pub dry_run: bool,
}

impl ImageBuilder<'_> {
    /// Build `spec`; `echo` receives every (masked) output line, e.g. to show it on the console.
    pub fn build(
        &self,
        spec: &BuildSpec,
        no_cache: bool,
        echo: &(dyn Fn(&str) + Sync),
    ) -> Result<(), BuildError> {
        let dir = spec.build_dir(&self.log_dir);
        let log_path = dir.join("build_image.log");
        let fail = |failure: BuildFailure| BuildError {
            image: spec.image.clone(),
            log: log_path.clone(),
            failure,
        };
        if builds_stopped() {
            return Err(fail(BuildFailure::Stopped));
        }
        write_context(spec, &dir).map_err(|e| fail(BuildFailure::Context(e)))?;
        let secrets = if self.dry_run {
            SecretFiles::placeholders(&spec.secrets, &dir)
        } else {
            SecretFiles::write(&spec.secrets).map_err(|e| fail(BuildFailure::Secrets(e)))?
        };
        let mut log =
            BufWriter::new(File::create(&log_path).map_err(|e| fail(BuildFailure::Log(e)))?);
        let masked = |line: &str| mask(&strip_ansi(line), spec.secret_values());
        let _ = write_log_header(&mut log, spec);
        let mut cmd = self.docker.build(spec, &dir, no_cache, &secrets.files);
        if self.dry_run && !secrets.files.is_empty() {
            let paths: Vec<String> = secrets
                .files
                .iter()
                .map(|(_, p)| p.display().to_string())
                .collect();
            cmd = cmd.note(format!(
                "BuildKit reads the git credentials from {}: create them (mode 600) first",
                paths.join(" and ")
            ));
        }
        let mut tail: Vec<String> = Vec::new();
        let result = self
            .runner
            .run_streaming_unchecked(&cmd, &mut |_: Stream, line: &str| {
                let line = masked(line);
                let _ = writeln!(log, "{line}");
                echo(&line);
                tail.push(line);
                if tail.len() > 8 {
                    tail.remove(0);
                }
            });
        let _ = log.flush();
        drop(secrets);
        failure(result, spec, &tail).map_or(Ok(()), |f| Err(fail(f)))
    }

    /// Fail early, with a fix, when secrets need BuildKit and this docker client has none.
    pub fn check_buildkit(&self) -> Result<(), NoBuildKit> {
        if self.runner.run(&self.docker.buildx_version()).is_ok() {
            return Ok(());
        }
        let version = self
            .runner
            .run(&self.docker.client_version())
            .map(|o| o.stdout_str().trim().to_owned())
            .unwrap_or_default();
        // Clients before 23 have BuildKit built in (DOCKER_BUILDKIT=1); later ones need buildx.
        if major_version(&version).is_some_and(|m| m < 23) {
            return Ok(());
        }
        Err(NoBuildKit {
            program: self.docker.program().to_owned(),
            version: if version.is_empty() {
                "unknown".to_owned()
            } else {
                version
            },
        })
    }
}

/// What went wrong, if the build ran and failed or could not run (`tail`: its last lines).
fn failure(
    result: Result<crate::process::Output, crate::process::ProcessError>,
    spec: &BuildSpec,
    tail: &[String],
) -> Option<BuildFailure> {
    match result {
        Ok(out) if out.success() => None,
        Ok(out) => {
            let status = out.status.code.map_or_else(
                || "was killed".to_owned(),
                |c| format!("exited with status {c}"),
            );
            let tail = tail.join(" | ");
            Some(BuildFailure::Exit { status, tail })
        }
        Err(e) => Some(BuildFailure::Run {
            masked: mask(&e.to_string(), spec.secret_values()),
        }),
    }
}

fn write_context(spec: &BuildSpec, dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for (name, text) in &spec.files {
        std::fs::write(dir.join(name), text)?;
    }
    // Keep the log and records of earlier builds out of the context sent to the daemon.
    std::fs::write(dir.join(".dockerignore"), "build_image.log\nimage.json\n")
}

fn write_log_header(log: &mut impl Write, spec: &BuildSpec) -> std::io::Result<()> {
    for (name, text) in &spec.files {
        writeln!(log, "===== {name} =====\n{text}")?;
    }
    writeln!(log, "===== build output =====")
}

/// Secret values in private temporary files, removed on drop.
struct SecretFiles {
    dir: Option<tempfile::TempDir>,
    files: Vec<(String, PathBuf)>,
}

/// Start of the names of the temporary directories holding build secrets.
pub const SECRETS_DIR_PREFIX: &str = "sforge-secrets-";

impl SecretFiles {
    /// Paths for a printed command only (nothing is written).
    fn placeholders(secrets: &[(String, String)], dir: &Path) -> Self {
        let files = secrets
            .iter()
            .map(|(id, _)| (id.clone(), dir.join(format!(".secret_{id}"))))
            .collect();
        SecretFiles { dir: None, files }
    }

    /// Writes the files into a new private directory, registered for [`stop_builds`]; refused
    /// once builds are stopped (the directory would outlive the process).
    fn write(secrets: &[(String, String)]) -> std::io::Result<Self> {
        if secrets.is_empty() {
            return Ok(SecretFiles {
                dir: None,
                files: Vec::new(),
            });
        }
        // Held while the directory is made: a signal handler cannot remove the registered
        // directories and exit between its creation and its registration.
        let mut live = live_secret_dirs();
        if STOPPED.load(Ordering::SeqCst) {
            return Err(std::io::Error::other("builds are stopped"));
        }
        // The process id in the name lets `sforge gc` find the directory of a killed build.
        let dir = tempfile::Builder::new()
            .prefix(&format!("{SECRETS_DIR_PREFIX}{}-", std::process::id()))
            .tempdir()?;
        write_secret_files(dir.path(), secrets).map(|files| {
            live.push(dir.path().to_owned());
            SecretFiles {
                dir: Some(dir),
                files,
            }
        })
    }
}

impl Drop for SecretFiles {
    fn drop(&mut self) {
        if let Some(dir) = &self.dir {
            live_secret_dirs().retain(|d| d != dir.path());
        }
    }
}

/// Set by [`stop_builds`]: no build starts and no secret file is written any more.
static STOPPED: AtomicBool = AtomicBool::new(false);
/// The directories of the secret files of builds in progress.
static LIVE_SECRET_DIRS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn live_secret_dirs() -> MutexGuard<'static, Vec<PathBuf>> {
    LIVE_SECRET_DIRS
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
}

/// For a signal handler: from now on no build of this process starts and no secret file is
/// written, and the secret files of builds in progress are removed (their `docker build`
/// clients are stopped by [`crate::process::terminate_children`]).
pub fn stop_builds() {
    let mut live = live_secret_dirs();
    STOPPED.store(true, Ordering::SeqCst);
    for dir in live.drain(..) {
        if let Err(e) = std::fs::remove_dir_all(&dir) {
            if e.kind() != std::io::ErrorKind::NotFound {
                log::warn!("cannot remove the secret files in {}: {e}", dir.display());
            }
        }
    }
}

/// Whether [`stop_builds`] was called.
#[must_use]
pub fn builds_stopped() -> bool {
    STOPPED.load(Ordering::SeqCst)
}

/// One file per secret (mode 0600) in `dir` (made private first).
fn write_secret_files(
    dir: &Path,
    secrets: &[(String, String)],
) -> std::io::Result<Vec<(String, PathBuf)>> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    let mut files = Vec::new();
    for (id, value) in secrets {
        let path = dir.join(id);
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)?;
        file.write_all(value.as_bytes())?;
        files.push((id.clone(), path));
    }
    Ok(files)
}

/// Remove ANSI escape sequences (colours, cursor movement) from a line of build output.
#[must_use]
pub fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\u{1b}' {
            out.push(c);
            continue;
        }
        if chars.peek() == Some(&'[') {
            chars.next();
            // Parameters and intermediates, then one final byte in '@'..='~'.
            for c in chars.by_ref() {
                if ('@'..='~').contains(&c) {
                    break;
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ansi_sequences_are_stripped() {
        assert_eq!(strip_ansi("\u{1b}[1;32mok\u{1b}[0m done"), "ok done");
    }

    #[test]
    fn secret_files_are_private_and_removed() {
        use std::os::unix::fs::PermissionsExt;
        let files = SecretFiles::write(&[("git_token".into(), "t0k".into())]).unwrap();
        let path = files.files[0].1.clone();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "t0k");
        let mode = std::fs::metadata(path.parent().unwrap())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "directory must not be readable by others");
        drop(files);
        assert!(!path.exists());
    }
}
