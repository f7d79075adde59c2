//! The append-only journal `<log_dir>/judge/journal.jsonl`: one [`Record`] per line, fsynced,
//! replayed on start. A torn last line (a crash mid-write) is dropped with a warning.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use super::records::Record;

/// File name of the journal inside the judge state directory.
pub const JOURNAL_FILE: &str = "journal.jsonl";

/// The open journal, positioned at its end.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    file: File,
    len: u64,
    fsync: bool,
}

impl Journal {
    /// Opens (or creates, mode 0600) the journal in `dir`, calling `replay` with each record and
    /// its byte offset in order, and repairs a torn last line.
    pub fn open(dir: &Path, fsync: bool, mut replay: impl FnMut(u64, Record)) -> io::Result<Self> {
        fs::create_dir_all(dir)?;
        let path = dir.join(JOURNAL_FILE);
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .mode(0o600)
            .open(&path)?;
        let (mut len, unterminated) = replay_lines(&path, &mut replay)?;
        if unterminated {
            file.write_all(b"\n")?;
            len += 1;
        } else if len < file.metadata()?.len() {
            log::warn!(
                "journal {}: ignoring a torn last line at byte {len}",
                path.display()
            );
            file.set_len(len)?;
        }
        file.seek(SeekFrom::End(0))?;
        Ok(Self {
            path,
            file,
            len,
            fsync,
        })
    }

    /// Appends one record as a line and returns its byte offset.
    pub fn append(&mut self, record: &Record) -> io::Result<u64> {
        let mut line = serde_json::to_vec(record).map_err(io::Error::other)?;
        line.push(b'\n');
        let offset = self.len;
        let written = self.file.write_all(&line).and_then(|()| {
            if self.fsync {
                self.file.sync_data()
            } else {
                Ok(())
            }
        });
        if let Err(e) = written {
            // Leave no partial line behind for the next append to continue.
            let _ = self.file.set_len(offset);
            return Err(e);
        }
        self.len += line.len() as u64;
        Ok(offset)
    }

    /// Where the journal lives.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Replays every line; returns the length of the valid prefix of the file and whether its last
/// line lacks its newline. A complete line that does not parse is skipped with a warning; an
/// unterminated last line that parses is kept, one that does not is left out of the prefix.
fn replay_lines(path: &Path, replay: &mut impl FnMut(u64, Record)) -> io::Result<(u64, bool)> {
    let mut reader = BufReader::new(File::open(path)?);
    let mut offset = 0u64;
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = reader.read_until(b'\n', &mut line)?;
        if n == 0 {
            return Ok((offset, false));
        }
        let complete = line.last() == Some(&b'\n');
        if line.iter().all(u8::is_ascii_whitespace) {
            offset += n as u64;
            continue;
        }
        match serde_json::from_slice::<Record>(&line) {
            Ok(record) => replay(offset, record),
            Err(_) if !complete => return Ok((offset, false)),
            Err(e) => log::warn!(
                "journal {}: skipping a bad line at byte {offset}: {e}",
                path.display()
            ),
        }
        offset += n as u64;
        if !complete {
            return Ok((offset, true));
        }
    }
}

/// Reads the record at `offset` (as returned by [`Journal::append`] or the replay).
pub fn read_at(path: &Path, offset: u64) -> io::Result<Record> {
    let mut file = File::open(path)?;
    file.seek(SeekFrom::Start(offset))?;
    let mut line = Vec::new();
    BufReader::new(file).read_until(b'\n', &mut line)?;
    serde_json::from_slice(&line).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::judge::server::records::Registration;

    fn reg(token: &str) -> Record {
        Record::Register(Registration {
            token: token.into(),
            task_id: "t".into(),
            run_id: "r".into(),
            ..Registration::default()
        })
    }

    fn replay_all(dir: &Path) -> (Journal, Vec<(u64, Record)>) {
        let mut seen = Vec::new();
        let journal = Journal::open(dir, false, |o, r| seen.push((o, r))).unwrap();
        (journal, seen)
    }

    #[test]
    fn appended_records_replay_in_order_and_read_back_by_offset() {
        let dir = tempfile::tempdir().unwrap();
        let (mut journal, seen) = replay_all(dir.path());
        assert!(seen.is_empty());
        let a = journal.append(&reg("a")).unwrap();
        let b = journal.append(&reg("b")).unwrap();
        drop(journal);
        let (journal, seen) = replay_all(dir.path());
        assert_eq!(seen, vec![(a, reg("a")), (b, reg("b"))]);
        assert_eq!(read_at(journal.path(), b).unwrap(), reg("b"));
    }

    #[test]
    fn torn_last_line_is_dropped_and_later_appends_are_clean() {
        let dir = tempfile::tempdir().unwrap();
        let (mut journal, _) = replay_all(dir.path());
        journal.append(&reg("a")).unwrap();
        let path = journal.path().to_owned();
        drop(journal);
        let mut file = OpenOptions::new().append(true).open(&path).unwrap();
        file.write_all(br#"{"type":"register","tok"#).unwrap();
        let (mut journal, seen) = replay_all(dir.path());
        assert_eq!(seen.len(), 1);
        journal.append(&reg("c")).unwrap();
        drop(journal);
        let (_, seen) = replay_all(dir.path());
        let tokens: Vec<_> = seen.iter().map(|(_, r)| r.clone()).collect();
        assert_eq!(tokens, vec![reg("a"), reg("c")]);
    }

    #[test]
    fn corrupt_middle_line_is_skipped_and_unterminated_good_line_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(JOURNAL_FILE);
        let good = serde_json::to_string(&reg("a")).unwrap();
        fs::write(&path, format!("garbage\n{good}")).unwrap();
        let (mut journal, seen) = replay_all(dir.path());
        assert_eq!(seen, vec![(8, reg("a"))]);
        journal.append(&reg("b")).unwrap();
        drop(journal);
        assert_eq!(replay_all(dir.path()).1.len(), 2);
    }
}
