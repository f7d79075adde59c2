//! Downloads into the staging directory beside the destination: `parts/<hash>.part` grows
//! (resumed with `Range` after an interruption) until it has the listed size and hash, then
//! becomes `objects/<hash>` (docs/fetch-tasks.md#resume).

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use super::digest::Digests;
use super::error::{io_error, FetchError};
use super::hub::Hub;
use super::listing::RemoteFile;

/// `<parent>/.<name>.sforge-fetch`: kept between runs while a fetch is unfinished.
#[derive(Debug, Clone)]
pub struct Staging {
    pub root: PathBuf,
}

impl Staging {
    #[must_use]
    pub fn for_dest(dest: &Path) -> Self {
        let name = dest
            .file_name()
            .map_or_else(|| "tasks".into(), |n| n.to_string_lossy().into_owned());
        let parent = dest.parent().unwrap_or(dest);
        Staging {
            root: parent.join(format!(".{name}.sforge-fetch")),
        }
    }

    /// Creates the directory and locks it for this process (released when the returned file is
    /// dropped, or the process ends): a second fetch into the same destination stops.
    pub fn create(&self) -> Result<File, FetchError> {
        for dir in [self.parts(), self.objects()] {
            fs::create_dir_all(&dir).map_err(io_error(&dir))?;
        }
        let path = self.root.join("lock");
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(io_error(&path))?;
        match lock.try_lock() {
            Ok(()) => Ok(lock),
            Err(fs::TryLockError::WouldBlock) => Err(FetchError::Busy(self.root.clone())),
            Err(fs::TryLockError::Error(e)) => Err(io_error(&path)(e)),
        }
    }

    fn parts(&self) -> PathBuf {
        self.root.join("parts")
    }

    fn objects(&self) -> PathBuf {
        self.root.join("objects")
    }

    /// The verified download of `file`.
    #[must_use]
    pub fn object(&self, file: &RemoteFile) -> PathBuf {
        self.objects().join(file.key())
    }

    fn part(&self, file: &RemoteFile) -> PathBuf {
        self.parts().join(format!("{}.part", file.key()))
    }

    /// The directory a new destination is assembled in before it is renamed into place.
    #[must_use]
    pub fn tree(&self) -> PathBuf {
        self.root.join("tree")
    }

    pub fn remove(&self) {
        if let Err(e) = fs::remove_dir_all(&self.root) {
            if e.kind() != std::io::ErrorKind::NotFound {
                log::warn!("cannot remove {}: {e}", self.root.display());
            }
        }
    }
}

/// How a download went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Already downloaded by an earlier, interrupted fetch.
    Staged,
    /// Downloaded, continuing from this many bytes (0: from the start).
    Downloaded { resumed_from: u64 },
}

/// Makes `staging.object(file)` hold `file`'s verified content; returns its SHA-256.
/// `report` gets a line when a download resumes and every 64 MiB of a large one.
pub fn fetch(
    hub: &Hub,
    commit: &str,
    file: &RemoteFile,
    staging: &Staging,
    report: &mut dyn FnMut(String),
) -> Result<(String, Outcome), FetchError> {
    let object = staging.object(file);
    if object.is_file() {
        let mut digests = Digests::new(file.size);
        digests.feed_file(&object)?;
        if let Ok(sha256) = digests.verify(file) {
            return Ok((sha256, Outcome::Staged));
        }
        fs::remove_file(&object).map_err(io_error(&object))?;
    }
    let part = staging.part(file);
    let mut have = fs::metadata(&part).map_or(0, |m| m.len());
    if have > file.size {
        have = 0;
    }
    let mut digests = Digests::new(file.size);
    if have > 0 {
        digests.feed_file(&part)?;
    }
    let resumed_from = if have < file.size {
        let fetch = Fetch {
            hub,
            commit,
            file,
            part: &part,
        };
        fetch.receive(have, &mut digests, report)?
    } else {
        // An empty file (or a complete part): nothing to ask for, but the hashes are checked.
        OpenOptions::new()
            .create(true)
            .append(true)
            .open(&part)
            .map_err(io_error(&part))?;
        have
    };
    match digests.verify(file) {
        Ok(sha256) => {
            fs::rename(&part, &object).map_err(io_error(&object))?;
            Ok((sha256, Outcome::Downloaded { resumed_from }))
        }
        Err(e) => {
            let _ = fs::remove_file(&part);
            Err(e)
        }
    }
}

/// One file's download into its part.
struct Fetch<'a> {
    hub: &'a Hub,
    commit: &'a str,
    file: &'a RemoteFile,
    part: &'a Path,
}

