//! Adversarial submissions as `.tar.gz` archives built in memory (the judge reads them like any
//! uploaded archive).

use std::io::Write as _;

use super::attack::Entry;

#[derive(Debug, thiserror::Error)]
#[error("cannot build the archive of audit submission entry `{path}`")]
pub struct ArchiveError {
    path: String,
    #[source]
    source: std::io::Error,
}

/// The `.tar.gz` bytes of `entries` (an empty list gives an empty file: no changes).
///
/// # Errors
/// When an entry cannot be written (a name the tar format cannot hold).
pub fn build_archive(entries: &[Entry]) -> Result<Vec<u8>, ArchiveError> {
    if entries.is_empty() {
        return Ok(Vec::new());
    }
    let encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut builder = tar::Builder::new(encoder);
    for entry in entries {
        append(&mut builder, entry).map_err(|source| ArchiveError {
            path: path_of(entry).to_owned(),
            source,
        })?;
    }
    let encoder = builder.into_inner().map_err(|source| ArchiveError {
        path: String::new(),
        source,
    })?;
    let mut bytes = encoder.finish().map_err(|source| ArchiveError {
        path: String::new(),
        source,
    })?;
    bytes.flush().ok();
    Ok(bytes)
}

fn path_of(entry: &Entry) -> &str {
    match entry {
        Entry::File { path, .. } | Entry::Symlink { path, .. } | Entry::Hardlink { path, .. } => {
            path
        }
    }
}

fn append<W: std::io::Write>(builder: &mut tar::Builder<W>, entry: &Entry) -> std::io::Result<()> {
    let mut header = tar::Header::new_gnu();
    header.set_mtime(0);
    match entry {
        Entry::File {
            path,
            data,
            executable,
        } => {
            header.set_entry_type(tar::EntryType::Regular);
            header.set_mode(if *executable { 0o755 } else { 0o644 });
            header.set_size(data.len() as u64);
            builder.append_data(&mut header, path, data.as_slice())
        }
        Entry::Symlink { path, target } => {
            header.set_entry_type(tar::EntryType::Symlink);
            header.set_mode(0o777);
            header.set_size(0);
            builder.append_link(&mut header, path, target)
        }
        Entry::Hardlink { path, target } => {
            header.set_entry_type(tar::EntryType::Link);
            header.set_mode(0o644);
            header.set_size(0);
            builder.append_link(&mut header, path, target)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read as _;

    fn listing(bytes: &[u8]) -> Vec<(String, tar::EntryType, String)> {
        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(bytes));
        archive
            .entries()
            .expect("entries")
            .map(|e| {
                let mut e = e.expect("entry");
                let path = e.path().expect("path").display().to_string();
                let kind = e.header().entry_type();
                let mut body = String::new();
                if kind == tar::EntryType::Regular {
                    e.read_to_string(&mut body).expect("body");
                } else {
                    body = e
                        .link_name()
                        .expect("link")
                        .expect("target")
                        .display()
                        .to_string();
                }
                (path, kind, body)
            })
            .collect()
    }

    #[test]
    fn files_and_links_round_trip() {
        let bytes = build_archive(&[
            Entry::file("a/conftest.py", "print(1)\n"),
            Entry::Symlink {
                path: "alias".into(),
                target: "tests".into(),
            },
            Entry::Hardlink {
                path: "b.py".into(),
                target: "a/conftest.py".into(),
            },
        ])
        .expect("archive");
        let got = listing(&bytes);
        assert_eq!(
            got[0],
            (
                "a/conftest.py".into(),
                tar::EntryType::Regular,
                "print(1)\n".into()
            )
        );
        assert_eq!(
            got[1],
            ("alias".into(), tar::EntryType::Symlink, "tests".into())
        );
        assert_eq!(
            got[2],
            ("b.py".into(), tar::EntryType::Link, "a/conftest.py".into())
        );
    }

    #[test]
    fn no_entries_is_an_empty_file() {
        assert!(build_archive(&[]).expect("archive").is_empty());
    }
}
