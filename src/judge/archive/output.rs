//! Writes the kept entries as a fresh, uncompressed tar owned by root (0:0) with safe modes,
//! streaming file data from the spool into the output file.

use std::fs::File;
use std::io::{self, BufWriter, Read, Seek, SeekFrom};

use tar::{Builder, EntryType, Header};

use super::collect::{Body, Collected, Kept};
use super::error::ArchiveError;

/// Writes the sanitised tar (always a valid archive, possibly with no entries) to `out`;
/// returns the names in it.
pub(super) fn write(collected: &mut Collected, out: File) -> Result<Vec<String>, ArchiveError> {
    let mut builder = Builder::new(BufWriter::new(out));
    for entry in &collected.kept {
        append(&mut builder, entry, &mut collected.spool).map_err(ArchiveError::Write)?;
    }
    let writer = builder.into_inner().map_err(ArchiveError::Write)?;
    writer
        .into_inner()
        .map_err(|e| ArchiveError::Write(e.into_error()))?
        .sync_all()
        .map_err(ArchiveError::Write)?;
    Ok(collected.kept.iter().map(|k| k.name.clone()).collect())
}

fn append(
    builder: &mut Builder<BufWriter<File>>,
    entry: &Kept,
    spool: &mut File,
) -> io::Result<()> {
    let mut header = Header::new_gnu();
    header.set_mode(entry.mode);
    header.set_uid(0);
    header.set_gid(0);
    header.set_mtime(entry.mtime);
    header.set_size(0);
    let name = entry.name.as_str();
    match &entry.body {
        Body::Dir => {
            header.set_entry_type(EntryType::Directory);
            builder.append_data(&mut header, format!("{name}/"), io::empty())
        }
        Body::File { offset, len } => {
            header.set_entry_type(EntryType::Regular);
            header.set_size(*len);
            spool.seek(SeekFrom::Start(*offset))?;
            builder.append_data(&mut header, name, (&mut *spool).take(*len))
        }
        Body::Hardlink(target) => {
            header.set_entry_type(EntryType::Link);
            builder.append_link(&mut header, name, target)
        }
        Body::Symlink { target, .. } => {
            header.set_entry_type(EntryType::Symlink);
            builder.append_link(&mut header, name, target)
        }
    }
}
