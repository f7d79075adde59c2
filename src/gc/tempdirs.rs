//! Temporary directories holding build secrets (`<tmp>/sforge-secrets-<pid>-…`), left behind
//! when a build is killed.

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use super::{decide, Candidate, Facts, Found, GcOptions, Verdict};
use crate::image::SECRETS_DIR_PREFIX;
use crate::sandbox::lease::PID_LABEL;

pub(super) fn collect(opts: &GcOptions, facts: &Facts<'_>) -> Vec<Found> {
    let tmp = std::env::temp_dir();
    let Ok(entries) = std::fs::read_dir(&tmp) else {
        return Vec::new();
    };
    let uid = crate::owner::effective_uid();
    let mut found = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix(SECRETS_DIR_PREFIX) else {
            continue;
        };
        let path = entry.path();
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        if !meta.is_dir() {
            continue;
        }
        let owner = if Some(meta.uid()) == uid {
            facts.owner.to_owned()
        } else {
            format!("uid-{}", meta.uid())
        };
        let mut candidate = Candidate::default();
        candidate.labels.insert("sforge.owner".to_owned(), owner);
        if let Some((pid, _)) = rest.split_once('-') {
            candidate
                .labels
                .insert(PID_LABEL.to_owned(), pid.to_owned());
        }
        candidate.created = u64::try_from(meta.mtime()).ok();
        let verdict = decide(&candidate, opts, facts);
        let failed = match (&verdict, opts.dry_run) {
            (Verdict::Remove(_), false) => remove(&path),
            _ => None,
        };
        found.push(Found {
            kind: "directory",
            name: path.display().to_string(),
            verdict,
            failed,
        });
    }
    found
}

fn remove(path: &Path) -> Option<String> {
    std::fs::remove_dir_all(path).err().map(|e| e.to_string())
}
