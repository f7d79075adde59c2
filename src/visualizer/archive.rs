//! The listing of a submitted `submission.tar.gz`: names, sizes and types of its entries, bounded
//! in entries and in the bytes walked, so that an archive bomb stops the listing, not the server.

use std::path::Path;

use serde::Serialize;

use super::error::VizError;

/// Most entries listed.
pub const MAX_ENTRIES: usize = 2000;
/// Most archive data walked (entry sizes summed) before the listing stops.
pub const MAX_WALKED: u64 = 512 << 20;

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

/// Lists the `.tar.gz` archive at `path`.
pub fn list(path: &Path) -> Result<Listing, VizError> {
    let (file, _) = super::files::open(path)?;
    let mut archive =
        tar::Archive::new(flate2::read::GzDecoder::new(std::io::BufReader::new(file)));
    let bad = |e: std::io::Error| VizError::Malformed {
        path: path.to_owned(),
        error: e.to_string(),
    };
    let mut entries = Vec::new();
    let mut walked = 0u64;
    let mut cut = None;
    for entry in archive.entries().map_err(bad)? {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                cut = Some(format!("the archive is damaged: {e}"));
                break;
            }
        };
        if entries.len() >= MAX_ENTRIES {
            cut = Some(format!("more than {MAX_ENTRIES} entries"));
            break;
        }
        let size = entry.header().size().unwrap_or(0);
        walked = walked.saturating_add(size);
        let kind = match entry.header().entry_type() {
            t if t.is_file() => "file",
            t if t.is_dir() => "dir",
            t if t.is_symlink() => "symlink",
            t if t.is_hard_link() => "hardlink",
            _ => "other",
        };
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        entries.push(Entry { name, size, kind });
        if walked > MAX_WALKED {
            cut = Some(format!("more than {MAX_WALKED} bytes of content"));
            break;
        }
    }
    Ok(Listing { entries, cut })
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
