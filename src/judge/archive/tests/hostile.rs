//! Archives crafted to escape `cwd` or to overwrite the judge's tests.

use tar::EntryType;

use super::{members, reason, Corpus, Task};

#[test]
fn rejects_traversal_and_absolute_names() {
    let archive = Corpus::new()
        .file("src/a.py", b"ok")
        .file("../evil", b"x")
        .file("a/../../evil", b"x")
        .file("/etc/passwd", b"root::0:0")
        .file("a/..", b"x")
        .gz();
    let out = Task::example().accept(&archive);
    assert_eq!(out.accepted, ["src/a.py"]);
    assert!(reason(&out, "../evil").contains("escapes"));
    assert!(reason(&out, "a/../../evil").contains("escapes"));
    assert!(reason(&out, "/etc/passwd").contains("absolute"));
    assert!(reason(&out, "a/..").contains("root"));
}

#[test]
fn normalises_names_before_excluding_tests() {
    let archive = Corpus::new()
        .dir("./tests/")
        .file("./tests/test_x.py", b"def test(): pass")
        .file("a/../tests/x", b"x")
        .file("tests//y", b"x")
        .file("tests/sub/x", b"x")
        .file("./src/./b.py", b"b")
        .file("src/tests/z.py", b"z")
        .gz();
    let out = Task::example().accept(&archive);
    assert_eq!(out.accepted, ["src/b.py", "src/tests/z.py"]);
    for name in [
        "./tests/",
        "./tests/test_x.py",
        "a/../tests/x",
        "tests//y",
        "tests/sub/x",
    ] {
        assert_eq!(reason(&out, name), "excluded by `tests`");
    }
}

#[test]
fn judges_the_names_extractors_use_not_the_header_field() {
    let long = format!("{}/../../tests/test_x.py", "d".repeat(120));
    let archive = Corpus::new()
        .pax(&[("path", "tests/test_x.py")], "innocent.py", b"overwrite")
        .pax(&[("path", "../evil")], "innocent2.py", b"x")
        .long_file(&long, b"x")
        .gz();
    let out = Task::example().accept(&archive);
    assert!(out.is_empty(), "accepted {:?}", out.accepted);
    assert_eq!(reason(&out, "tests/test_x.py"), "excluded by `tests`");
    assert!(reason(&out, "../evil").contains("escapes"));
}

#[test]
fn rejects_symlinks_that_escape_or_reach_excluded_paths() {
    let archive = Corpus::new()
        .file("src/a.py", b"a")
        .symlink("src/up", "../../etc")
        .symlink("abs", "/etc")
        .symlink("src/t", "../tests")
        .symlink("src/tx", "../tests/test_x.py")
        .symlink("src/root", "..")
        .symlink("self", ".")
        .symlink("src/ok", "./a.py")
        .symlink("data", "src/../src")
        .gz();
    let out = Task::example().accept(&archive);
    assert_eq!(out.accepted, ["src/a.py", "src/ok", "data"]);
    assert!(reason(&out, "src/up").contains("escapes"));
    assert!(reason(&out, "abs").contains("absolute"));
    assert!(reason(&out, "src/t").contains("excluded by `tests`"));
    assert!(reason(&out, "src/tx").contains("excluded by `tests`"));
    assert!(reason(&out, "src/root").contains("archive root"));
    assert!(reason(&out, "self").contains("archive root"));
    let links: Vec<_> = members(&out.tar_bytes().unwrap())
        .into_iter()
        .filter_map(|m| m.link)
        .collect();
    assert_eq!(
        links,
        ["a.py", "src"],
        "targets are rewritten in canonical form"
    );
}

#[test]
fn rejects_symlinks_to_directories_holding_excluded_paths() {
    let task = Task::new(&["."], &["lib/tests"]);
    let archive = Corpus::new()
        .symlink("l", "lib")
        .symlink("m", "lib/src")
        .gz();
    let out = task.accept(&archive);
    assert_eq!(out.accepted, ["m"]);
    assert!(reason(&out, "l").contains("contains excluded paths"));
}

