//! `/run/{run}/{task}/download`: the task directory as a `.tar.gz`, streamed with chunked
//! framing while it is built (never held in memory). Regular files and directories only;
//! symlinks and special files are skipped, never followed; files are opened with `O_NOFOLLOW`;
//! entries, bytes and depth are bounded, and a cut archive ends with a note saying what is
//! missing (docs/visualizer.md#downloads).

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use crate::http::{BodyFraming, Response};

/// Most entries (files and directories) in one download.
pub const MAX_ENTRIES: usize = 20_000;
/// Most file bytes in one download (before compression).
pub const MAX_BYTES: u64 = 2 << 30;
/// Deepest directory level walked.
pub const MAX_DEPTH: usize = 32;
/// Bytes sent per chunk.
const CHUNK: usize = 64 << 10;
/// Name of the note added to a download that was cut or left files out.
pub const NOTE_FILE: &str = "SFORGE-DOWNLOAD-NOTE.txt";

/// Writes into the response in chunks of [`CHUNK`] bytes.
struct Chunks<'r, 'a> {
    res: &'r mut Response<'a>,
    buf: Vec<u8>,
}

impl Write for Chunks<'_, '_> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.flush()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if !self.buf.is_empty() {
            self.res.write(&self.buf)?;
            self.buf.clear();
        }
        Ok(())
    }
}

/// A file's data as long as its header says: cut when it grew, padded with zeros when it shrank,
/// so the archive stays valid.
struct Exact<R> {
    inner: R,
    left: u64,
}

