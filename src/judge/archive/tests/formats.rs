//! Input formats (empty, garbage, plain tar, GNU tar) and the end-to-end guarantee: extracting
//! the sanitised tar leaves the judge's tests byte-identical.

use std::fs;
use std::path::Path;
use std::process::Command;

use super::{gzip, members, reason, Corpus, Task};
use crate::judge::archive::ArchiveError;

#[test]
fn empty_input_is_an_empty_submission() {
    let out = Task::example().accept(b"");
    assert!(out.is_empty());
    assert!(out.rejected.is_empty());
    assert!(
        members(&out.tar_bytes().unwrap()).is_empty(),
        "the output is still a valid tar"
    );
}

#[test]
fn garbage_is_not_an_archive() {
    let cases: [&[u8]; 3] = [b"hello, this is not an archive", &[0x1f], &[b'x'; 2000]];
    for input in cases {
        let err = Task::example().run(input).expect_err("garbage refused");
        assert!(matches!(err, ArchiveError::NotAnArchive(_)), "{err:?}");
        assert!(
            err.to_string()
                .starts_with("not a gzip-compressed tar archive"),
            "{err}"
        );
    }
    let text = gzip(&[b'y'; 4096]);
    let err = Task::example()
        .run(&text[..])
        .expect_err("gzip'd text refused");
    assert!(matches!(err, ArchiveError::NotAnArchive(_)), "{err:?}");
}

#[test]
fn truncated_archive_is_an_error() {
    let archive = Corpus::new().file("a", &vec![7; 100_000]).gz();
    let err = Task::example()
        .run(&archive[..archive.len() / 2])
        .expect_err("truncated");
    assert!(matches!(err, ArchiveError::Corrupt(_)), "{err:?}");
}

#[test]
fn accepts_a_plain_tar() {
    let archive = Corpus::new()
        .file("src/a.py", b"a")
        .file("tests/t.py", b"t")
        .tar();
    let out = Task::example().accept(&archive);
    assert_eq!(out.accepted, ["src/a.py"]);
}

/// GNU tar is the reference producer of honest submissions (`sforge-submit` uses it).
#[allow(clippy::disallowed_methods)] // tests drive GNU tar directly, not through crate::process
fn gnu_tar(args: &[&str], dir: &Path) {
    let status = Command::new("tar")
        .args(args)
        .current_dir(dir)
        .status()
        .expect("run GNU tar");
    assert!(status.success(), "tar {args:?} failed: {status}");
}

#[test]
fn honest_gnu_tar_archive_keeps_only_allowed_files() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let work = tmp.path().join("work");
    fs::create_dir_all(work.join("src")).expect("mkdir src");
    fs::create_dir_all(work.join("tests")).expect("mkdir tests");
    fs::write(work.join("src/a.py"), "print('a')\n").expect("write a.py");
    fs::write(work.join("tests/t.py"), "def test(): pass\n").expect("write t.py");
    gnu_tar(&["czf", "../sub.tar.gz", "."], &work);
    let archive = fs::read(tmp.path().join("sub.tar.gz")).expect("read archive");
    let out = Task::example().accept(&archive);
    assert_eq!(out.accepted, ["src", "src/a.py"]);
    assert_eq!(reason(&out, "./tests/"), "excluded by `tests`");
    assert_eq!(reason(&out, "./tests/t.py"), "excluded by `tests`");
}

/// The example layout (`textkit.py` + hidden `tests/`, submit `.` minus `tests`) under attack:
/// after extracting the sanitised tar, the judge's tests are untouched and nothing left `cwd`.
#[test]
fn judge_tests_survive_every_attack() {
    let judge_test = b"def test_slugify_basic():\n    assert True\n";
    let tmp = tempfile::tempdir().expect("temp dir");
    let cwd = tmp.path().join("cwd");
    fs::create_dir_all(cwd.join("tests")).expect("mkdir tests");
    fs::write(cwd.join("tests/test_textkit.py"), judge_test).expect("write judge test");
    let archive = Corpus::new()
        .file("./textkit.py", b"def slugify(t): return t\n")
        .file("./tests/test_textkit.py", b"def test(): pass\n")
        .file("a/../tests/test_textkit.py", b"x")
        .file("tests//test_textkit.py", b"x")
        .dir("./tests/")
        .symlink("t", "tests")
        .symlink("r", ".")
        .file("r/tests/test_textkit.py", b"x")
        .symlink("up", "..")
        .file("up/cwd/tests/test_textkit.py", b"x")
        .hardlink("tests/test_new.py", "textkit.py")
        .file("../escaped", b"x")
        .file("src/tests/z.py", b"z")
        .gz();
    let out = Task::example().accept(&archive);
    // `r` and `up` were rejected as symlinks, so these are plain files inside `cwd`.
    let harmless = ["r/tests/test_textkit.py", "up/cwd/tests/test_textkit.py"];
    assert_eq!(
        out.accepted,
        ["textkit.py", harmless[0], harmless[1], "src/tests/z.py"]
    );
    fs::write(tmp.path().join("clean.tar"), out.tar_bytes().unwrap()).expect("write sanitised tar");
    gnu_tar(&["xf", "../clean.tar"], &cwd);
    let test = fs::read(cwd.join("tests/test_textkit.py")).expect("judge test still there");
    assert_eq!(test, judge_test);
    let names: Vec<_> = fs::read_dir(cwd.join("tests"))
        .expect("list tests")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(names, ["test_textkit.py"]);
    assert!(!tmp.path().join("escaped").exists());
    for name in harmless {
        assert!(cwd.join(name).is_file(), "{name} is a plain file in cwd");
    }
    assert!(!cwd.join("r").is_symlink() && !cwd.join("up").is_symlink());
}
