//! Bombs and oversized archives are refused while streaming, quickly and in bounded memory.

use std::io::{self, Cursor, Read};
use std::time::{Duration, Instant};

use tar::EntryType;

use super::{gzip, raw_header, Corpus, Task};
use crate::judge::archive::{sanitize, ArchiveError, Limit, Limits};

const MIB: u64 = 1 << 20;

fn assert_refused(result: Result<impl std::fmt::Debug, ArchiveError>, expected: Limit) {
    match result {
        Err(ArchiveError::TooLarge { limit, .. }) => assert_eq!(limit, expected),
        other => panic!("expected TooLarge({expected:?}), got {other:?}"),
    }
}

/// A tar of `count` empty files, produced on the fly.
struct TinyEntries {
    next: usize,
    count: usize,
    block: Cursor<Vec<u8>>,
}

impl Read for TinyEntries {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.block.read(buf)?;
        if n > 0 || self.next == self.count {
            return Ok(n);
        }
        let name = format!("f{}", self.next);
        self.next += 1;
        let header = raw_header(name.as_bytes(), EntryType::Regular, 0, b"", 0o644);
        self.block = Cursor::new(header.as_bytes().to_vec());
        self.block.read(buf)
    }
}

#[test]
fn refuses_a_hundred_thousand_tiny_entries_quickly() {
    let input = TinyEntries {
        next: 0,
        count: 100_000,
        block: Cursor::new(Vec::new()),
    };
    let start = Instant::now();
    assert_refused(Task::example().run(input), Limit::Entries);
    assert!(
        start.elapsed() < Duration::from_secs(20),
        "took {:?}",
        start.elapsed()
    );
}

/// A gzip stream of `header` followed by `mib` MiB of zeros: concatenated gzip members of one
/// compressed MiB each, so 2 GiB of payload costs about 2 MB and never sits in memory.
fn zero_bomb(header: &[u8], mib: u64) -> impl Read {
    let zeros = gzip(&vec![0; 1 << 20]);
    let body = (0..mib).flat_map(move |_| zeros.clone());
    Cursor::new(gzip(header)).chain(IterReader(body))
}

struct IterReader<I>(I);

impl<I: Iterator<Item = u8>> Read for IterReader<I> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut n = 0;
        for (slot, byte) in buf.iter_mut().zip(&mut self.0) {
            *slot = byte;
            n += 1;
        }
        Ok(n)
    }
}

#[test]
fn refuses_a_declared_two_gib_file_before_reading_it() {
    let header = raw_header(b"bomb", EntryType::Regular, 2048 * MIB, b"", 0o644);
    let start = Instant::now();
    assert_refused(
        Task::example().run(zero_bomb(header.as_bytes(), 2048)),
        Limit::FileBytes,
    );
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "took {:?}",
        start.elapsed()
    );
}

#[test]
fn a_long_name_bomb_is_refused_before_it_is_read() {
    // The tar crate would read a GNU long name of any declared size into memory; we refuse one
    // larger than `max_header_bytes` from its header alone.
    let header = raw_header(
        b"././@LongLink",
        EntryType::GNULongName,
        2048 * MIB,
        b"",
        0o644,
    );
    let limits = Limits {
        max_total_bytes: 8192 * MIB,
        max_file_bytes: 4096 * MIB,
        ..Limits::default()
    };
    let task = Task::example();
    let start = Instant::now();
    assert_refused(
        sanitize(zero_bomb(header.as_bytes(), 2048), &task.rules(), &limits),
        Limit::HeaderBytes,
    );
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "took {:?}",
        start.elapsed()
    );
}

#[test]
fn pax_records_are_bounded_too() {
    let header = raw_header(b"PaxHeaders/x", EntryType::XHeader, 1024 * MIB, b"", 0o644);
    let task = Task::example();
    assert_refused(
        sanitize(
            zero_bomb(header.as_bytes(), 1024),
            &task.rules(),
            &Limits::default(),
        ),
        Limit::HeaderBytes,
    );
}

#[test]
fn compressed_budget_stops_an_endless_input() {
    // An excluded entry is never read, only skipped: the budgets still count what streams by.
    let header = raw_header(b"tests/bomb", EntryType::Regular, 2048 * MIB, b"", 0o644);
    let limits = Limits {
        max_compressed_bytes: 64 * 1024,
        max_total_bytes: 8192 * MIB,
        max_file_bytes: 8192 * MIB,
        ..Limits::default()
    };
    let task = Task::example();
    let result = sanitize(zero_bomb(header.as_bytes(), 2048), &task.rules(), &limits);
    assert_refused(result, Limit::CompressedBytes);
}

/// 64 MiB of zeros in a 64 KB gzip: the data goes to a spool file, not to memory, and the
/// sanitised tar is a file too (peak memory is measured by scripts/bench-memory.sh).
#[test]
fn file_data_streams_through_disk() {
    let header = raw_header(b"zeros", EntryType::Regular, 64 * MIB, b"", 0o644);
    let task = Task::example();
    let out = sanitize(
        zero_bomb(header.as_bytes(), 64),
        &task.rules(),
        &Limits::default(),
    )
    .expect("64 MiB of zeros is within the limits");
    assert_eq!(out.accepted, ["zeros"]);
    let size = std::fs::metadata(out.tar.path()).unwrap().len();
    assert!(size > 64 * MIB && size < 65 * MIB, "{size}");
}

#[test]
fn declared_sizes_count_against_the_total() {
    let limits = Limits {
        max_total_bytes: 3 * MIB,
        ..Limits::default()
    };
    let mut corpus = Corpus::new();
    for i in 0..4 {
        corpus = corpus.file(&format!("f{i}"), &vec![1; 1 << 20]);
    }
    let task = Task::example();
    assert_refused(
        sanitize(&corpus.gz()[..], &task.rules(), &limits),
        Limit::TotalBytes,
    );
}

#[test]
fn refuses_long_and_deep_paths() {
    let task = Task::example();
    let long = Corpus::new().long_file(&"x".repeat(5000), b"").gz();
    assert_refused(task.run(&long[..]), Limit::PathLength);
    let deep = Corpus::new()
        .long_file(&format!("{}f", "d/".repeat(65)), b"")
        .gz();
    assert_refused(task.run(&deep[..]), Limit::Depth);
    let fine = Corpus::new()
        .long_file(&format!("{}f", "d/".repeat(63)), b"")
        .gz();
    assert_eq!(task.accept(&fine).accepted.len(), 1);
}

#[test]
fn extension_headers_count_towards_the_entries() {
    let mut corpus = Corpus::new();
    for _ in 0..5000 {
        corpus = corpus.raw(
            b"pax_global_header",
            EntryType::XGlobalHeader,
            b"",
            b"",
            0o644,
        );
    }
    let limits = Limits {
        max_entries: 1000,
        ..Limits::default()
    };
    let task = Task::example();
    assert_refused(
        sanitize(&corpus.gz()[..], &task.rules(), &limits),
        Limit::Entries,
    );
}