impl<R: Read> Read for Exact<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 {
            return Ok(0);
        }
        let want = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let mut n = self.inner.read(&mut buf[..want])?;
        if n == 0 {
            buf[..want].fill(0);
            n = want;
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// What the walk has added, and why it stopped if it did.
#[derive(Default)]
struct Walk {
    entries: usize,
    bytes: u64,
    skipped: Vec<String>,
    cut: Option<String>,
}

impl Walk {
    fn skip(&mut self, what: String) {
        if self.skipped.len() < 1000 {
            self.skipped.push(what);
        }
    }
}

fn add_dir<W: Write>(
    tar: &mut tar::Builder<W>,
    dir: &Path,
    name: &Path,
    depth: usize,
    walk: &mut Walk,
) -> io::Result<()> {
    let Ok(list) = std::fs::read_dir(dir) else {
        walk.skip(format!("{}: not readable", name.display()));
        return Ok(());
    };
    let mut children: Vec<_> = list.filter_map(Result::ok).take(MAX_ENTRIES + 1).collect();
    children.sort_by_key(std::fs::DirEntry::file_name);
    for child in children {
        if walk.cut.is_some() {
            return Ok(());
        }
        let path = child.path();
        let rel: PathBuf = name.join(child.file_name());
        // `symlink_metadata` does not follow a symlink: links are listed as skipped.
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        if walk.entries >= MAX_ENTRIES {
            walk.cut = Some(format!("more than {MAX_ENTRIES} entries"));
            return Ok(());
        }
        if meta.is_dir() {
            if depth >= MAX_DEPTH {
                walk.skip(format!("{}: deeper than {MAX_DEPTH} levels", rel.display()));
                continue;
            }
            walk.entries += 1;
            append_dir(tar, &rel, &meta)?;
            add_dir(tar, &path, &rel, depth + 1, walk)?;
        } else if meta.is_file() {
            add_file(tar, &path, &rel, walk)?;
        } else {
            let kind = if meta.file_type().is_symlink() {
                "symlink"
            } else {
                "special file"
            };
            walk.skip(format!("{}: {kind}, not followed", rel.display()));
        }
    }
    Ok(())
}

fn add_file<W: Write>(
    tar: &mut tar::Builder<W>,
    path: &Path,
    rel: &Path,
    walk: &mut Walk,
) -> io::Result<()> {
    let Ok((file, size)) = super::files::open(path) else {
        walk.skip(format!(
            "{}: swapped or unreadable, not followed",
            rel.display()
        ));
        return Ok(());
    };
    if walk.bytes + size > MAX_BYTES {
        walk.cut = Some(format!(
            "more than {MAX_BYTES} bytes of files (at {})",
            rel.display()
        ));
        return Ok(());
    }
    walk.entries += 1;
    walk.bytes += size;
    let meta = file.metadata()?;
    let mut header = tar::Header::new_gnu();
    header.set_metadata_in_mode(&meta, tar::HeaderMode::Complete);
    header.set_size(size);
    tar.append_data(
        &mut header,
        rel,
        Exact {
            inner: file,
            left: size,
        },
    )
}

/// A directory entry from metadata already taken (the path is not looked up again).
fn append_dir<W: Write>(
    tar: &mut tar::Builder<W>,
    rel: &Path,
    meta: &std::fs::Metadata,
) -> io::Result<()> {
    let mut header = tar::Header::new_gnu();
    header.set_metadata_in_mode(meta, tar::HeaderMode::Complete);
    header.set_entry_type(tar::EntryType::Directory);
    header.set_size(0);
    tar.append_data(&mut header, rel, io::empty())
}

fn note(walk: &Walk) -> String {
    use std::fmt::Write as _;
    let mut text = String::new();
    if let Some(cut) = &walk.cut {
        let _ = writeln!(
            text,
            "This download was cut: {cut}; later files are missing."
        );
    }
    if !walk.skipped.is_empty() {
        text.push_str("Not included:\n");
        for s in &walk.skipped {
            let _ = writeln!(text, "- {s}");
        }
    }
    text
}

/// Streams `dir` (the task directory, already checked) as `<task>/…` in a `.tar.gz`.
pub fn send(
    res: &mut Response<'_>,
    dir: &Path,
    task: &str,
    name: &str,
    is_head: bool,
) -> io::Result<()> {
    let mut head = super::respond::headers("application/gzip");
    head.push((
        "Content-Disposition".to_owned(),
        format!("attachment; filename=\"{}\"", name.replace('"', "")),
    ));
    if is_head {
        res.start(200, "OK", &head, BodyFraming::None)?;
        return res.end();
    }
    res.start(200, "OK", &head, BodyFraming::Chunked)?;
    let result = (|| {
        let chunks = Chunks {
            res: &mut *res,
            buf: Vec::with_capacity(CHUNK * 2),
        };
        let gz = flate2::write::GzEncoder::new(chunks, flate2::Compression::fast());
        let mut tar = tar::Builder::new(gz);
        let mut walk = Walk::default();
        walk.entries += 1;
        append_dir(&mut tar, Path::new(task), &std::fs::symlink_metadata(dir)?)?;
        add_dir(&mut tar, dir, Path::new(task), 1, &mut walk)?;
        let text = note(&walk);
        if !text.is_empty() {
            let mut header = tar::Header::new_gnu();
            header.set_mode(0o644);
            header.set_size(text.len() as u64);
            tar.append_data(
                &mut header,
                Path::new(task).join(NOTE_FILE),
                text.as_bytes(),
            )?;
        }
        let mut chunks = tar.into_inner()?.finish()?;
        chunks.flush()
    })();
    match result {
        Ok(()) => res.end(),
        Err(e) => {
            log::warn!("download of {} stopped: {e}", dir.display());
            res.abort();
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_data_keeps_the_announced_length() {
        let mut out = Vec::new();
        let grew = Exact {
            inner: &b"abcdef"[..],
            left: 3,
        };
        std::io::copy(&mut { grew }, &mut out).unwrap();
        assert_eq!(out, b"abc");
        out.clear();
        let shrank = Exact {
            inner: &b"ab"[..],
            left: 5,
        };
        std::io::copy(&mut { shrank }, &mut out).unwrap();
        assert_eq!(out, b"ab\0\0\0");
    }

    #[test]
    fn notes_say_what_is_missing() {
        let mut walk = Walk::default();
        assert!(note(&walk).is_empty());
        walk.skip("t/leak: symlink, not followed".to_owned());
        walk.cut = Some(format!("more than {MAX_ENTRIES} entries"));
        let text = note(&walk);
        assert!(text.contains("cut: more than 20000 entries") && text.contains("- t/leak"));
    }
}
