//! Snapshots of the agent's code: a `.tar.gz` of the task's submit paths made inside the Work
//! container (as `sforge-submit` would) and fetched to the host.

use std::io::Read;

use super::error::RunError;
use crate::sandbox::{ExecSpec, Sandbox, SandboxError};
use crate::task::Task;

const SNAPSHOT: &str = "/tmp/sforge-snapshot.tar.gz";

/// The submit paths of `task` as they are now in `container`, gzip-compressed (empty when none
/// of the paths exist).
pub fn snapshot(sandbox: &dyn Sandbox, container: &str, task: &Task) -> Result<Vec<u8>, RunError> {
    let quote =
        |s: &str| shlex::try_quote(s).map_or_else(|_| s.to_owned(), std::borrow::Cow::into_owned);
    let excludes: Vec<String> = task
        .submit_exclude
        .iter()
        .map(|e| format!("--exclude={}", quote(e)))
        .collect();
    let paths: Vec<String> = task.submit_paths.iter().map(|p| quote(p)).collect();
    let script = format!(
        "cd {cwd} && rm -f {SNAPSHOT} && set -- && for p in {paths}; do [ -e \"$p\" ] && set -- \"$@\" \"$p\"; done; \
         if [ $# -eq 0 ]; then tar czf {SNAPSHOT} --files-from /dev/null; \
         else tar czf {SNAPSHOT} --exclude=.git {excludes} \"$@\"; fi",
        cwd = quote(&task.cwd),
        paths = paths.join(" "),
        excludes = excludes.join(" "),
    );
    let spec = ExecSpec {
        argv: vec!["bash".into(), "-c".into(), script],
        user: Some("root".into()),
        ..ExecSpec::default()
    };
    let mut errors = Vec::new();
    let result = sandbox.exec(container, &spec, &mut |l| errors.push(l.to_owned()))?;
    if !result.output.success() {
        log::warn!(
            "tar in the work container exited with {:?}: {}",
            result.output.status.code,
            errors.join(" | ")
        );
    }
    let tar = sandbox.copy_out(container, SNAPSHOT)?;
    first_member(&tar).map_err(|e| {
        RunError::Sandbox(SandboxError::Failed {
            name: container.to_owned(),
            message: format!("cannot read the snapshot {SNAPSHOT}: {e}"),
        })
    })
}

/// The bytes of the first file in an (uncompressed) tar stream, as `docker cp` produces.
fn first_member(tar: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut archive = tar::Archive::new(tar);
    let mut entry = archive
        .entries()?
        .next()
        .ok_or_else(|| std::io::Error::other("empty tar stream"))??;
    let mut bytes = Vec::new();
    entry.read_to_end(&mut bytes)?;
    Ok(bytes)
}
