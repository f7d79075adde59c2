//! The listing of a submitted `submission.tar.gz`: names, sizes and types of its entries, read by
//! the judge's own walker ([`crate::judge::archive::walk`]: the same formats, entry types and
//! extension-header handling) under the bounds below, so that an archive bomb or a huge name
//! stops the listing, not the server (docs/visualizer.md#submission-diffs).

use std::io::BufReader;
use std::ops::ControlFlow;
use std::path::Path;

use serde::Serialize;

use super::error::VizError;
use crate::judge::archive::{self as judge, ArchiveError, Limit, Limits};

/// Most entries listed.
pub const MAX_ENTRIES: usize = 2000;
/// Most bytes decompressed (the tar stream, headers and padding included) before the listing
/// stops.
pub const MAX_WALKED: u64 = 512 << 20;
/// Most bytes read from the archive file itself.
pub const MAX_COMPRESSED: u64 = 512 << 20;
/// Longest name (or link target) in bytes; a longer one stops the listing.
pub const MAX_NAME: usize = 4096;
/// Largest extension header (GNU long name or link, pax records); a larger one stops the listing.
pub const MAX_EXTENSION: u64 = 64 << 10;
/// Bytes of entry names listed in all (a name may be 4 KiB of control characters, each six
/// bytes in JSON).
pub const MAX_NAME_BYTES: usize = 256 << 10;
/// Time reading one archive may take (a gzip stream of empty members is slow and small).
pub const READ_TIME: std::time::Duration = std::time::Duration::from_secs(10);

/// The bounds of the listing, in the judge's terms.
fn limits() -> Limits {
    Limits {
        max_entries: MAX_ENTRIES,
        max_total_bytes: MAX_WALKED,
        max_file_bytes: MAX_WALKED,
        max_compressed_bytes: MAX_COMPRESSED,
        max_path_len: MAX_NAME,
        max_depth: usize::MAX,
        max_header_bytes: MAX_EXTENSION,
    }
}

/// One entry of an archive.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    pub name: String,
    pub size: u64,
    /// file, dir, symlink, hardlink or other.
    pub kind: &'static str,
}

/// The listing of an archive.
#[derive(Debug, Clone, Serialize)]
pub struct Listing {
    pub entries: Vec<Entry>,
    /// Why the listing stopped early, if it did.
    pub cut: Option<String>,
}

/// Lists the archive at `path` (gzip'd tar in one or more members, or plain tar, as the judge
/// reads it).
///
/// # Errors
/// [`VizError::Malformed`] when the file is no archive at all; a failure after some entries is
/// a `cut` of the listing instead.
pub fn list(path: &Path) -> Result<Listing, VizError> {
    let (file, _) = super::files::open(path)?;
    let mut entries = Vec::new();
    let (mut more, mut name_bytes) = (None, 0usize);
    let input = BufReader::new(super::files::Deadline::new(file, READ_TIME));
    let walked = judge::walk(input, &limits(), |visit| {
        name_bytes += visit.path.len();
        if entries.len() >= MAX_ENTRIES {
            more = Some(format!("more than {MAX_ENTRIES} entries"));
            return Ok(ControlFlow::Break(()));
        }
        if name_bytes > MAX_NAME_BYTES {
            more = Some(format!("names beyond {MAX_NAME_BYTES} bytes in all"));
            return Ok(ControlFlow::Break(()));
        }
        entries.push(Entry {
            name: String::from_utf8_lossy(visit.path).into_owned(),
            size: visit.size,
            kind: visit.kind.as_str(),
        });
        Ok(ControlFlow::Continue(()))
    });
    let cut = match walked {
        Ok(()) => more,
        Err(e @ ArchiveError::NotAnArchive(_)) if entries.is_empty() => {
            return Err(VizError::Malformed {
                path: path.to_owned(),
                error: e.to_string(),
            });
        }
        Err(e) => Some(cut_reason(&e)),
    };
    Ok(Listing { entries, cut })
}

/// Why a walk stopped, in a viewer's words.
pub(super) fn cut_reason(error: &ArchiveError) -> String {
    match error {
        ArchiveError::TooLarge {
            limit: Limit::TotalBytes,
            max,
        } => format!("more than {max} bytes decompressed"),
        ArchiveError::TooLarge {
            limit: Limit::Entries,
            max,
        } => format!("more than {max} entries"),
        ArchiveError::TooLarge { limit, max } => format!("the archive's {limit} exceeds {max}"),
        other => format!("the archive is damaged or unsupported: {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_entries_and_reports_damage() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("a.tar.gz");
        let gz = flate2::write::GzEncoder::new(
            std::fs::File::create(&path).unwrap(),
            flate2::Compression::default(),
        );
        let mut builder = tar::Builder::new(gz);
        let mut header = tar::Header::new_gnu();
        header.set_size(5);
        header.set_cksum();
        builder
            .append_data(&mut header, "src/a.py", &b"hello"[..])
            .unwrap();
        builder.into_inner().unwrap().finish().unwrap();
        let listing = list(&path).unwrap();
        assert_eq!(listing.entries.len(), 1);
        assert_eq!(listing.entries[0].name, "src/a.py");
        assert_eq!(listing.entries[0].size, 5);
        assert!(listing.cut.is_none());
        std::fs::write(&path, b"not an archive").unwrap();
        let damaged = list(&path);
        assert!(damaged.is_err() || damaged.unwrap().cut.is_some());
    }
}
