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

/// Appends `entry` with its name as given: the tar crate refuses `..` and other spellings an
/// attacker uses, so short names (all of the corpus's) go into the header byte for byte.
fn append<W: std::io::Write>(builder: &mut tar::Builder<W>, entry: &Entry) -> std::io::Result<()> {
    let mut header = tar::Header::new_gnu();
    header.set_mtime(0);
    let (path, link, data): (&str, Option<&str>, &[u8]) = match entry {
        Entry::File {
            path,
            data,
            executable,
        } => {
            header.set_entry_type(tar::EntryType::Regular);
            header.set_mode(if *executable { 0o755 } else { 0o644 });
            (path, None, data)
        }
        Entry::Symlink { path, target } => {
            header.set_entry_type(tar::EntryType::Symlink);
            header.set_mode(0o777);
            (path, Some(target), &[])
        }
        Entry::Hardlink { path, target } => {
            header.set_entry_type(tar::EntryType::Link);
            header.set_mode(0o644);
            (path, Some(target), &[])
        }
    };
    header.set_size(data.len() as u64);
    if path.len() >= 100 || link.is_some_and(|l| l.len() >= 100) {
        // Long names need GNU extension records; the tar crate writes those (and checks them).
        return match link {
            Some(link) => builder.append_link(&mut header, path, link),
            None => builder.append_data(&mut header, path, data),
        };
    }
    raw_name(&mut header.as_old_mut().name, path)?;
    if let Some(link) = link {
        raw_name(&mut header.as_old_mut().linkname, link)?;
    }
    header.set_cksum();
    builder.append(&header, data)
}

/// `name` into a header field, unchecked; it must fit (one byte is left for the NUL).
fn raw_name(field: &mut [u8], name: &str) -> std::io::Result<()> {
    if name.len() >= field.len() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("name longer than {} bytes", field.len() - 1),
        ));
    }
    field.fill(0);
    field[..name.len()].copy_from_slice(name.as_bytes());
    Ok(())
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
    fn attacker_spellings_are_kept_byte_for_byte() {
        let bytes = build_archive(&[Entry::file("d/../tests//x.py", "x")]).expect("archive");
        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(bytes.as_slice()));
        let mut entries = archive.entries().expect("entries");
        let entry = entries.next().expect("one entry").expect("entry");
        assert_eq!(&*entry.path_bytes(), b"d/../tests//x.py");
    }

    #[test]
    fn no_entries_is_an_empty_file() {
        assert!(build_archive(&[]).expect("archive").is_empty());
    }
}
