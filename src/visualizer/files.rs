//! Bounded reads of run files: JSON up to a size limit, the head or tail of text files, and
//! windows of large files; nothing is ever read whole when it may be large (docs/visualizer.md).

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use serde::de::DeserializeOwned;

use super::error::VizError;
use super::paths::Root;

/// Largest JSON file parsed (`report.json` with many test details stays far below it).
pub const MAX_JSON_BYTES: u64 = 8 << 20;

/// A piece of a text file.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TextPiece {
    pub text: String,
    /// Size of the whole file.
    pub total_bytes: u64,
    /// Whether part of the file is not in `text`.
    pub truncated: bool,
}

/// Opens the regular file at `path` for reading, with its size. The path comes from
/// [`super::paths::Root`] with symlinks already resolved, so a last component that is a symlink
/// now was swapped in since: it is refused (`O_NOFOLLOW`) rather than followed out of the runs
/// directory. `O_NONBLOCK` keeps a FIFO placed in a run directory from blocking the worker in
/// `open`; anything not a regular file is then refused (docs/visualizer.md#safety).
pub fn open(path: &Path) -> Result<(File, u64), VizError> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| {
            if e.raw_os_error() == Some(libc::ELOOP) {
                VizError::Outside(path.to_owned())
            } else {
                VizError::io(path, e)
            }
        })?;
    let meta = file.metadata().map_err(|e| VizError::io(path, e))?;
    if !meta.is_file() {
        return Err(VizError::NotFound(format!(
            "{} is not a file",
            path.display()
        )));
    }
    Ok((file, meta.len()))
}

/// Parses the JSON file at `path`, refusing files over [`MAX_JSON_BYTES`].
pub fn read_json<T: DeserializeOwned>(path: &Path) -> Result<T, VizError> {
    let (file, size) = open(path)?;
    if size > MAX_JSON_BYTES {
        return Err(VizError::TooLarge {
            path: path.to_owned(),
            size,
            limit: MAX_JSON_BYTES,
        });
    }
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    file.take(MAX_JSON_BYTES)
        .read_to_end(&mut bytes)
        .map_err(|e| VizError::io(path, e))?;
    serde_json::from_slice(&bytes).map_err(|e| VizError::Malformed {
        path: path.to_owned(),
        error: e.to_string(),
    })
}

/// `len` bytes of the file from `offset` (fewer at its end), as lossy UTF-8.
pub fn read_window(path: &Path, offset: u64, len: u64) -> Result<(Vec<u8>, u64), VizError> {
    let (mut file, size) = open(path)?;
    let offset = offset.min(size);
    file.seek(SeekFrom::Start(offset))
        .map_err(|e| VizError::io(path, e))?;
    let mut bytes = Vec::new();
    file.take(len)
        .read_to_end(&mut bytes)
        .map_err(|e| VizError::io(path, e))?;
    Ok((bytes, size))
}

/// The first `limit` bytes of a text file.
pub fn read_head(path: &Path, limit: u64) -> Result<TextPiece, VizError> {
    let (bytes, size) = read_window(path, 0, limit)?;
    Ok(TextPiece {
        text: String::from_utf8_lossy(&bytes).into_owned(),
        total_bytes: size,
        truncated: size > limit,
    })
}

/// The last `limit` bytes of a text file.
pub fn read_tail(path: &Path, limit: u64) -> Result<TextPiece, VizError> {
    let (_, size) = open(path)?;
    let start = size.saturating_sub(limit);
    let (bytes, size) = read_window(path, start, limit)?;
    Ok(TextPiece {
        text: String::from_utf8_lossy(&bytes).into_owned(),
        total_bytes: size,
        truncated: start > 0,
    })
}

