//! Hostile-archive corpus for `sanitize`: builders for archives the `tar` crate would refuse to
//! write, and readers for the sanitised output.

mod formats;
mod hostile;
mod limits;
mod walk;

use std::io::{Read, Write};

use flate2::write::GzEncoder;
use flate2::Compression;
use tar::{Builder, EntryType, Header};

use super::{sanitize, ArchiveError, Limits, Rules, Sanitized};

/// Builds a tar entry by entry, writing name and link bytes straight into the header so that
/// `..`, absolute and other hostile names survive.
pub(super) struct Corpus(Builder<Vec<u8>>);

impl Corpus {
    pub(super) fn new() -> Self {
        Self(Builder::new(Vec::new()))
    }

    pub(super) fn file(self, name: &str, data: &[u8]) -> Self {
        self.raw(name.as_bytes(), EntryType::Regular, data, b"", 0o644)
    }

    pub(super) fn dir(self, name: &str) -> Self {
        self.raw(name.as_bytes(), EntryType::Directory, b"", b"", 0o755)
    }

    pub(super) fn symlink(self, name: &str, target: &str) -> Self {
        self.raw(
            name.as_bytes(),
            EntryType::Symlink,
            b"",
            target.as_bytes(),
            0o777,
        )
    }

    pub(super) fn hardlink(self, name: &str, target: &str) -> Self {
        self.raw(
            name.as_bytes(),
            EntryType::Link,
            b"",
            target.as_bytes(),
            0o644,
        )
    }

    pub(super) fn special(self, name: &str, kind: EntryType) -> Self {
        self.raw(name.as_bytes(), kind, b"", b"", 0o644)
    }

    pub(super) fn raw(
        mut self,
        name: &[u8],
        kind: EntryType,
        data: &[u8],
        link: &[u8],
        mode: u32,
    ) -> Self {
        let header = raw_header(name, kind, data.len() as u64, link, mode);
        self.0.append(&header, data).expect("append to memory");
        self
    }

    /// A pax extended header with `records` (key, value), then a regular file named `name`.
    pub(super) fn pax(self, records: &[(&str, &str)], name: &str, data: &[u8]) -> Self {
        let mut body = String::new();
        for (key, value) in records {
            let text = format!(" {key}={value}\n");
            let mut len = text.len() + 1;
            while len.to_string().len() + text.len() != len {
                len += 1;
            }
            body = body + &len.to_string() + &text;
        }
        let kind = EntryType::XHeader;
        self.raw(b"PaxHeader", kind, body.as_bytes(), b"", 0o644)
            .file(name, data)
    }

    /// Appends with the `tar` crate's own path handling (GNU long names for long paths).
    pub(super) fn long_file(mut self, name: &str, data: &[u8]) -> Self {
        let mut header = Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        self.0
            .append_data(&mut header, name, data)
            .expect("append to memory");
        self
    }

    pub(super) fn tar(self) -> Vec<u8> {
        self.0.into_inner().expect("finish tar")
    }

    pub(super) fn gz(self) -> Vec<u8> {
        gzip(&self.tar())
    }
}

pub(super) fn raw_header(
    name: &[u8],
    kind: EntryType,
    size: u64,
    link: &[u8],
    mode: u32,
) -> Header {
    let mut header = Header::new_gnu();
    header.as_old_mut().name[..name.len()].copy_from_slice(name);
    header.as_old_mut().linkname[..link.len()].copy_from_slice(link);
    header.set_entry_type(kind);
    header.set_size(size);
    header.set_mode(mode);
    header.set_uid(1000);
    header.set_gid(1000);
    header.set_mtime(1_700_000_000);
    header.set_cksum();
    header
}

pub(super) fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(data).expect("compress to memory");
    encoder.finish().expect("finish gzip")
}

/// Owned submit rules, as a task would carry them.
pub(super) struct Task {
    paths: Vec<String>,
    excludes: Vec<String>,
}

impl Task {
    pub(super) fn new(paths: &[&str], excludes: &[&str]) -> Self {
        let own = |items: &[&str]| items.iter().map(|s| (*s).to_owned()).collect();
        Self {
            paths: own(paths),
            excludes: own(excludes),
        }
    }

    /// The example tasks: submit everything but `tests/`.
    pub(super) fn example() -> Self {
        Self::new(&["."], &["tests"])
    }

    pub(super) fn rules(&self) -> Rules<'_> {
        Rules {
            submit_paths: &self.paths,
            submit_exclude: &self.excludes,
        }
    }

    pub(super) fn run(&self, input: impl Read) -> Result<Sanitized, ArchiveError> {
        sanitize(input, &self.rules(), &Limits::default())
    }

    pub(super) fn accept(&self, archive: &[u8]) -> Sanitized {
        self.run(archive).expect("archive accepted")
    }
}

/// One member of a sanitised tar, as read back.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Member {
    pub name: String,
    pub kind: EntryType,
    pub link: Option<String>,
    pub mode: u32,
    pub owner: (u64, u64),
    pub data: Vec<u8>,
}

pub(super) fn members(tar: &[u8]) -> Vec<Member> {
    let mut archive = tar::Archive::new(tar);
    let entries = archive.entries().expect("read sanitised tar");
    entries
        .map(|entry| {
            let mut entry = entry.expect("sanitised entry");
            let mut data = Vec::new();
            entry.read_to_end(&mut data).expect("sanitised data");
            let header = entry.header();
            Member {
                name: String::from_utf8(entry.path_bytes().into_owned()).expect("utf-8 name"),
                kind: header.entry_type(),
                link: entry
                    .link_name_bytes()
                    .map(|l| String::from_utf8_lossy(&l).into_owned()),
                mode: header.mode().expect("mode"),
                owner: (header.uid().expect("uid"), header.gid().expect("gid")),
                data,
            }
        })
        .collect()
}

/// The reason `name` was rejected, failing the test if it was not.
pub(super) fn reason<'s>(out: &'s Sanitized, name: &str) -> &'s str {
    out.rejected.iter().find(|(n, _)| n == name).map_or_else(
        || panic!("{name:?} not rejected; accepted {:?}", out.accepted),
        |(_, r)| r.as_str(),
    )
}