impl Fetch<'_> {
    /// Appends the rest of the file (from byte `have`) to the part; returns where it really
    /// started (0 when the Hub ignored the range).
    fn receive(
        &self,
        have: u64,
        digests: &mut Digests,
        report: &mut dyn FnMut(String),
    ) -> Result<u64, FetchError> {
        let (file, part) = (self.file, self.part);
        let range = format!("bytes={have}-");
        let headers: Vec<(&str, &str)> = if have > 0 {
            vec![("Range", range.as_str())]
        } else {
            Vec::new()
        };
        let reply = self
            .hub
            .get(self.hub.resolve_url(self.commit, &file.path), &headers)?;
        check_first_hop(file, self.commit, &reply.first)?;
        let response = reply.response;
        let start = self.start_of(&response, have)?;
        if start == 0 && have > 0 {
            *digests = Digests::new(file.size);
        }
        if start > 0 {
            report(format!("  resumed at {}", super::bytes::human_bytes(start)));
        }
        let remaining = file.size - start;
        let length = response.header("Content-Length").map(str::trim);
        if length
            .and_then(|l| l.parse::<u64>().ok())
            .is_some_and(|n| n > remaining)
        {
            let _ = fs::remove_file(part);
            return Err(self.oversized());
        }
        let mut out = OpenOptions::new()
            .create(true)
            .append(start > 0)
            .write(true)
            .truncate(start == 0)
            .open(part)
            .map_err(io_error(part))?;
        let mut body = response.into_reader().take(remaining + 1);
        let mut sink = Sink {
            out: &mut out,
            digests,
            report,
            start,
            total: file.size,
        };
        let got = sink.copy(&mut body, remaining);
        out.sync_all().map_err(io_error(part))?;
        drop(out);
        self.settle(got, start, remaining)
    }

    /// What the copy's result means: done, oversized (the part is discarded) or cut short
    /// (the part is kept for resuming).
    fn settle(
        &self,
        got: Result<u64, Interrupted>,
        start: u64,
        remaining: u64,
    ) -> Result<u64, FetchError> {
        let (file, part) = (self.file, self.part);
        match got {
            Ok(n) if n > remaining => {
                let _ = fs::remove_file(part);
                Err(self.oversized())
            }
            Ok(n) if n < remaining => Err(truncated(file, start + n, "the connection closed")),
            Ok(_) => Ok(start),
            Err(Interrupted::Read(n, e)) => Err(truncated(file, start + n, &e.to_string())),
            Err(Interrupted::Write(e)) => Err(FetchError::Io {
                path: part.to_owned(),
                source: e,
            }),
        }
    }

    /// Where the body starts: `have` for a 206 with the matching `Content-Range`, 0 for a 200.
    fn start_of(&self, response: &ureq::Response, have: u64) -> Result<u64, FetchError> {
        if response.status() != 206 {
            return Ok(0);
        }
        let got = response.header("Content-Range").unwrap_or("");
        if got.starts_with(&format!("bytes {have}-")) {
            Ok(have)
        } else {
            Err(FetchError::BadRange {
                path: self.file.path.clone(),
                range: super::hub::printable(got),
            })
        }
    }

    fn oversized(&self) -> FetchError {
        FetchError::Oversized {
            path: self.file.path.clone(),
            expected: self.file.size,
        }
    }
}

enum Interrupted {
    Read(u64, std::io::Error),
    Write(std::io::Error),
}

/// Where a body goes: the part file and the hashes, with a progress line every 64 MiB.
struct Sink<'a> {
    out: &'a mut File,
    digests: &'a mut Digests,
    report: &'a mut dyn FnMut(String),
    start: u64,
    total: u64,
}

impl Sink<'_> {
    /// Copies until EOF, hashing and counting; at most `remaining + 1` bytes arrive (the reader
    /// is bounded), and only the first `remaining` are written.
    fn copy(&mut self, body: &mut impl Read, remaining: u64) -> Result<u64, Interrupted> {
        const STEP: u64 = 64 << 20;
        let mut buf = vec![0u8; 64 * 1024];
        let mut n = 0u64;
        loop {
            let read = match body.read(&mut buf) {
                Ok(0) => return Ok(n),
                Ok(read) => read,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Interrupted::Read(n, e)),
            };
            let keep =
                usize::try_from((remaining - n.min(remaining)).min(read as u64)).unwrap_or(read);
            if keep > 0 {
                self.out
                    .write_all(&buf[..keep])
                    .map_err(Interrupted::Write)?;
                self.digests.update(&buf[..keep]);
            }
            if (n + read as u64) / STEP > n / STEP && n + (read as u64) < remaining {
                (self.report)(format!(
                    "  {} of {}",
                    super::bytes::human_bytes(self.start + n + read as u64),
                    super::bytes::human_bytes(self.total)
                ));
            }
            n += read as u64;
        }
    }
}

/// The Hub's own headers must agree with its listing.
fn check_first_hop(
    file: &RemoteFile,
    commit: &str,
    first: &super::hub::FirstHop,
) -> Result<(), FetchError> {
    if let Some(served) = first.commit.as_deref().filter(|c| *c != commit) {
        return Err(FetchError::CommitMismatch {
            path: file.path.clone(),
            served: super::hub::printable(served),
            expected: commit.to_owned(),
        });
    }
    let listed = file
        .sha256
        .as_deref()
        .or(file.git_oid.as_deref())
        .unwrap_or("");
    if let Some(etag) = first.etag.as_deref() {
        let looks_like_hash =
            etag.len() == listed.len() && etag.bytes().all(|b| b.is_ascii_hexdigit());
        if looks_like_hash && !etag.eq_ignore_ascii_case(listed) {
            return Err(FetchError::HashMismatch {
                path: file.path.clone(),
                algorithm: "ETag",
                expected: listed.to_owned(),
                actual: super::hub::printable(etag),
            });
        }
    }
    match first.size {
        Some(size) if size > file.size => Err(FetchError::Oversized {
            path: file.path.clone(),
            expected: file.size,
        }),
        _ => Ok(()),
    }
}

fn truncated(file: &RemoteFile, got: u64, reason: &str) -> FetchError {
    FetchError::Truncated {
        path: file.path.clone(),
        got,
        expected: file.size,
        reason: super::hub::printable(reason),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_staging_directory_sits_beside_the_destination_and_is_locked() {
        let dir = tempfile::tempdir().unwrap();
        let staging = Staging::for_dest(&dir.path().join("tasks"));
        assert_eq!(staging.root, dir.path().join(".tasks.sforge-fetch"));
        let held = staging.create().unwrap();
        let err = staging.create().unwrap_err().to_string();
        assert!(err.contains("another sforge fetch-tasks"), "{err}");
        drop(held);
        assert!(staging.create().is_ok());
        staging.remove();
        assert!(!staging.root.exists());
    }
}
