//! The files of a submitted `submission.tar.gz`, read in memory for a diff: the archive was made
//! by the agent, so it is read as hostile with the judge's walker (the same formats and entry
//! types the judge grades), streaming and bounded (entries, bytes decompressed, name and
//! extension-header sizes, bytes kept as text); absolute paths, `..`, links and devices are
//! skipped with a warning, caches are left out, every file is hashed, and nothing is written to
//! disk (docs/visualizer.md#submission-diffs).

use std::collections::BTreeMap;
use std::io::{self, Read};
use std::ops::ControlFlow;
use std::path::Path;

use sha2::{Digest, Sha256};

use super::archive;
use super::error::VizError;
use crate::judge::archive::{self as judge, ArchiveError, EntryKind, Limits};

/// Most entries read from one archive.
pub const MAX_ENTRIES: usize = 2000;
/// Most bytes decompressed from one archive (a gzip bomb stops here).
pub const MAX_DECOMPRESSED: u64 = 256 << 20;
/// Most bytes of one file kept as text; larger files are compared by digest only.
pub const MAX_FILE: u64 = 10 << 20;
/// Most bytes of text kept from one archive.
pub const MAX_KEPT: u64 = 32 << 20;
/// Most warnings kept per archive.
const MAX_WARNINGS: usize = 50;

/// Folders whose content is never diffed (caches and dependencies).
pub const SKIPPED_DIRS: &[&str] = &[
    "__pycache__",
    ".git",
    "node_modules",
    "target",
    ".pytest_cache",
    ".mypy_cache",
    ".ruff_cache",
    ".venv",
    "venv",
    ".tox",
    ".cache",
    ".gradle",
    ".idea",
];

/// Extensions always treated as binary.
const BINARY_EXTENSIONS: &[&str] = &[
    "png", "jpg", "jpeg", "gif", "bmp", "ico", "webp", "pdf", "zip", "gz", "tgz", "tar", "bz2",
    "xz", "zst", "7z", "so", "o", "a", "dylib", "dll", "exe", "bin", "class", "jar", "pyc", "pyo",
    "whl", "npy", "npz", "pkl", "pickle", "pt", "pth", "onnx", "h5", "parquet", "sqlite", "db",
    "woff", "woff2", "ttf", "otf", "mp3", "mp4", "wav",
];

/// One regular file of an archive, with the SHA-256 of its bytes (files are equal when their
/// digests are, whatever kind each side was read as).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    Text {
        text: String,
        digest: [u8; 32],
    },
    /// Binary (by extension, a NUL byte or invalid UTF-8), over [`MAX_FILE`], or past the
    /// [`MAX_KEPT`] text budget: compared by digest only.
    Binary {
        size: u64,
        digest: [u8; 32],
    },
}

impl Content {
    /// A text file's content (its digest computed here).
    #[cfg(test)]
    #[must_use]
    pub fn text(text: String) -> Self {
        let digest = Sha256::digest(text.as_bytes()).into();
        Self::Text { text, digest }
    }

    /// The SHA-256 of the file's bytes.
    #[must_use]
    pub fn digest(&self) -> &[u8; 32] {
        match self {
            Self::Text { digest, .. } | Self::Binary { digest, .. } => digest,
        }
    }

    /// The file's size in bytes.
    #[must_use]
    pub fn size(&self) -> u64 {
        match self {
            Self::Text { text, .. } => text.len() as u64,
            Self::Binary { size, .. } => *size,
        }
    }
}

/// The files of one archive, by normalised path.
#[derive(Debug, Default)]
pub struct Snapshot {
    pub files: BTreeMap<String, Content>,
    pub warnings: Vec<String>,
    /// Why the archive was not read to its end, if it was not.
    pub cut: Option<String>,
}