/// The first and last `half` bytes of a text file, with a line between them saying how much
/// was left out.
pub fn read_ends(path: &Path, half: u64) -> Result<TextPiece, VizError> {
    let (_, size) = open(path)?;
    if size <= half * 2 {
        return read_head(path, half * 2);
    }
    let head = read_head(path, half)?;
    let tail = read_tail(path, half)?;
    let cut = size - 2 * half;
    Ok(TextPiece {
        text: format!(
            "{}\n[... {cut} bytes not shown ...]\n{}",
            head.text, tail.text
        ),
        total_bytes: size,
        truncated: true,
    })
}

/// Reads a JSON file that may be missing; a present but unreadable one adds a warning.
pub fn optional_json<T: serde::de::DeserializeOwned>(
    root: &Root,
    path: &Path,
    warnings: &mut Vec<String>,
) -> Option<T> {
    match root.contain(path).and_then(|path| read_json(&path)) {
        Ok(value) => Some(value),
        Err(VizError::NotFound(_)) => None,
        Err(e) => {
            warnings.push(e.to_string());
            None
        }
    }
}

/// A reader that fails once `limit` has passed since it was made: reading an archive whose
/// gzip stream is mostly empty members costs time without producing bytes any budget counts.
pub struct Deadline<R> {
    inner: R,
    until: std::time::Instant,
    limit: std::time::Duration,
}

impl<R> Deadline<R> {
    pub fn new(inner: R, limit: std::time::Duration) -> Self {
        Self {
            inner,
            until: std::time::Instant::now() + limit,
            limit,
        }
    }
}

impl<R: Read> Read for Deadline<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if std::time::Instant::now() > self.until {
            return Err(std::io::Error::other(format!(
                "reading took longer than {} s",
                self.limit.as_secs()
            )));
        }
        self.inner.read(buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_limits_and_errors_name_the_file() {
        let tmp = tempfile::tempdir().unwrap();
        let bad = tmp.path().join("bad.json");
        std::fs::write(&bad, "{\"a\": ").unwrap();
        let err = read_json::<serde_json::Value>(&bad).unwrap_err();
        assert!(matches!(err, VizError::Malformed { .. }));
        assert!(err.to_string().contains("bad.json"), "{err}");
        let big = tmp.path().join("big.json");
        let file = File::create(&big).unwrap();
        file.set_len(MAX_JSON_BYTES + 1).unwrap();
        assert!(matches!(
            read_json::<serde_json::Value>(&big),
            Err(VizError::TooLarge { .. })
        ));
        assert!(matches!(
            read_json::<serde_json::Value>(&tmp.path().join("none.json")),
            Err(VizError::NotFound(_))
        ));
    }

    #[test]
    fn fifos_and_swapped_in_symlinks_are_refused_without_blocking() {
        let tmp = tempfile::tempdir().unwrap();
        let fifo = tmp.path().join("agent_output.txt");
        let mkfifo = crate::process::Cmd::new("mkfifo").arg(fifo.to_str().unwrap());
        crate::process::Runner::run(&crate::process::RealRunner::new(), &mkfifo).unwrap();
        // A blocking open of a FIFO without a writer would hang this test.
        assert!(matches!(read_head(&fifo, 10), Err(VizError::NotFound(_))));
        let secret = tmp.path().join("secret");
        std::fs::write(&secret, "s").unwrap();
        let link = tmp.path().join("report.json");
        std::os::unix::fs::symlink(&secret, &link).unwrap();
        assert!(matches!(open(&link), Err(VizError::Outside(_))));
    }

    #[test]
    fn ends_keep_head_and_tail_of_a_large_file() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("out.txt");
        let text = format!("HEAD{}TAIL", "x".repeat(10_000));
        std::fs::write(&path, &text).unwrap();
        let piece = read_ends(&path, 100).unwrap();
        assert!(piece.truncated);
        assert!(piece.text.starts_with("HEAD") && piece.text.ends_with("TAIL"));
        assert!(piece.text.contains("bytes not shown"));
        assert!(piece.text.len() < 300);
        let tail = read_tail(&path, 4).unwrap();
        assert_eq!(tail.text, "TAIL");
        assert_eq!(tail.total_bytes, text.len() as u64);
    }
}
