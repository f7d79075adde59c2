//! A tar stream holding one file, as `copy_in` takes it: how sforge puts scripts, hooks,
//! prompts and certificates into containers (the bytes travel on the engine's stdin, never on a
//! command line).

use std::time::{SystemTime, UNIX_EPOCH};

/// `content` as the file `name` (no directories), with `mode` and the numeric `owner` (uid, gid).
#[must_use]
pub fn single_file_tar(name: &str, content: &[u8], mode: u32, owner: (u64, u64)) -> Vec<u8> {
    let mut header = tar::Header::new_gnu();
    header.set_size(content.len() as u64);
    header.set_mode(mode);
    header.set_uid(owner.0);
    header.set_gid(owner.1);
    header.set_mtime(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
    );
    header.set_cksum();
    let mut builder = tar::Builder::new(Vec::new());
    // Appending to an in-memory buffer cannot fail; a name tar cannot hold is a caller's bug.
    builder
        .append_data(&mut header, name, content)
        .expect("a file name that fits a tar header");
    builder.into_inner().expect("an in-memory tar stream")
}

#[cfg(test)]
mod tests {
    use std::io::Read as _;

    #[test]
    fn one_file_with_its_mode_and_owner() {
        let tar = super::single_file_tar("eval.sh", b"echo hi\n", 0o755, (1000, 1000));
        let mut archive = tar::Archive::new(&tar[..]);
        let mut entries = archive.entries().unwrap();
        let mut entry = entries.next().unwrap().unwrap();
        assert_eq!(entry.path().unwrap().to_str(), Some("eval.sh"));
        assert_eq!(entry.header().mode().unwrap(), 0o755);
        assert_eq!(entry.header().uid().unwrap(), 1000);
        let mut text = String::new();
        entry.read_to_string(&mut text).unwrap();
        assert_eq!(text, "echo hi\n");
        assert!(entries.next().is_none());
    }
}
