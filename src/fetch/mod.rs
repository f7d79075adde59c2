//! `sforge fetch-tasks`: a benchmark's task files from a Hugging Face Hub dataset, downloaded
//! over the Hub's HTTP API into a staging directory, verified, then moved into the tasks
//! directory without losing local edits (docs/fetch-tasks.md).

mod bytes;
mod digest;
mod download;
mod error;
mod hub;
mod install;
mod listing;
mod manifest;
mod options;
mod paths;

use std::path::{Path, PathBuf};

pub use bytes::human_bytes;
pub use download::Staging;
pub use error::FetchError;
pub use options::{
    check_repo, real_dest, repo_for_benchmark, FetchOptions, HubSettings, Limits, BENCHMARKS,
    DEFAULT_REVISION,
};

use download::Outcome;
use hub::Hub;

/// What a fetch did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub repo: String,
    pub commit: String,
    pub dest: PathBuf,
    /// Files of the revision.
    pub files: usize,
    pub downloaded: usize,
    pub unchanged: usize,
    pub removed: usize,
    /// Local edits replaced or removed (with --force).
    pub replaced_edits: usize,
    /// Top-level `*.json` files in the destination.
    pub task_files: usize,
    /// `HF_HUB_OFFLINE`: nothing was fetched, the files already there were checked.
    pub offline: bool,
}

/// Fetches `opts.repo` at `opts.revision` into `opts.dest`; `progress` receives one line per
/// step (for stderr).
pub fn fetch(opts: &FetchOptions, progress: &mut dyn FnMut(String)) -> Result<Summary, FetchError> {
    check_repo(&opts.repo)?;
    options::check_revision(&opts.revision)?;
    if opts.dest.exists() && !opts.dest.is_dir() {
        return Err(FetchError::DestNotDir(opts.dest.clone()));
    }
    let old = manifest::load(&opts.dest)?;
    if opts.hub.offline {
        return offline(opts, old.as_ref());
    }
    let hub = Hub::new(&opts.hub, &opts.repo, &opts.revision)?;
    progress(format!(
        "Fetching {} ({}) from {} into {}",
        opts.repo,
        opts.revision,
        hub.endpoint(),
        opts.dest.display()
    ));
    let commit = listing::commit(&hub, &opts.limits)?;
    let remote = listing::files(&hub, &commit, &opts.limits)?;
    let plan = install::plan(&opts.dest, old.as_ref(), &remote)?;
    check_plan(opts, &plan)?;
    let bytes: u64 = plan.fetch.iter().map(|f| f.size).sum();
    progress(format!(
        "Commit {commit}: {} file(s), {} to download ({}), {} up to date",
        remote.len(),
        plan.fetch.len(),
        human_bytes(bytes),
        plan.current.len()
    ));
    let staging = Staging::for_dest(&opts.dest);
    let _lock = staging.create()?;
    let mut written = plan.current.clone();
    written.extend(download_all(
        &hub,
        &commit,
        &plan.fetch,
        &staging,
        progress,
    )?);
    let manifest = install::new_manifest(&opts.repo, &opts.revision, &commit, &written);
    install::apply(&opts.dest, &staging, &plan, &manifest)?;
    staging.remove();
    Ok(Summary {
        repo: opts.repo.clone(),
        commit,
        dest: opts.dest.clone(),
        files: remote.len(),
        downloaded: plan.fetch.len(),
        unchanged: plan.current.len(),
        removed: plan.remove.len(),
        replaced_edits: plan.conflicts.len(),
        task_files: count_task_files(&opts.dest),
        offline: false,
    })
}

/// Paths sforge never writes through stop the fetch; local edits too, unless forced.
fn check_plan(opts: &FetchOptions, plan: &install::Plan) -> Result<(), FetchError> {
    if !plan.blocked.is_empty() {
        return Err(FetchError::Blocked {
            dest: opts.dest.clone(),
            files: name_some(&plan.blocked),
        });
    }
    if !plan.conflicts.is_empty() && !opts.force {
        return Err(FetchError::LocalEdits {
            dest: opts.dest.clone(),
            files: name_some(&plan.conflicts),
        });
    }
    Ok(())
}

/// Downloads `files` into the staging directory, one progress line each; returns each with its
/// SHA-256.
fn download_all(
    hub: &Hub,
    commit: &str,
    files: &[listing::RemoteFile],
    staging: &Staging,
    progress: &mut dyn FnMut(String),
) -> Result<Vec<(listing::RemoteFile, String)>, FetchError> {
    let mut done = Vec::with_capacity(files.len());
    for (i, file) in files.iter().enumerate() {
        progress(format!(
            "[{}/{}] {} ({})",
            i + 1,
            files.len(),
            file.path,
            human_bytes(file.size)
        ));
        let (sha256, outcome) = download::fetch(hub, commit, file, staging, progress)?;
        if outcome == Outcome::Staged {
            progress("  downloaded by an earlier attempt".to_owned());
        }
        done.push((file.clone(), sha256));
    }
    Ok(done)
}

/// `HF_HUB_OFFLINE`: succeed when the destination holds an intact earlier fetch of the repo.
fn offline(opts: &FetchOptions, old: Option<&manifest::Manifest>) -> Result<Summary, FetchError> {
    let missing = || FetchError::Offline {
        repo: opts.repo.clone(),
        dest: opts.dest.clone(),
    };
    let old = old.filter(|m| m.repo == opts.repo).ok_or_else(missing)?;
    for (path, entry) in &old.files {
        let local = opts.dest.join(path);
        if !local.is_file() {
            log::warn!("{} is missing", local.display());
            return Err(missing());
        }
        if digest::sha256_file(&local)? != entry.sha256 {
            log::warn!("{} was changed after it was fetched", local.display());
        }
    }
    Ok(Summary {
        repo: opts.repo.clone(),
        commit: old.commit.clone(),
        dest: opts.dest.clone(),
        files: old.files.len(),
        downloaded: 0,
        unchanged: old.files.len(),
        removed: 0,
        replaced_edits: 0,
        task_files: count_task_files(&opts.dest),
        offline: true,
    })
}

/// Up to ten paths, then how many more.
fn name_some(paths: &[String]) -> String {
    use std::fmt::Write as _;
    let mut text = paths
        .iter()
        .take(10)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if paths.len() > 10 {
        let _ = write!(text, " and {} more", paths.len() - 10);
    }
    text
}

/// Top-level `*.json` files, as `sforge list` reads them.
fn count_task_files(dir: &Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |entries| {
        entries
            .filter_map(Result::ok)
            .filter(|e| {
                let p = e.path();
                p.extension().is_some_and(|x| x == "json") && p.is_file()
            })
            .count()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lists_are_shortened() {
        let paths: Vec<String> = (0..12).map(|i| format!("f{i}")).collect();
        assert!(name_some(&paths).ends_with("f9 and 2 more"));
        assert_eq!(name_some(&paths[..2]), "f0, f1");
    }
}
