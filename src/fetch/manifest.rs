//! `<dest>/.sforge-fetch/manifest.json`: what the last fetch wrote (path, size, SHA-256, the
//! Hub's hash), so the next fetch tells files it may update from local edits
//! (docs/fetch-tasks.md#local-edits).

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::error::{io_error, FetchError};
use super::paths::RESERVED_DIR;

/// Largest manifest read back.
const MAX_MANIFEST_BYTES: u64 = 64 << 20;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub version: u32,
    pub repo: String,
    pub revision: String,
    pub commit: String,
    pub files: BTreeMap<String, Entry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub size: u64,
    pub sha256: String,
    /// The hash the Hub listed (LFS SHA-256 or git blob id): unchanged means no download.
    pub hub_oid: String,
}

/// Where the manifest of `dest` lives.
#[must_use]
pub fn path(dest: &Path) -> PathBuf {
    dest.join(RESERVED_DIR).join("manifest.json")
}

/// The manifest of `dest`, if there is one.
pub fn load(dest: &Path) -> Result<Option<Manifest>, FetchError> {
    let file = path(dest);
    let mut text = Vec::new();
    match std::fs::File::open(&file) {
        Ok(f) => f
            .take(MAX_MANIFEST_BYTES + 1)
            .read_to_end(&mut text)
            .map_err(io_error(&file))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_error(&file)(e)),
    };
    let bad = |reason: String| FetchError::Manifest {
        path: file.clone(),
        reason,
    };
    if text.len() as u64 > MAX_MANIFEST_BYTES {
        return Err(bad("it is too large".into()));
    }
    let manifest: Manifest = serde_json::from_slice(&text).map_err(|e| bad(e.to_string()))?;
    if manifest.version != 1 {
        return Err(bad(format!("unknown version {}", manifest.version)));
    }
    if let Some(p) = manifest
        .files
        .keys()
        .find(|p| super::paths::check(p).is_err())
    {
        return Err(bad(format!("unsafe path {p:?}")));
    }
    Ok(Some(manifest))
}

/// Writes the manifest of `dest` (through a temporary file and a rename).
pub fn save(dest: &Path, manifest: &Manifest) -> Result<(), FetchError> {
    let file = path(dest);
    let dir = file.parent().expect("the manifest is inside a directory");
    std::fs::create_dir_all(dir).map_err(io_error(dir))?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(io_error(dir))?;
    let text = serde_json::to_vec_pretty(manifest).expect("a manifest serialises");
    tmp.write_all(&text).map_err(io_error(tmp.path()))?;
    tmp.persist(&file).map_err(|e| io_error(&file)(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_saved_manifest_loads_back_and_a_broken_one_is_named() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(load(dir.path()).unwrap(), None);
        let m = Manifest {
            version: 1,
            repo: "a/b".into(),
            revision: "main".into(),
            commit: "c".repeat(40),
            files: [(
                "x.json".to_owned(),
                Entry {
                    size: 1,
                    sha256: "s".into(),
                    hub_oid: "o".into(),
                },
            )]
            .into(),
        };
        save(dir.path(), &m).unwrap();
        assert_eq!(load(dir.path()).unwrap(), Some(m));
        std::fs::write(path(dir.path()), "{").unwrap();
        let err = load(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("manifest.json") && err.contains("not a valid"),
            "{err}"
        );
    }
}