impl Snapshot {
    fn warn(&mut self, message: String) {
        if self.warnings.len() < MAX_WARNINGS {
            self.warnings.push(message);
        } else if self.warnings.len() == MAX_WARNINGS {
            self.warnings.push("more warnings not shown".to_owned());
        }
    }
}

/// The path of an entry resolved as the judge resolves it (`./`, empty components and `..`
/// taken lexically), or why it is refused (absolute, leaving the archive, not UTF-8, odd).
fn entry_path(raw: &[u8]) -> Result<String, String> {
    let text = std::str::from_utf8(raw)
        .map_err(|_| format!("{:?}: not a UTF-8 path", String::from_utf8_lossy(raw)))?;
    if text.starts_with('/') {
        return Err(format!("{text}: absolute path"));
    }
    let mut parts: Vec<&str> = Vec::new();
    for part in text.split('/') {
        match part {
            "" | "." => {}
            ".." if parts.pop().is_some() => {}
            ".." => return Err(format!("{text}: leaves the archive")),
            p if p.contains('\\') || p.chars().any(char::is_control) => {
                return Err(format!("{text}: odd path"));
            }
            p => parts.push(p),
        }
    }
    Ok(parts.join("/"))
}

fn is_skipped(path: &str) -> bool {
    let mut parts = path.split('/');
    let last = parts.next_back().unwrap_or("");
    parts.any(|p| SKIPPED_DIRS.contains(&p))
        || Path::new(last)
            .extension()
            .is_some_and(|e| e == "pyc" || e == "pyo")
}

