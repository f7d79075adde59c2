//! Archives made to hide files from the viewer or to exhaust it, read by both the listing
//! ([`super::archive::list`]) and the diff ([`super::snapshot::read`]): they must see what the judge
//! sees, within bounds (docs/visualizer.md#submission-diffs).

use std::io::Write;
use std::path::Path;

use flate2::write::GzEncoder;
use flate2::Compression;

use super::archive::list;
use super::diff::diff;
use super::snapshot::{read, Content, MAX_FILE, MAX_KEPT};

fn header(name: &str, kind: tar::EntryType, size: u64) -> tar::Header {
    let mut header = tar::Header::new_gnu();
    header.set_path(name).unwrap();
    header.set_entry_type(kind);
    header.set_size(size);
    header.set_mode(0o644);
    header.set_cksum();
    header
}

/// A plain tar of regular files.
fn tar_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (name, data) in files {
        let h = header(name, tar::EntryType::Regular, data.len() as u64);
        builder.append(&h, *data).unwrap();
    }
    builder.into_inner().unwrap()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn listed(path: &Path) -> Vec<(String, &'static str)> {
    let listing = list(path).unwrap();
    assert!(listing.cut.is_none(), "{:?}", listing.cut);
    listing
        .entries
        .into_iter()
        .map(|e| (e.name, e.kind))
        .collect()
}

#[test]
fn a_second_gzip_member_is_read() {
    let tmp = tempfile::tempdir().unwrap();
    let tar = tar_of(&[("main.py", b"print(1)\n"), ("evil.py", b"import os\n")]);
    // Split after the first entry (header and one data block): two gzip members, as `cat a.gz
    // b.gz` makes, which gunzip and the judge read as one stream.
    let mut two = gzip(&tar[..1024]);
    two.extend(gzip(&tar[1024..]));
    let path = write(tmp.path(), "two.tar.gz", &two);
    let names: Vec<String> = listed(&path).into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["main.py", "evil.py"]);
    let snap = read(&path).unwrap();
    assert!(snap.cut.is_none(), "{:?}", snap.cut);
    assert!(snap.files.contains_key("evil.py"));
}

#[test]
fn a_plain_tar_is_read() {
    let tmp = tempfile::tempdir().unwrap();
    let path = write(
        tmp.path(),
        "plain.tar.gz",
        &tar_of(&[("evil.py", b"import os\n")]),
    );
    assert_eq!(listed(&path), [("evil.py".to_owned(), "file")]);
    let snap = read(&path).unwrap();
    assert_eq!(
        snap.files.get("evil.py"),
        Some(&Content::text("import os\n".to_owned()))
    );
}

#[test]
fn a_continuous_entry_is_a_file() {
    let tmp = tempfile::tempdir().unwrap();
    let mut builder = tar::Builder::new(Vec::new());
    let body = b"import os\n";
    let h = header("evil.py", tar::EntryType::Continuous, body.len() as u64);
    builder.append(&h, &body[..]).unwrap();
    let path = write(
        tmp.path(),
        "c.tar.gz",
        &gzip(&builder.into_inner().unwrap()),
    );
    assert_eq!(listed(&path), [("evil.py".to_owned(), "file")]);
    let old = read(&write(tmp.path(), "old.tar.gz", &gzip(&tar_of(&[])))).unwrap();
    let new = read(&path).unwrap();
    let d = diff(&old.files, &new.files);
    assert_eq!(d.changed, 1);
    assert_eq!(d.files[0].path, "evil.py");
    assert_eq!(d.files[0].status, "added");
}

/// A GNU long-name header declaring `size` bytes, followed by only a little of them: the reader
/// must refuse it from the header, before reading (or allocating) its data.
fn long_name_archive(size: u64) -> Vec<u8> {
    let mut tar = tar_of(&[("first.py", b"1\n")]);
    tar.truncate(tar.len() - 1024);
    let mut long = tar::Header::new_gnu();
    long.as_gnu_mut().unwrap().name[..13].copy_from_slice(b"././@LongLink");
    long.set_entry_type(tar::EntryType::GNULongName);
    long.set_size(size);
    long.set_cksum();
    tar.extend_from_slice(long.as_bytes());
    tar.extend(std::iter::repeat_n(b'a', 1 << 20));
    gzip(&tar)
}

#[test]
fn huge_long_names_stop_the_walk_with_a_cut() {
    let tmp = tempfile::tempdir().unwrap();
    let path = write(tmp.path(), "long.tar.gz", &long_name_archive(1 << 30));
    let listing = list(&path).unwrap();
    assert_eq!(listing.entries.len(), 1, "the entry before is kept");
    let cut = listing.cut.unwrap();
    assert!(cut.contains("long-name") && cut.contains("65536"), "{cut}");
    let snap = read(&path).unwrap();
    assert!(snap.files.contains_key("first.py"));
    assert!(snap.cut.unwrap().contains("long-name"));

    // Within the extension-header bound but over the name bound: refused as the judge does.
    let mut builder = tar::Builder::new(Vec::new());
    let name = format!("{}/x.py", "d".repeat(5000));
    let mut h = tar::Header::new_gnu();
    h.set_size(2);
    builder.append_data(&mut h, &name, &b"1\n"[..]).unwrap();
    let path = write(
        tmp.path(),
        "name.tar.gz",
        &gzip(&builder.into_inner().unwrap()),
    );
    let listing = list(&path).unwrap();
    assert!(listing.entries.is_empty());
    assert!(listing.cut.unwrap().contains("length of a path"));
    assert!(read(&path).unwrap().cut.unwrap().contains("4096"));
}

