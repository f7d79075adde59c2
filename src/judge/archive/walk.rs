//! One walk over a submission's entries, shared by the judge's sanitiser and the visualizer
//! (docs/security.md#archives, docs/visualizer.md#submission-diffs): the same formats (gzip with
//! any number of members, plain tar, empty) and byte budgets as [`super::sanitize`], raw tar
//! reading with extension headers bounded by [`Limits::max_header_bytes`], and entry types
//! classified as the judge extracts them (a `Continuous` entry is a regular file).

use std::io::Read;
use std::ops::ControlFlow;

use tar::EntryType;

use super::error::ArchiveError;
use super::input::{self, Trip};
use super::limits::{Limit, Limits};
use super::meta::{self, Names};

/// What an entry is, as the judge would extract it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    /// A regular file, a `Continuous` (contiguous) file, or an old-style regular entry.
    File,
    /// A directory, or an old-style (V7) regular entry whose name ends with `/`.
    Dir,
    Symlink,
    Hardlink,
    /// Devices, FIFOs, sparse files and unknown types (the judge rejects them).
    Other,
}

impl EntryKind {
    /// `file`, `dir`, `symlink`, `hardlink` or `other`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::File => "file",
            Self::Dir => "dir",
            Self::Symlink => "symlink",
            Self::Hardlink => "hardlink",
            Self::Other => "other",
        }
    }

    fn of(kind: EntryType, path: &[u8]) -> Self {
        match kind {
            EntryType::Regular | EntryType::Continuous if path.ends_with(b"/") => Self::Dir,
            EntryType::Regular | EntryType::Continuous => Self::File,
            EntryType::Directory => Self::Dir,
            EntryType::Symlink => Self::Symlink,
            EntryType::Link => Self::Hardlink,
            _ => Self::Other,
        }
    }
}

/// One real entry of the archive (extension headers already applied).
pub struct Visit<'e> {
    /// The name as stored (raw bytes, at most [`Limits::max_path_len`]).
    pub path: &'e [u8],
    /// The link target of a symlink or hard link (raw bytes, bounded like `path`).
    pub link: Option<&'e [u8]>,
    pub kind: EntryKind,
    /// Size declared in the header: the bytes `data` yields.
    pub size: u64,
    pub mode: u32,
    /// The entry's data; what the visitor leaves unread is skipped (still within the budgets).
    pub data: &'e mut dyn Read,
}

/// Walks the submission `input` (gzip'd tar, plain tar or empty), calling `visit` for each real
/// entry in archive order until it answers `Break`. Names longer than `limits.max_path_len` stop
/// the walk with [`ArchiveError::TooLarge`], as the judge refuses them.
///
/// # Errors
///
/// As [`super::sanitize`] for the format and the budgets (`NotAnArchive`, `TooLarge`, `Corrupt`,
/// `Unsupported`), and whatever `visit` returns. An error after some entries were visited leaves
/// the visitor with what it saw: callers showing an archive keep it and report the error as a cut.
pub fn walk(
    input: impl Read,
    limits: &Limits,
    mut visit: impl FnMut(Visit<'_>) -> Result<ControlFlow<()>, ArchiveError>,
) -> Result<(), ArchiveError> {
    let trip = Trip::default();
    let Some(stream) = input::open(input, limits, &trip)? else {
        return Ok(());
    };
    each_entry(stream, limits, &trip, |entry, names| {
        let link_len = names.link.as_ref().map_or(0, Vec::len);
        if names.path.len().max(link_len) > limits.max_path_len {
            return Err(ArchiveError::TooLarge {
                limit: Limit::PathLength,
                max: limits.max_path_len as u64,
            });
        }
        let header = entry.header();
        let (kind, mode) = (header.entry_type(), header.mode().unwrap_or(0));
        visit(Visit {
            path: &names.path,
            link: names.link.as_deref(),
            kind: EntryKind::of(kind, &names.path),
            size: entry.size(),
            mode,
            data: entry,
        })
    })
}

/// Feeds every real entry of the tar `stream` to `visit` with its names, applying extension
/// headers ourselves (the tar crate's raw mode) so that none is read into memory unbounded.
pub(super) fn each_entry<R: Read>(
    stream: R,
    limits: &Limits,
    trip: &Trip,
    mut visit: impl FnMut(&mut tar::Entry<'_, R>, &Names) -> Result<ControlFlow<()>, ArchiveError>,
) -> Result<(), ArchiveError> {
    let mut archive = tar::Archive::new(stream);
    let entries = archive
        .entries()
        .map_err(|e| read_failure(e, trip, true))?
        .raw(true);
    let mut pending = meta::Pending::default();
    for (index, entry) in entries.enumerate() {
        // Extension headers are not entries; at most three of them describe one.
        if index / 4 > limits.max_entries {
            return Err(ArchiveError::TooLarge {
                limit: Limit::Entries,
                max: limits.max_entries as u64,
            });
        }
        let mut entry = entry.map_err(|e| read_failure(e, trip, index == 0))?;
        let fail = |e: ArchiveError| trip.error().unwrap_or(e);
        if pending.absorb(&mut entry, limits).map_err(fail)? {
            continue;
        }
        if is_extended_sparse(entry.header()) {
            return Err(ArchiveError::Unsupported(
                "GNU sparse files with extended headers",
            ));
        }
        let names = pending.apply(&entry).map_err(fail)?;
        if visit(&mut entry, &names).map_err(fail)?.is_break() {
            return Ok(());
        }
    }
    if pending.is_empty() {
        Ok(())
    } else {
        Err(ArchiveError::Unsupported(
            "extension headers at the end describe no entry",
        ))
    }
}

/// A GNU sparse header followed by extension blocks, which raw reading would take for entries.
fn is_extended_sparse(header: &tar::Header) -> bool {
    header.entry_type() == tar::EntryType::GNUSparse
        && header.as_gnu().is_some_and(tar::GnuHeader::is_extended)
}

/// A read error becomes the exceeded limit if a budget ran out; on the first header it means the
/// data is not a tar archive at all.
fn read_failure(error: std::io::Error, trip: &Trip, first: bool) -> ArchiveError {
    match trip.error() {
        Some(too_large) => too_large,
        None if first => ArchiveError::NotAnArchive(format!("no tar header found ({error})")),
        None => ArchiveError::Corrupt(error),
    }
}
