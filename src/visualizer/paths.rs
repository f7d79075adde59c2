//! The runs directory as the only root the visualizer reads under: names from URLs are checked
//! one segment at a time, and every resolved path must stay inside the root after symlinks are
//! followed (docs/visualizer.md#safety).

use std::path::{Path, PathBuf};

use super::error::VizError;

/// Longest name of a run, task or round taken from a URL.
const MAX_NAME: usize = 200;

/// Whether `name` may name a run, task or round: 1 to 200 of `A-Za-z0-9._-+@=`, not starting
/// with a dot (so never `.` or `..`), no separator.
#[must_use]
pub fn is_safe_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-+@=".contains(&b))
}

/// The runs directory, canonical.
#[derive(Debug, Clone)]
pub struct Root {
    dir: PathBuf,
}

impl Root {
    /// The root at `dir` (which may not exist yet: then every lookup is "not found").
    #[must_use]
    pub fn new(dir: &Path) -> Self {
        let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_owned());
        Root { dir }
    }

    #[must_use]
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `<root>/<names…>`, checked: each name safe, the path existing and, with symlinks
    /// resolved, still inside the root.
    pub fn resolve(&self, names: &[&str]) -> Result<PathBuf, VizError> {
        if let Some(bad) = names.iter().find(|name| !is_safe_name(name)) {
            return Err(VizError::BadName((*bad).to_owned()));
        }
        // Checked one level at a time, so that a symlink out of the root is reported as such
        // even when what follows it does not exist there.
        let mut path = self.dir.clone();
        for name in names {
            path = self.contain(&path.join(name))?;
        }
        Ok(path)
    }

    /// `path` (under the root) with symlinks resolved, refused when that leaves the root.
    pub fn contain(&self, path: &Path) -> Result<PathBuf, VizError> {
        let real = path.canonicalize().map_err(|e| VizError::io(path, e))?;
        // The root may have been created (or replaced) since the server started.
        let root = self.dir.canonicalize().unwrap_or_else(|_| self.dir.clone());
        if real.starts_with(&root) {
            Ok(real)
        } else {
            Err(VizError::Outside(path.to_owned()))
        }
    }

    /// A file `name` inside the directory `dir` (already contained), checked the same way.
    pub fn file(&self, dir: &Path, name: &str) -> Result<PathBuf, VizError> {
        self.contain(&dir.join(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_refuse_separators_dots_and_odd_bytes() {
        for good in ["viz-demo", "agent-1", "text_utils", "run.2", "a+b@c=d"] {
            assert!(is_safe_name(good), "{good}");
        }
        for bad in [
            "",
            ".",
            "..",
            ".hidden",
            "a/b",
            "a\\b",
            "a b",
            "a\0b",
            "%2e%2e",
            "é",
            &"x".repeat(201),
        ] {
            assert!(!is_safe_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn symlinks_out_of_the_root_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let root_dir = tmp.path().join("runs");
        std::fs::create_dir_all(root_dir.join("r1/t1")).unwrap();
        std::fs::write(tmp.path().join("secret.txt"), "s").unwrap();
        std::os::unix::fs::symlink(tmp.path().join("secret.txt"), root_dir.join("r1/t1/leak"))
            .unwrap();
        std::os::unix::fs::symlink(tmp.path(), root_dir.join("r2")).unwrap();
        let root = Root::new(&root_dir);
        assert!(root.resolve(&["r1", "t1"]).is_ok());
        let dir = root.resolve(&["r1", "t1"]).unwrap();
        assert!(matches!(root.file(&dir, "leak"), Err(VizError::Outside(_))));
        assert!(matches!(root.resolve(&["r2"]), Err(VizError::Outside(_))));
        assert!(matches!(root.resolve(&["r9"]), Err(VizError::NotFound(_))));
        assert!(matches!(root.resolve(&[".."]), Err(VizError::BadName(_))));
    }
}