#[test]
fn unchanged_files_past_the_text_budget_or_the_file_size_are_unchanged() {
    let tmp = tempfile::tempdir().unwrap();
    // Four fillers that use up the text budget exactly.
    let fillers = 4;
    let chunk = vec![b'x'; usize::try_from(MAX_KEPT).unwrap() / fillers];
    assert!(chunk.len() as u64 <= MAX_FILE);
    let names: Vec<String> = (0..fillers).map(|i| format!("fill{i}.txt")).collect();
    let large = vec![b'y'; 11 << 20];
    // Old: `late.py` comes first, kept as text. New: the fillers use up the text budget first,
    // so `late.py` is read as a digest only.
    let mut old: Vec<(&str, &[u8])> = vec![("late.py", b"print(1)\n"), ("large.txt", &large)];
    let mut new: Vec<(&str, &[u8])> = Vec::new();
    for name in &names {
        old.push((name, &chunk));
        new.push((name, &chunk));
    }
    new.extend([("late.py", &b"print(1)\n"[..]), ("large.txt", &large[..])]);
    let old = read(&write(tmp.path(), "old.tar.gz", &tar_of(&old))).unwrap();
    let new = read(&write(tmp.path(), "new.tar.gz", &tar_of(&new))).unwrap();
    assert!(matches!(old.files["late.py"], Content::Text { .. }));
    assert!(matches!(new.files["late.py"], Content::Binary { .. }));
    assert!(matches!(new.files["large.txt"], Content::Binary { .. }));
    let d = diff(&old.files, &new.files);
    assert_eq!((d.changed, d.unchanged), (0, fillers + 2), "{:?}", d.files);
}

/// A plain tar of `(raw name, kind, data, link)` entries, names written as they are.
fn raw_tar(entries: &[(&str, tar::EntryType, &[u8], &str)]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (name, kind, data, link) in entries {
        let mut h = tar::Header::new_old();
        h.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
        h.as_old_mut().linkname[..link.len()].copy_from_slice(link.as_bytes());
        h.set_entry_type(*kind);
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        builder.append(&h, *data).unwrap();
    }
    builder.into_inner().unwrap()
}

fn text_of(snap: &super::snapshot::Snapshot, name: &str) -> Option<String> {
    match snap.files.get(name)? {
        Content::Text { text, .. } => Some(text.clone()),
        Content::Binary { .. } => None,
    }
}

#[test]
fn names_and_replacements_resolve_as_the_judge_extracts_them() {
    use tar::EntryType::{Directory, Link, Regular, Symlink};
    let tmp = tempfile::tempdir().unwrap();
    let tar = raw_tar(&[
        ("solution.py", Regular, b"benign\n", ""),
        // The judge resolves `..` and the later entry replaces the decoy.
        ("x/../solution.py", Regular, b"evil\n", ""),
        ("src/../main.py", Regular, b"main\n", ""),
        ("b.py", Link, b"", "main.py"),
        ("gone.py", Regular, b"gone\n", ""),
        ("gone.py/", Directory, b"", ""),
        ("link.py", Regular, b"file\n", ""),
        ("link.py", Symlink, b"", "elsewhere"),
        ("../out.py", Regular, b"out\n", ""),
    ]);
    let path = write(tmp.path(), "a.tar", &tar);
    let snap = read(&path).unwrap();
    assert_eq!(text_of(&snap, "solution.py").as_deref(), Some("evil\n"));
    assert_eq!(text_of(&snap, "main.py").as_deref(), Some("main\n"));
    assert_eq!(text_of(&snap, "b.py").as_deref(), Some("main\n"));
    assert!(
        !snap.files.contains_key("gone.py"),
        "{:?}",
        snap.files.keys()
    );
    assert!(!snap.files.contains_key("link.py"));
    assert!(!snap.files.keys().any(|k| k.contains("out.py")));
    let warnings = snap.warnings.join("\n");
    assert!(
        warnings.contains("gone.py: replaced by a later dir entry"),
        "{warnings}"
    );
    assert!(warnings.contains("leaves the archive"), "{warnings}");
}

#[test]
fn a_slow_read_stops_at_its_deadline() {
    use std::io::Read;
    let mut reader = super::files::Deadline::new(&b"abc"[..], std::time::Duration::ZERO);
    std::thread::sleep(std::time::Duration::from_millis(2));
    let err = reader.read(&mut [0u8; 3]).unwrap_err();
    assert!(err.to_string().contains("longer than"), "{err}");
}

#[test]
fn a_listing_stops_at_its_name_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let long = "d/".repeat(1000) + "f";
    let names: Vec<String> = (0..200).map(|i| format!("{long}{i}")).collect();
    let mut builder = tar::Builder::new(Vec::new());
    for name in &names {
        let mut h = tar::Header::new_gnu();
        h.set_size(0);
        h.set_mode(0o644);
        // GNU long-name entries carry the names over 100 bytes.
        builder.append_data(&mut h, name, &b""[..]).unwrap();
    }
    let path = write(tmp.path(), "names.tar", &builder.into_inner().unwrap());
    let listing = list(&path).unwrap();
    assert!(listing.entries.len() < 200, "{}", listing.entries.len());
    assert!(listing.cut.unwrap().contains("names beyond"));
}