#[test]
fn nothing_is_written_through_a_symlink() {
    let archive = Corpus::new()
        .dir("src")
        .symlink("ln", "src")
        .file("ln/x.py", b"through the link")
        .file("ln/../tests/x", b"x")
        .file("w/x.py", b"w")
        .symlink("w", "src")
        .gz();
    let out = Task::example().accept(&archive);
    assert_eq!(out.accepted, ["src", "w/x.py", "ln"]);
    assert!(reason(&out, "ln/x.py").contains("`ln` is a symlink"));
    assert_eq!(reason(&out, "ln/../tests/x"), "excluded by `tests`");
    assert!(reason(&out, "w").contains("replace a directory"));
}

#[test]
fn rejects_symlink_targets_through_other_symlinks() {
    let archive = Corpus::new()
        .symlink("a/b/deep", "../../src/x/y")
        .symlink("a/b/hop", "deep/../../z")
        .symlink("lib/libfoo.so", "libfoo.so.1")
        .symlink("lib/libfoo.so.1", "libfoo.so.1.2")
        .file("lib/libfoo.so.1.2", b"\x7fELF")
        .gz();
    let out = Task::example().accept(&archive);
    assert_eq!(
        out.accepted,
        [
            "lib/libfoo.so.1.2",
            "a/b/deep",
            "lib/libfoo.so",
            "lib/libfoo.so.1"
        ]
    );
    assert!(reason(&out, "a/b/hop").contains("through the symlink `a/b/deep`"));
}

#[test]
fn hardlinks_only_to_files_accepted_earlier() {
    let archive = Corpus::new()
        .file("tests/x", b"judge test")
        .file("src/a.py", b"a")
        .hardlink("h_out", "../outside")
        .hardlink("h_tests", "tests/x")
        .hardlink("h_shadow", "/etc/shadow")
        .hardlink("h_later", "src/later.py")
        .hardlink("h_dir", "src")
        .hardlink("h_ok", "./src/a.py")
        .hardlink("tests/h", "src/a.py")
        .file("src/later.py", b"later")
        .gz();
    let out = Task::example().accept(&archive);
    assert_eq!(out.accepted, ["src/a.py", "src/later.py", "h_ok"]);
    assert!(reason(&out, "h_out").contains("escapes"));
    assert!(reason(&out, "h_tests").contains("not a regular file accepted earlier"));
    assert!(reason(&out, "h_shadow").contains("absolute"));
    assert!(reason(&out, "h_later").contains("not a regular file accepted earlier"));
    assert!(reason(&out, "h_dir").contains("not a regular file accepted earlier"));
    assert_eq!(reason(&out, "tests/h"), "excluded by `tests`");
    let h_ok = members(&out.tar_bytes().unwrap())
        .into_iter()
        .find(|m| m.name == "h_ok")
        .expect("h_ok");
    assert_eq!(
        (h_ok.kind, h_ok.link.as_deref()),
        (EntryType::Link, Some("src/a.py"))
    );
}

#[test]
fn hardlink_to_a_file_replaced_later_is_dropped() {
    let archive = Corpus::new()
        .file("a", b"1")
        .hardlink("h", "a")
        .dir("a")
        .gz();
    let out = Task::example().accept(&archive);
    assert_eq!(out.accepted, ["a"]);
    assert!(reason(&out, "h").contains("replaced later"));
}

#[test]
fn rejects_devices_fifos_and_special_types() {
    let archive = Corpus::new()
        .special("dev/sda", EntryType::Block)
        .special("dev/null", EntryType::Char)
        .special("pipe", EntryType::Fifo)
        .special("vol", EntryType::new(b'V'))
        .file("ok", b"")
        .gz();
    let out = Task::example().accept(&archive);
    assert_eq!(out.accepted, ["ok"]);
    assert_eq!(
        reason(&out, "dev/sda"),
        "unsupported entry type: block device"
    );
    assert_eq!(
        reason(&out, "dev/null"),
        "unsupported entry type: character device"
    );
    assert_eq!(reason(&out, "pipe"), "unsupported entry type: FIFO");
    assert!(reason(&out, "vol").contains("'V'"));
}

