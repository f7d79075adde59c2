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
//!   and uncompressed streams stop bombs while they stream.
//! - **Memory** does not grow with the archive (docs/security.md#bounded-reads): file data is
//!   spooled to an anonymous file and the sanitised tar is written to a file; GNU long names and
//!   pax records are read by us ([`meta`]), each bounded before its data is read.
//! - **Names the judge cannot extract** refuse the whole submission as the agent's error: a
//!   component over 255 bytes, or a non-directory where the judge keeps excluded paths below
//!   (`a` when `a/tests` is excluded).
//!
//! The walk over the entries (formats, budgets, extension headers, entry kinds) is public as
//! [`walk()`], so that the visualizer reads an archive exactly as it is graded
//! (docs/visualizer.md#submission-diffs).
//!
//! Not covered here: a symlink that already exists in the judge's skeleton is invisible on the
//! host; the caller should still check the judge's test files after extraction.

mod collect;
mod error;
mod fnmatch;
mod input;
mod limits;
mod meta;
mod output;
mod path;
mod rules;
mod walk;

#[cfg(test)]
mod tests;

use std::io::{self, Read};
use std::path::Path;

use tempfile::NamedTempFile;

pub use error::ArchiveError;
pub use fnmatch::fnmatch;
pub use limits::{Limit, Limits, MAX_NAME_COMPONENT};
pub use rules::{is_allowed, Rules};
pub use walk::{walk, EntryKind, Visit};

/// A submission reduced to what may be extracted into the judge's `cwd`.
#[derive(Debug)]
pub struct Sanitized {
    /// An uncompressed tar file of the accepted entries (a valid empty tar when there are none),
    /// for `docker cp - <container>:<cwd>`; removed when dropped.
    pub tar: NamedTempFile,
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

    /// The sanitised tar, read back (for tests and small archives).
    ///
    /// # Errors
    /// When the file cannot be read.
    pub fn tar_bytes(&self) -> io::Result<Vec<u8>> {
        std::fs::read(self.tar.path())
    }
}

/// [`sanitize_in`] with its scratch files in the system's temporary directory.
///
/// # Errors
/// As [`sanitize_in`].
pub fn sanitize(
    input: impl Read,
    rules: &Rules,
    limits: &Limits,
) -> Result<Sanitized, ArchiveError> {
    sanitize_in(input, rules, limits, &std::env::temp_dir())
}

/// Reads a gzip'd tar (or a plain tar, or nothing) as a stream and writes the sanitised tar to a
/// file in `scratch`; memory use does not depend on the archive's size.
///
/// # Errors
///
/// [`ArchiveError::NotAnArchive`] for input that is neither empty, gzip'd tar nor tar;
/// [`ArchiveError::TooLarge`] when any of `limits` is exceeded; `NameTooLong`,
/// `ReplacesExcludedDir` and `Unsupported` for archives the judge could not extract faithfully;
/// `Read`/`Corrupt`/`Write` for I/O errors and damaged archives. Rejected entries are not
/// errors: they are listed in [`Sanitized::rejected`].
pub fn sanitize_in(
    input: impl Read,
    rules: &Rules,
    limits: &Limits,
    scratch: &Path,
) -> Result<Sanitized, ArchiveError> {
    let trip = input::Trip::default();
    let spool = tempfile::tempfile_in(scratch).map_err(ArchiveError::Write)?;
    let mut collector = collect::Collector::new(rules, limits, spool);
    if let Some(stream) = input::open(input, limits, &trip)? {
        walk::each_entry(stream, limits, &trip, |entry, names| {
            collector.add(entry, names)?;
            Ok(std::ops::ControlFlow::Continue(()))
        })?;
    }
    let mut collected = collector.finish()?;
    let tar = NamedTempFile::new_in(scratch).map_err(ArchiveError::Write)?;
    let out = tar.reopen().map_err(ArchiveError::Write)?;
    let accepted = output::write(&mut collected, out)?;
    Ok(Sanitized {
        tar,
        accepted,
        rejected: collected.rejected,
    })
}
