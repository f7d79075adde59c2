//! Writes the kept entries as a fresh, uncompressed tar owned by root (0:0) with safe modes.

use tar::{Builder, EntryType, Header};

use super::collect::{Body, Kept};
use super::error::ArchiveError;

/// The sanitised tar (always a valid archive, possibly with no entries) and the names in it.
pub(super) fn write(kept: &[Kept]) -> Result<(Vec<u8>, Vec<String>), ArchiveError> {
    let mut builder = Builder::new(Vec::new());
    for entry in kept {
        append(&mut builder, entry).map_err(ArchiveError::Write)?;
    }
    let tar = builder.into_inner().map_err(ArchiveError::Write)?;
    Ok((tar, kept.iter().map(|k| k.name.clone()).collect()))
}

fn append(builder: &mut Builder<Vec<u8>>, entry: &Kept) -> std::io::Result<()> {
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
            builder.append_data(&mut header, format!("{name}/"), std::io::empty())
        }
        Body::File(data) => {
            header.set_entry_type(EntryType::Regular);
            header.set_size(data.len() as u64);
            builder.append_data(&mut header, name, data.as_slice())
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
