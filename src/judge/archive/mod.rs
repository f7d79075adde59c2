//! Sanitises an agent's submission archive on the host, before anything reaches the judge
//! container: streams the (gzip'd) tar, keeps only safe, allowed entries, and re-packs them.
//!
//! Decisions (docs/security.md#archives, docs/compatibility.md#grading):
//! - **Names** are normalised lexically before matching (`./tests/x`, `a/../tests/x` and
//!   `tests//x` are all `tests/x`). Absolute names, names leaving the root, and names that are
//!   empty, not UTF-8, or contain NUL or control characters are rejected. The root entry (`./`)
//!   is skipped silently.
//! - **Filtering** is the reference's whitelist/blacklist ([`is_allowed`]) on normalised names,
//!   for every entry type, directories included (a `tests/` entry cannot change the mode of the
//!   judge's `tests`).
//! - **Symlinks** are kept only if their target is relative, resolves (lexically, from the link's
//!   directory) inside the root but not to the root itself, is not excluded, is not a directory
//!   holding an excluded path, and does not pass through another symlink of the archive. Targets
//!   are rewritten in canonical form (`../../x`). Nothing is accepted below an accepted symlink,
//!   and symlinks are written last, so extraction never follows one.
//! - **Hard links** are kept only if their target is a regular file accepted earlier (and not
//!   replaced later) in the same archive.
//! - Devices, FIFOs, sparse files and other special types are rejected; pax global headers are
//!   ignored.
//! - **Modes** are git-like: files 0o644, or 0o755 if any execute bit was set; directories
//!   0o755; set-id and sticky bits never survive. **Owners** are 0:0 without names, since the
//!   judge extracts and runs as root. Modification times are kept.
//! - **Duplicates**: the last entry of a name wins, as in tar extraction, except that a
//!   directory with accepted entries below it cannot be replaced by a non-directory.
//! - **Limits** ([`Limits`]) refuse the whole submission with [`ArchiveError::TooLarge`]; sizes
//!   declared in headers are checked before any data is read, and byte budgets on the compressed
//!   and uncompressed streams stop bombs while they stream (the tar crate buffers GNU long names
//!   and pax records in memory; the uncompressed budget bounds them too).
//!
//! Not covered here: a symlink that already exists in the judge's skeleton is invisible on the
//! host; the caller should still check the judge's test files after extraction.

mod collect;
mod fnmatch;
mod input;
mod output;
mod path;
mod rules;

#[cfg(test)]
mod tests;

use std::fmt;
use std::io::{self, Read};

pub use fnmatch::fnmatch;
pub use rules::{is_allowed, Rules};

/// Bounds on a submission; exceeding any refuses it as a whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Tar entries, rejected ones included.
    pub max_entries: usize,
    /// Bytes of the uncompressed tar stream (headers and padding included); also bounds the sum
    /// of sizes declared in headers.
    pub max_total_bytes: u64,
    /// Declared size of any single entry.
    pub max_file_bytes: u64,
    /// Bytes of the input as received (the caller should also cap uploads).
    pub max_compressed_bytes: u64,
    /// Bytes of a member name or link target, before normalisation.
    pub max_path_len: usize,
    /// Components of a normalised member name.
    pub max_depth: usize,
}

impl Default for Limits {
    /// 50,000 entries, 1 GiB uncompressed, 512 MiB per file, 512 MiB compressed, 4096-byte
    /// paths (Linux `PATH_MAX`), 64 levels: roomy for source trees with build outputs, yet
    /// bounded in time and host memory (the sanitised tar is held in memory).
    fn default() -> Self {
        Self {
            max_entries: 50_000,
            max_total_bytes: 1 << 30,
            max_file_bytes: 512 << 20,
            max_compressed_bytes: 512 << 20,
            max_path_len: 4096,
            max_depth: 64,
        }
    }
}

/// Which limit a submission exceeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    Entries,
    TotalBytes,
    FileBytes,
    CompressedBytes,
    PathLength,
    Depth,
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Entries => "number of entries",
            Self::TotalBytes => "uncompressed size in bytes",
            Self::FileBytes => "size of one entry in bytes",
            Self::CompressedBytes => "compressed size in bytes",
            Self::PathLength => "length of a path in bytes",
            Self::Depth => "depth of a path in components",
        })
    }
}

/// Why a submission was refused as a whole (single entries are rejected, not errors).
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("not a gzip-compressed tar archive: {0}")]
    NotAnArchive(String),
    #[error("archive refused: its {limit} exceeds the limit of {max}")]
    TooLarge { limit: Limit, max: u64 },
    // The I/O error is part of the message (not a `#[source]`): callers log `to_string()`.
    #[error("cannot read the archive: {0}")]
    Read(io::Error),
    #[error("corrupt archive: {0}")]
    Corrupt(io::Error),
    #[error("cannot write the sanitised archive: {0}")]
    Write(io::Error),
}

/// A submission reduced to what may be extracted into the judge's `cwd`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sanitized {
    /// An uncompressed tar of the accepted entries (a valid empty tar when there are none), for
    /// `docker cp - <container>:<cwd>`.
    pub tar: Vec<u8>,
    /// Normalised names in the tar, in writing order.
    pub accepted: Vec<String>,
    /// Names as found in the archive (lossy UTF-8) with the reason each was dropped.
    pub rejected: Vec<(String, String)>,
}

impl Sanitized {
    /// Whether nothing is to be extracted (the judge then grades the untouched skeleton).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.accepted.is_empty()
    }
}

/// Reads a gzip'd tar (or a plain tar, or nothing) as a stream and returns the sanitised tar.
///
/// # Errors
///
/// [`ArchiveError::NotAnArchive`] for input that is neither empty, gzip'd tar nor tar;
/// [`ArchiveError::TooLarge`] when any of `limits` is exceeded; `Read`/`Corrupt` for I/O errors
/// and damaged archives. Rejected entries are not errors: they are listed in
/// [`Sanitized::rejected`].
pub fn sanitize(
    input: impl Read,
    rules: &Rules,
    limits: &Limits,
) -> Result<Sanitized, ArchiveError> {
    let trip = input::Trip::default();
    let mut collector = collect::Collector::new(rules, limits);
    if let Some(stream) = input::open(input, limits, &trip)? {
        let mut archive = tar::Archive::new(stream);
        let entries = archive
            .entries()
            .map_err(|e| read_failure(e, &trip, true))?;
        for (index, entry) in entries.enumerate() {
            let mut entry = entry.map_err(|e| read_failure(e, &trip, index == 0))?;
            collector
                .add(&mut entry)
                .map_err(|e| trip.error().unwrap_or(e))?;
        }
    }
    let (kept, rejected) = collector.finish();
    let (tar, accepted) = output::write(&kept)?;
    Ok(Sanitized {
        tar,
        accepted,
        rejected,
    })
}

/// A read error becomes the exceeded limit if a budget ran out; on the first header it means the
/// data is not a tar archive at all.
fn read_failure(error: io::Error, trip: &input::Trip, first: bool) -> ArchiveError {
    match trip.error() {
        Some(too_large) => too_large,
        None if first => ArchiveError::NotAnArchive(format!("no tar header found ({error})")),
        None => ArchiveError::Corrupt(error),
    }
}
