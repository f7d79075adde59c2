//! Comparing the revision with the destination (what to download, what is current, what was
//! edited locally) and moving verified downloads into place: a new destination appears whole
//! with one rename, an existing one is updated file by file (docs/fetch-tasks.md#local-edits).

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::path::{Path, PathBuf};

use super::digest::{hash_file, Hashes};
use super::download::Staging;
use super::error::{io_error, FetchError};
use super::listing::RemoteFile;
use super::manifest::{self, Entry, Manifest};

/// What a fetch will change.
#[derive(Debug, Default)]
pub struct Plan {
    /// Files to download and write.
    pub fetch: Vec<RemoteFile>,
    /// Files already as the revision has them, with their SHA-256.
    pub current: Vec<(RemoteFile, String)>,
    /// Files an earlier fetch wrote that the revision no longer has.
    pub remove: Vec<String>,
    /// Local files that differ from both the revision and the last fetch (edited, or never
    /// fetched); `fetch` or `remove` would replace them.
    pub conflicts: Vec<String>,
    /// Paths (listed, or to be removed) where the destination has a directory or a symbolic
    /// link, or a path through one: never written or removed, even with --force.
    pub blocked: Vec<String>,
}

/// Compares `remote` with `dest` and its manifest `old`.
pub fn plan(
    dest: &Path,
    old: Option<&Manifest>,
    remote: &[RemoteFile],
) -> Result<Plan, FetchError> {
    let mut plan = Plan::default();
    let empty = BTreeMap::new();
    let old_files = old.map_or(&empty, |m| &m.files);
    for file in remote {
        match local_state(dest, &file.path)? {
            Local::Missing => plan.fetch.push(file.clone()),
            Local::Blocked => plan.blocked.push(file.path.clone()),
            Local::File { hashes, size } => {
                let sha256 = hashes.sha256.clone();
                if size == file.size && hashes.check(file).is_ok() {
                    plan.current.push((file.clone(), sha256));
                } else {
                    if old_files.get(&file.path).is_none_or(|e| e.sha256 != sha256) {
                        plan.conflicts.push(file.path.clone());
                    }
                    plan.fetch.push(file.clone());
                }
            }
        }
    }
    let listed: std::collections::HashSet<&str> = remote.iter().map(|f| f.path.as_str()).collect();
    for (path, entry) in old_files {
        if listed.contains(path.as_str()) {
            continue;
        }
        match local_state(dest, path)? {
            Local::Missing => {}
            Local::File { hashes, .. } if hashes.sha256 == entry.sha256 => {
                plan.remove.push(path.clone());
            }
            Local::Blocked => plan.blocked.push(path.clone()),
            Local::File { .. } => {
                plan.conflicts.push(path.clone());
                plan.remove.push(path.clone());
            }
        }
    }
    Ok(plan)
}

enum Local {
    Missing,
    /// A directory, a symbolic link, or under one: never written through.
    Blocked,
    /// A regular file: its hashes (read once) and its size.
    File {
        hashes: Hashes,
        size: u64,
    },
}

fn local_state(dest: &Path, rel: &str) -> Result<Local, FetchError> {
    let mut at = dest.to_path_buf();
    let parts: Vec<&str> = rel.split('/').collect();
    for (i, part) in parts.iter().enumerate() {
        at.push(part);
        let meta = match fs::symlink_metadata(&at) {
            Ok(meta) => meta,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Local::Missing),
            Err(e) => return Err(io_error(&at)(e)),
        };
        let last = i + 1 == parts.len();
        if meta.file_type().is_symlink() || (last && !meta.is_file()) || (!last && !meta.is_dir()) {
            return Ok(Local::Blocked);
        }
        if last {
            let hashes = hash_file(&at, meta.len())?;
            return Ok(Local::File {
                hashes,
                size: meta.len(),
            });
        }
    }
    Ok(Local::Missing)
}

/// Moves the downloads of `plan` into `dest`, removes what the revision dropped, and records
/// `manifest` there.
pub fn apply(
    dest: &Path,
    staging: &Staging,
    plan: &Plan,
    manifest: &Manifest,
) -> Result<(), FetchError> {
    let mut uses: HashMap<&str, usize> = HashMap::new();
    for file in &plan.fetch {
        *uses.entry(file.key()).or_default() += 1;
    }
    let fresh = !dest.exists();
    let root = if fresh {
        let tree = staging.tree();
        if tree.exists() {
            fs::remove_dir_all(&tree).map_err(io_error(&tree))?;
        }
        tree
    } else {
        dest.to_path_buf()
    };
    for file in &plan.fetch {
        let target = root.join(&file.path);
        let left = uses.get_mut(file.key()).expect("counted above");
        *left -= 1;
        place(&staging.object(file), &target, *left == 0)?;
    }
    if fresh {
        manifest::save(&root, manifest)?;
        if let Some(parent) = dest.parent() {
            fs::create_dir_all(parent).map_err(io_error(parent))?;
        }
        fs::rename(&root, dest).map_err(io_error(dest))?;
        return Ok(());
    }
    for path in &plan.remove {
        let target = dest.join(path);
        match fs::remove_file(&target) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io_error(&target)(e)),
            _ => {}
        }
    }
    manifest::save(dest, manifest)
}

/// Puts `object` at `target` (replacing a file there): a rename when it is the last use of the
/// object, else a copy through a temporary file beside the target.
fn place(object: &Path, target: &Path, last_use: bool) -> Result<(), FetchError> {
    let parent = target.parent().expect("a target is inside the destination");
    fs::create_dir_all(parent).map_err(io_error(parent))?;
    if last_use && fs::rename(object, target).is_ok() {
        return Ok(());
    }
    // Not the last use, or another file system: copy beside the target, then rename.
    let tmp: PathBuf = parent.join(format!(
        ".{}.sforge-tmp",
        target.file_name().unwrap_or_default().to_string_lossy()
    ));
    fs::copy(object, &tmp).map_err(io_error(&tmp))?;
    fs::rename(&tmp, target).map_err(io_error(target))?;
    Ok(())
}

/// The manifest after a fetch: every listed file with its SHA-256.
#[must_use]
pub fn new_manifest(
    repo: &str,
    revision: &str,
    commit: &str,
    files: &[(RemoteFile, String)],
) -> Manifest {
    Manifest {
        version: 1,
        repo: repo.to_owned(),
        revision: revision.to_owned(),
        commit: commit.to_owned(),
        files: files
            .iter()
            .map(|(f, sha256)| {
                let entry = Entry {
                    size: f.size,
                    sha256: sha256.clone(),
                    hub_oid: f.key().to_owned(),
                };
                (f.path.clone(), entry)
            })
            .collect(),
    }
}
