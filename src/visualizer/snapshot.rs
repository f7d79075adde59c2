//! The files of a submitted `submission.tar.gz`, read in memory for a diff: the archive was made
//! by the agent, so it is read as hostile, streaming and bounded (entries, bytes decompressed,
//! bytes kept, size per file); absolute paths, `..`, links and devices are skipped with a warning,
//! caches are left out, and nothing is written to disk (docs/visualizer.md#submission-diffs).

use std::collections::BTreeMap;
use std::io::{self, Read};
use std::path::Path;

use sha2::{Digest, Sha256};

use super::error::VizError;

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

/// One regular file of an archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    Text(String),
    /// Binary (by extension, a NUL byte or invalid UTF-8), compared by digest; a file larger
    /// than [`MAX_FILE`] is not read at all (no digest) and never counts as unchanged.
    Binary {
        size: u64,
        digest: Option<[u8; 32]>,
    },
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

/// A reader that fails once more than `limit` bytes went through it.
struct Capped<R> {
    inner: R,
    read: u64,
    limit: u64,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.read > self.limit {
            return Err(io::Error::other("decompression limit reached"));
        }
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        Ok(n)
    }
}

/// The path of an entry, normalised (`./` and empty components dropped), or why it is refused.
fn entry_path(raw: &[u8]) -> Result<String, String> {
    let text = std::str::from_utf8(raw)
        .map_err(|_| format!("{:?}: not a UTF-8 path", String::from_utf8_lossy(raw)))?;
    if text.starts_with('/') {
        return Err(format!("{text}: absolute path"));
    }
    let mut parts = Vec::new();
    for part in text.split('/') {
        match part {
            "" | "." => {}
            ".." => return Err(format!("{text}: path with `..`")),
            p if p.contains('\\') || p.contains('\0') => {
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

/// Reads one file's data: as text when it fits and is text, else by size and digest.
fn content(path: &str, data: &mut impl Read, size: u64, kept: &mut u64) -> io::Result<Content> {
    if size > MAX_FILE {
        // Not read here: the archive reader skips its data (still within MAX_DECOMPRESSED).
        return Ok(Content::Binary { size, digest: None });
    }
    let mut hasher = Sha256::new();
    let keep = *kept + size <= MAX_KEPT && !is_binary_name(path);
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
    let digest: Option<[u8; 32]> = Some(hasher.finalize().into());
    if keep && total <= MAX_FILE && !bytes.contains(&0) {
        if let Ok(text) = String::from_utf8(bytes) {
            *kept += total;
            return Ok(Content::Text(text));
        }
    }
    Ok(Content::Binary {
        size: total,
        digest,
    })
}

/// Reads the `.tar.gz` at `path` (opened without following a symlink).
pub fn read(path: &Path) -> Result<Snapshot, VizError> {
    let (file, _) = super::files::open(path)?;
    let decoder = flate2::read::GzDecoder::new(io::BufReader::new(file));
    let mut capped = Capped {
        inner: decoder,
        read: 0,
        limit: MAX_DECOMPRESSED,
    };
    let mut snap = Snapshot::default();
    let mut archive = tar::Archive::new(&mut capped);
    let entries = archive.entries().map_err(|e| VizError::Malformed {
        path: path.to_owned(),
        error: e.to_string(),
    })?;
    let (mut count, mut kept, mut skipped) = (0usize, 0u64, 0usize);
    for entry in entries {
        let mut entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                snap.cut = Some(format!("the archive is damaged or too large: {e}"));
                break;
            }
        };
        count += 1;
        if count > MAX_ENTRIES {
            snap.cut = Some(format!("more than {MAX_ENTRIES} entries"));
            break;
        }
        let name = match entry_path(&entry.path_bytes()) {
            Ok(name) => name,
            Err(why) => {
                snap.warn(format!("skipped {why}"));
                continue;
            }
        };
        let kind = entry.header().entry_type();
        if kind.is_dir() || name.is_empty() {
            continue;
        }
        if !kind.is_file() {
            snap.warn(format!(
                "skipped {name}: {kind:?} entry (links and devices are not followed)"
            ));
            continue;
        }
        if is_skipped(&name) {
            skipped += 1;
            continue;
        }
        let size = entry.header().size().unwrap_or(0);
        match content(&name, &mut entry, size, &mut kept) {
            Ok(c) => {
                if let Content::Binary { size, digest: None } = &c {
                    snap.warn(format!(
                        "{name}: {size} bytes, over the {MAX_FILE} bytes compared"
                    ));
                }
                snap.files.insert(name, c);
            }
            Err(e) => {
                snap.cut = Some(format!(
                    "the archive is damaged or too large at {name}: {e}"
                ));
                break;
            }
        }
    }
    if capped.read > MAX_DECOMPRESSED {
        snap.cut = Some(format!("more than {MAX_DECOMPRESSED} bytes decompressed"));
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
        assert_eq!(text, Content::Text("print(1)\n".to_owned()));
        assert_eq!(kept, 9);
        let nul = content("a.txt", &mut &b"a\0b"[..], 3, &mut kept).unwrap();
        assert!(matches!(nul, Content::Binary { size: 3, .. }));
        let latin = content("a.txt", &mut &b"caf\xe9"[..], 4, &mut kept).unwrap();
        assert!(matches!(latin, Content::Binary { .. }));
        let png = content("x.PNG", &mut &b"plain"[..], 5, &mut kept).unwrap();
        assert!(matches!(png, Content::Binary { .. }));
        let big = vec![b'x'; usize::try_from(MAX_FILE).unwrap() + 1];
        let large = content("big.txt", &mut &big[..], MAX_FILE + 1, &mut kept).unwrap();
        assert!(matches!(large, Content::Binary { size, digest: None } if size == MAX_FILE + 1));
    }
}