#[test]
fn rejects_unprintable_and_non_utf8_names() {
    let archive = Corpus::new()
        .raw(b"bad\xffname", EntryType::Regular, b"", b"", 0o644)
        .raw(b"new\nline", EntryType::Regular, b"", b"", 0o644)
        .gz();
    let out = Task::example().accept(&archive);
    assert!(out.is_empty());
    assert_eq!(reason(&out, "bad\u{fffd}name"), "name is not valid UTF-8");
    assert_eq!(
        reason(&out, "new\nline"),
        "name contains a control character"
    );
}

#[test]
fn strips_special_mode_bits_and_owners() {
    let archive = Corpus::new()
        .raw(b"suid", EntryType::Regular, b"x", b"", 0o4755)
        .raw(b"private", EntryType::Regular, b"x", b"", 0o600)
        .raw(b"open/", EntryType::Directory, b"", b"", 0o1777)
        .gz();
    let out = Task::example().accept(&archive);
    let modes: Vec<_> = members(&out.tar_bytes().unwrap())
        .into_iter()
        .map(|m| (m.name, m.mode, m.owner))
        .collect();
    assert_eq!(
        modes,
        [
            ("open/".to_owned(), 0o755, (0, 0)),
            ("suid".to_owned(), 0o755, (0, 0)),
            ("private".to_owned(), 0o644, (0, 0)),
        ]
    );
}

#[test]
fn last_duplicate_wins() {
    let archive = Corpus::new()
        .file("src/a.py", b"first")
        .file("./src/a.py", b"second")
        .gz();
    let out = Task::example().accept(&archive);
    assert_eq!(out.accepted, ["src/a.py"]);
    assert_eq!(members(&out.tar_bytes().unwrap())[0].data, b"second");
}

#[test]
fn refuses_names_the_judge_cannot_extract() {
    use crate::judge::archive::ArchiveError;
    let task = Task::example();
    let long = format!("src/{}", "n".repeat(256));
    let archive = Corpus::new()
        .file("ok.py", b"ok")
        .long_file(&long, b"x")
        .gz();
    match task.run(&archive[..]) {
        Err(ArchiveError::NameTooLong { len: 256, .. }) => {}
        other => panic!("expected NameTooLong, got {other:?}"),
    }
    // 255 bytes is fine, also through a pax path record.
    let fine = format!("src/{}", "n".repeat(255));
    let archive = Corpus::new().pax(&[("path", &fine)], "x.py", b"x").gz();
    assert_eq!(task.accept(&archive).accepted, [fine]);
    // An excluded name is dropped before its length matters.
    let archive = Corpus::new()
        .long_file(&format!("tests/{}", "n".repeat(300)), b"x")
        .gz();
    assert!(task.accept(&archive).is_empty());
}

#[test]
fn refuses_non_directories_over_directories_holding_excluded_paths() {
    use crate::judge::archive::ArchiveError;
    let task = Task::new(&["."], &["a/tests", "b/c/*.py"]);
    for archive in [
        Corpus::new().file("a", b"x").gz(),
        Corpus::new().symlink("a", "z").gz(),
        Corpus::new().file("z", b"x").hardlink("b/c", "z").gz(),
        Corpus::new().file("b", b"x").gz(),
    ] {
        match task.run(&archive[..]) {
            Err(ArchiveError::ReplacesExcludedDir { .. }) => {}
            other => panic!("expected ReplacesExcludedDir, got {other:?}"),
        }
    }
    // Directories of those names, and files beside them, are fine.
    let archive = Corpus::new()
        .dir("a")
        .file("a/x", b"x")
        .file("ab", b"x")
        .gz();
    assert_eq!(task.accept(&archive).accepted, ["a", "a/x", "ab"]);
}