fn is_binary_name(path: &str) -> bool {
    Path::new(path)
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| BINARY_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// Reads one file's data and hashes all of it; keeps it as text when it fits the budgets and is
/// text. A file over [`MAX_FILE`] is hashed while it streams past, never kept.
fn content(path: &str, data: &mut dyn Read, size: u64, kept: &mut u64) -> io::Result<Content> {
    let mut hasher = Sha256::new();
    let keep = size <= MAX_FILE && *kept + size <= MAX_KEPT && !is_binary_name(path);
    let mut bytes = Vec::new();
    let mut buf = vec![0u8; 64 << 10];
    let mut total = 0u64;
    loop {
        let n = data.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        total += n as u64;
        if keep && total <= MAX_FILE {
            bytes.extend_from_slice(&buf[..n]);
        }
    }
    let digest: [u8; 32] = hasher.finalize().into();
    if keep && total <= MAX_FILE && !bytes.contains(&0) {
        if let Ok(text) = String::from_utf8(bytes) {
            *kept += total;
            return Ok(Content::Text { text, digest });
        }
    }
    Ok(Content::Binary {
        size: total,
        digest,
    })
}

/// The bounds of one archive read for a diff, in the judge's terms.
fn limits() -> Limits {
    Limits {
        max_entries: MAX_ENTRIES,
        max_total_bytes: MAX_DECOMPRESSED,
        max_file_bytes: MAX_DECOMPRESSED,
        max_compressed_bytes: archive::MAX_COMPRESSED,
        max_path_len: archive::MAX_NAME,
        max_depth: usize::MAX,
        max_header_bytes: archive::MAX_EXTENSION,
    }
}

/// Reads the archive at `path` (opened without following a symlink) with the judge's walker: a
/// gzip'd tar in any number of members or a plain tar. A failure part way is a `cut`, keeping
/// the files read before it.
///
/// # Errors
/// When the file cannot be opened.
pub fn read(path: &Path) -> Result<Snapshot, VizError> {
    let (file, _) = super::files::open(path)?;
    let mut snap = Snapshot::default();
    let (mut count, mut kept, mut skipped) = (0usize, 0u64, 0usize);
    let input = io::BufReader::new(super::files::Deadline::new(file, archive::READ_TIME));
    let walked = judge::walk(input, &limits(), |visit| {
        count += 1;
        if count > MAX_ENTRIES {
            snap.cut = Some(format!("more than {MAX_ENTRIES} entries"));
            return Ok(ControlFlow::Break(()));
        }
        let name = match entry_path(visit.path) {
            Ok(name) => name,
            Err(why) => {
                snap.warn(format!("skipped {why}"));
                return Ok(ControlFlow::Continue(()));
            }
        };
        // A later entry of any kind replaces an earlier one of the same name, as it does when
        // the judge extracts the archive.
        let replaced = snap.files.remove(&name).is_some();
        let shown = name.clone();
        match visit.kind {
            EntryKind::Dir => {}
            _ if name.is_empty() => {}
            EntryKind::File if is_skipped(&name) => skipped += 1,
            EntryKind::File => {
                let c = content(&name, visit.data, visit.size, &mut kept)
                    .map_err(ArchiveError::Corrupt)?;
                if c.size() > MAX_FILE {
                    snap.warn(format!(
                        "{name}: {} bytes, over the {MAX_FILE} bytes diffed as text",
                        c.size()
                    ));
                }
                snap.files.insert(name, c);
            }
            // A hard link to a file of the archive is that file's content under another name.
            EntryKind::Hardlink => {
                let target = visit.link.map(entry_path).and_then(Result::ok);
                match target.and_then(|t| snap.files.get(&t).cloned()) {
                    Some(c) => {
                        snap.files.insert(name, c);
                    }
                    None => snap.warn(format!("skipped {name}: hard link to no file read here")),
                }
            }
            kind => snap.warn(format!(
                "skipped {name}: {} entry (links and devices are not followed)",
                kind.as_str()
            )),
        }
        if replaced && !snap.files.contains_key(&shown) {
            snap.warn(format!(
                "{shown}: replaced by a later {} entry",
                visit.kind.as_str()
            ));
        }
        Ok(ControlFlow::Continue(()))
    });
    if let Err(e) = walked {
        snap.cut = Some(archive::cut_reason(&e));
    }
    if skipped > 0 {
        snap.warn(format!(
            "{skipped} file(s) in caches ({}) not compared",
            SKIPPED_DIRS.join(", ")
        ));
    }
    Ok(snap)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_normalised_or_refused() {
        assert_eq!(entry_path(b"./src/a.py").unwrap(), "src/a.py");
        assert_eq!(entry_path(b"a//b").unwrap(), "a/b");
        assert!(entry_path(b"/etc/passwd").is_err());
        assert!(entry_path(b"a/../../x").is_err());
        assert!(entry_path(b"\xff").is_err());
        assert!(is_skipped("pkg/__pycache__/m.cpython-311.pyc"));
        assert!(is_skipped("node_modules/x/index.js"));
        assert!(is_skipped("m.pyc"));
        assert!(!is_skipped("src/target.py"));
    }

    #[test]
    fn text_binary_and_large_files_are_told_apart() {
        let mut kept = 0;
        let text = content("a.py", &mut &b"print(1)\n"[..], 9, &mut kept).unwrap();
        assert_eq!(text, Content::text("print(1)\n".to_owned()));
        assert_eq!(kept, 9);
        let nul = content("a.txt", &mut &b"a\0b"[..], 3, &mut kept).unwrap();
        assert!(matches!(nul, Content::Binary { size: 3, .. }));
        let latin = content("a.txt", &mut &b"caf\xe9"[..], 4, &mut kept).unwrap();
        assert!(matches!(latin, Content::Binary { .. }));
        let png = content("x.PNG", &mut &b"plain"[..], 5, &mut kept).unwrap();
        assert!(matches!(png, Content::Binary { .. }));
        let big = vec![b'x'; usize::try_from(MAX_FILE).unwrap() + 1];
        let large = content("big.txt", &mut &big[..], MAX_FILE + 1, &mut kept).unwrap();
        let digest: [u8; 32] = Sha256::digest(&big).into();
        assert_eq!(
            large,
            Content::Binary {
                size: MAX_FILE + 1,
                digest
            }
        );
    }
}
