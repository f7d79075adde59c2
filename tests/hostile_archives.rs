//! Hostile submission archives against a REAL judge container, through `sforge eval --json`.
//!
//! The test task's judge owns `tests/test_x.py` (five tests: three pass and two fail, whatever is
//! submitted). Its evaluation first prints the judge's view of itself — the tree and SHA-256 of
//! `tests/`, whether any escape target exists, whether `/etc/passwd` is unchanged, what the
//! submission put into `cwd` and where every symlink there points — and then runs pytest. Every
//! vector must leave the judge's tests byte-identical and still five, and nothing outside `cwd`;
//! archives that are hostile as a whole (too many entries, a gzip bomb, garbage) are refused and
//! graded `valid: false` without running anything.

// Tests observe the system directly, independent of the product's process gateway.
#![allow(clippy::disallowed_methods)]

mod support;

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use flate2::write::GzEncoder;
use flate2::Compression;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use support::{SforgeRun, TestBenchmark};
use tar::{EntryType, Header};

const TASK: &str = "hostile";
const CWD: &str = "/home/workspace/hostile";
/// Where the judge image keeps the checker and the hash of its `/etc/passwd`.
const CHECK_DIR: &str = "/opt/sforge-hostile";

/// The judge's own tests: `TESTS` tests, `PASSING` of which pass.
const TEST_FILE: &str = r#""""The judge's own tests: three pass and two fail, whatever is submitted."""


def test_pass_one():
    assert True


def test_pass_two():
    assert 1 + 1 == 2


def test_pass_three():
    assert "judge".upper() == "JUDGE"


def test_fail_one():
    assert False, "fails on purpose"


def test_fail_two():
    assert 1 == 2, "fails on purpose"
"#;
const TESTS: u64 = 5;
const PASSING: u64 = 3;

/// What an attacker wants the judge to run instead: one test that always passes.
const FAKE_TEST: &[u8] = b"def test_everything():\n    assert True\n";

/// The benchmark with the hostile task built; its drop removes its containers, then its images.
struct Fixture {
    bench: TestBenchmark,
    /// Makes the escape targets unique to this fixture.
    tag: String,
}

impl Drop for Fixture {
    fn drop(&mut self) {
        if support::docker_available() {
            support::remove_containers_of(self.bench.name());
        }
    }
}

impl Fixture {
    /// The absolute file an escape vector numbered `n` would create outside `cwd`.
    fn escape(&self, dir: &str, n: u32) -> String {
        format!("{dir}/sforge-escape-{n}-{}", self.tag)
    }

    /// Every path an escape vector of this file aims at.
    fn escape_targets(&self) -> Vec<String> {
        vec![
            self.escape("/home/workspace", 1),
            self.escape("/home/workspace", 2),
            self.escape("/tmp", 3),
            self.escape("/tmp", 4),
            self.escape("", 5),
            self.escape("/etc", 6),
            self.escape("/etc", 7),
            self.escape("/home/workspace", 8),
        ]
    }

    /// The script printing the judge's view of itself (see the module docs).
    fn check_script(&self) -> String {
        let targets = self.escape_targets().join(" ");
        format!(
            r#"#!/bin/bash
cd {CWD} || exit 1
find tests -printf 'TREE %y %p\n' | sort
find tests -type f -exec sha256sum {{}} + | sed 's/^/SHA /' | sort
for p in {targets}; do
    if [ -e "$p" ] || [ -L "$p" ]; then echo "ESCAPE PRESENT $p"; else echo "ESCAPE ABSENT $p"; fi
done
sha256sum -c {CHECK_DIR}/passwd.sha256 2>&1 | sed 's/^/PASSWD /'
find . -path ./tests -prune -o -printf 'CWD %y %p\n' | sort
find . -path ./tests -prune -o -type l -printf '%p\n' | while read -r link; do
    echo "LINK $link -> $(readlink -m "$link")"
done
"#
        )
    }
}

static FIXTURE: Mutex<Weak<Fixture>> = Mutex::new(Weak::new());

fn fixture() -> Arc<Fixture> {
    support::shared_fixture(&FIXTURE, || {
        let bench = TestBenchmark::new("sforge-test-judge");
        let tag = support::unique_name("h");
        let fixture = Fixture { bench, tag };
        fixture
            .bench
            .write_task(&hostile_task(&fixture.check_script()));
        SforgeRun::of(
            fixture
                .bench
                .sforge()
                .args(["--silent", "build", "--task", TASK]),
        )
        .expect_code(0);
        fixture
    })
}

/// A shell command writing `content` to `path` (hex through python3: no quoting pitfalls).
fn write_file_cmd(path: &str, content: &str) -> String {
    let hex = content
        .bytes()
        .fold(String::with_capacity(2 * content.len()), |mut hex, b| {
            let _ = write!(hex, "{b:02x}");
            hex
        });
    format!("python3 -c 'import pathlib; pathlib.Path(\"{path}\").write_bytes(bytes.fromhex(\"{hex}\"))'")
}

fn hostile_task(check_script: &str) -> Value {
    json!({
        "task_id": TASK,
        "name": "Hostile archives",
        "base_image": "python",
        "platform": "linux/amd64",
        "cwd": CWD,
        "submit_paths": ["."],
        "submit_exclude": ["tests/"],
        "internet": true,
        "work": {
            "setup_cmds": [format!("mkdir -p {CWD}")],
            "agent_query": "Nothing to do: this task exercises the judge.",
        },
        "judge": {
            "setup_cmds": [
                format!("mkdir -p {CWD}/tests {CHECK_DIR}"),
                write_file_cmd(&format!("{CWD}/tests/test_x.py"), TEST_FILE),
                write_file_cmd(&format!("{CHECK_DIR}/check.sh"), check_script),
                format!("sha256sum /etc/passwd > {CHECK_DIR}/passwd.sha256"),
            ],
            "eval_cmd": format!(
                "bash {CHECK_DIR}/check.sh; cd {CWD} && python3 -m pytest -v -p no:cacheprovider tests"
            ),
            "eval_timeout": 120,
            "parser": "pytest_v",
            "score_direction": "maximize",
            "selection": "pass_rate_first",
        },
    })
}

// ---- Archives with raw names ----

/// One tar member, written with exactly these bytes as its name (and link target).
enum Member<'a> {
    File(&'a str, &'a [u8]),
    Dir(&'a str),
    Symlink(&'a str, &'a str),
    Hardlink(&'a str, &'a str),
    CharDevice(&'a str),
    Fifo(&'a str),
}

fn set_raw(field: &mut [u8], value: &str) {
    assert!(
        value.len() < field.len(),
        "name too long for a raw header: {value}"
    );
    field.fill(0);
    field[..value.len()].copy_from_slice(value.as_bytes());
}

/// A `.tar.gz` of `members`, names and link targets written raw (the tar crate's builder refuses
/// `..` and absolute names, which is the point here).
fn hostile_archive(members: &[Member<'_>]) -> Vec<u8> {
    let mut builder = tar::Builder::new(GzEncoder::new(Vec::new(), Compression::fast()));
    for member in members {
        let mut header = Header::new_gnu();
        header.set_mtime(1_700_000_000);
        header.set_mode(0o644);
        header.set_size(0);
        let (name, data): (&str, &[u8]) = match member {
            Member::File(name, data) => {
                header.set_entry_type(EntryType::Regular);
                header.set_size(data.len() as u64);
                (name, data)
            }
            Member::Dir(name) => {
                header.set_entry_type(EntryType::Directory);
                header.set_mode(0o755);
                (name, &[])
            }
            Member::Symlink(name, target) | Member::Hardlink(name, target) => {
                let kind = if matches!(member, Member::Symlink(..)) {
                    EntryType::Symlink
                } else {
                    EntryType::Link
                };
                header.set_entry_type(kind);
                set_raw(&mut header.as_old_mut().linkname, target);
                (name, &[])
            }
            Member::CharDevice(name) => {
                header.set_entry_type(EntryType::Char);
                header.set_device_major(1).expect("a GNU header");
                header.set_device_minor(3).expect("a GNU header");
                (name, &[])
            }
            Member::Fifo(name) => {
                header.set_entry_type(EntryType::Fifo);
                (name, &[])
            }
        };
        set_raw(&mut header.as_old_mut().name, name);
        header.set_cksum();
        builder.append(&header, data).expect("append a member");
    }
    builder
        .into_inner()
        .and_then(GzEncoder::finish)
        .expect("finish the archive")
}

// ---- Grading and the judge's view ----

/// A graded submission: the `sforge eval` run, its report and the evaluation output.
struct Graded {
    run: SforgeRun,
    report: Value,
    output: String,
    elapsed: Duration,
}

fn grade(fixture: &Fixture, name: &str, archive: &[u8]) -> Graded {
    let bench = &fixture.bench;
    let run_id = support::unique_name(name);
    let path = bench.root().join(format!("{run_id}.tar.gz"));
    std::fs::write(&path, archive).expect("write the archive");
    let started = Instant::now();
    let run = SforgeRun::of(
        bench
            .sforge()
            .args([
                "--silent", "eval", "--json", "--task", TASK, "--run-id", &run_id,
            ])
            .arg("--archive")
            .arg(&path),
    );
    let elapsed = started.elapsed();
    let report: Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|err| panic!("stdout is not the JSON report ({err})\n{run}"));
    // Graded: 0; refused by the judge: 2, the reason on stderr.
    let refused = report["summary"]
        .as_str()
        .is_some_and(|s| s.starts_with("Submission rejected: "));
    if refused {
        run.expect_code(2)
            .expect_output("error: the judge rejected the archive: ");
    } else {
        run.expect_code(0);
    }
    let output_file = bench
        .submission_dir(&run_id, TASK, "manual-1")
        .join("test_output.txt");
    let output = std::fs::read_to_string(output_file).unwrap_or_default();
    let left = support::containers_matching(&[&format!("label=sforge.run-id={run_id}")]);
    assert!(left.is_empty(), "judge containers left behind: {left:?}");
    Graded {
        run,
        report,
        output,
        elapsed,
    }
}

impl Graded {
    /// The output lines starting with `prefix` (the checker's; `set -x` traces start with `+`).
    fn lines(&self, prefix: &str) -> Vec<String> {
        self.output
            .lines()
            .filter(|line| line.starts_with(prefix))
            .map(|line| line.trim_end().to_owned())
            .collect()
    }

    /// What the submission left in `cwd` (outside `tests/`), as `<type> <path>`.
    fn cwd(&self) -> BTreeSet<String> {
        self.lines("CWD ")
            .iter()
            .map(|line| line["CWD ".len()..].to_owned())
            .collect()
    }

    fn context(&self) -> String {
        format!("{}\n--- test_output.txt ---\n{}", self.run, self.output)
    }

    /// The judge's tests are byte-identical and still all there, nothing exists outside `cwd`,
    /// `/etc/passwd` is unchanged, every symlink in `cwd` stays inside it and out of `tests/`,
    /// and the report counts the judge's real tests.
    fn assert_judge_intact(&self, fixture: &Fixture) {
        let context = self.context();
        assert_eq!(
            self.lines("TREE "),
            ["TREE d tests", "TREE f tests/test_x.py"],
            "the judge's tests/ changed\n{context}"
        );
        let sha = format!("{:x}", Sha256::digest(TEST_FILE.as_bytes()));
        assert_eq!(
            self.lines("SHA "),
            [format!("SHA {sha}  tests/test_x.py")],
            "tests/test_x.py is not the judge's\n{context}"
        );
        let targets = fixture.escape_targets();
        let absent: Vec<String> = targets
            .iter()
            .map(|p| format!("ESCAPE ABSENT {p}"))
            .collect();
        assert_eq!(
            self.lines("ESCAPE "),
            absent,
            "an entry escaped cwd\n{context}"
        );
        for target in &targets {
            assert!(
                !std::path::Path::new(target).exists(),
                "{target} exists on the host"
            );
        }
        assert_eq!(
            self.lines("PASSWD "),
            ["PASSWD /etc/passwd: OK"],
            "/etc/passwd changed\n{context}"
        );
        for link in self.lines("LINK ") {
            let target = link.rsplit(" -> ").next().unwrap_or_default();
            let inside = target.starts_with(&format!("{CWD}/"));
            let into_tests =
                target == format!("{CWD}/tests") || target.starts_with(&format!("{CWD}/tests/"));
            assert!(
                inside && !into_tests,
                "a symlink leads out of cwd or into tests/: {link}\n{context}"
            );
        }
        let report = &self.report;
        assert_eq!(report["valid"], true, "{context}");
        assert_eq!(report["total_tests"], TESTS, "{context}");
        assert_eq!(report["passed"], PASSING, "{context}");
        assert_eq!(report["failed"], TESTS - PASSING, "{context}");
    }

    /// Refused as a whole: graded, invalid, nothing run.
    fn assert_refused(&self, reason: &str) {
        let context = self.context();
        assert_eq!(self.report["valid"], false, "{context}");
        assert_eq!(self.report["total_tests"], 0, "{context}");
        let summary = self.report["summary"].as_str().unwrap_or_default();
        assert!(
            summary.starts_with("Submission rejected: ") && summary.contains(reason),
            "summary {summary:?} is not a rejection for {reason:?}\n{context}"
        );
        assert!(
            !self.output.contains("collected"),
            "the evaluation ran for a refused archive\n{context}"
        );
    }
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|&item| item.to_owned()).collect()
}

#[test]
fn empty_submission_shows_the_intact_judge() {
    require_docker!();
    let fixture = fixture();
    let graded = grade(&fixture, "hostile-empty", &[]);
    graded.assert_judge_intact(&fixture);
    assert_eq!(graded.cwd(), set(&["d ."]), "{}", graded.context());
}

#[test]
fn traversal_absolute_and_tests_overwrites_are_neutralised() {
    require_docker!();
    let fixture = fixture();
    let home = |n| fixture.escape("/home/workspace", n);
    let e1 = format!("../{}", home(1).rsplit('/').next().unwrap_or_default());
    let e2 = format!("a/../../{}", home(2).rsplit('/').next().unwrap_or_default());
    let e3 = format!("../../../../../..{}", fixture.escape("/tmp", 3));
    let e4 = fixture.escape("/tmp", 4);
    let e5 = fixture.escape("", 5);
    let archive = hostile_archive(&[
        Member::File("ok.txt", b"kept\n"),
        Member::File(&e1, b"escaped\n"),
        Member::File(&e2, b"escaped\n"),
        Member::File(&e3, b"escaped\n"),
        Member::File(&e4, b"escaped\n"),
        Member::File(&e5, b"escaped\n"),
        Member::Dir("./tests/"),
        Member::File("./tests/test_x.py", FAKE_TEST),
        Member::File("a/../tests/test_x.py", FAKE_TEST),
        Member::File("tests//test_x.py", FAKE_TEST),
        Member::File(".//tests/./test_x.py", FAKE_TEST),
        Member::File("tests/test_evil.py", FAKE_TEST),
        Member::File("tests/conftest.py", b"raise SystemExit(0)\n"),
        Member::File("./tests", b"not a directory\n"),
        // Allowed: `src/tests` is not the excluded `tests/`.
        Member::File("src/tests/z.py", b"# nested, allowed\n"),
    ]);
    let graded = grade(&fixture, "hostile-names", &archive);
    graded.assert_judge_intact(&fixture);
    assert_eq!(
        graded.cwd(),
        set(&[
            "d .",
            "f ./ok.txt",
            "d ./src",
            "d ./src/tests",
            "f ./src/tests/z.py"
        ]),
        "{}",
        graded.context()
    );
}

#[test]
fn symlink_escapes_and_writes_through_symlinks_are_neutralised() {
    require_docker!();
    let fixture = fixture();
    let name = |dir: &str, n| {
        fixture
            .escape(dir, n)
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_owned()
    };
    let (e6, e7, e8) = (name("/etc", 6), name("/etc", 7), name("/home/workspace", 8));
    let through_up = format!("up/{e6}");
    let through_abs = format!("abs/{e7}");
    let through_parent = format!("parent/{e8}");
    let archive = hostile_archive(&[
        Member::File("ok.txt", b"kept\n"),
        Member::Dir("dir_ok/"),
        // Escapes, then writes through them.
        Member::Symlink("up", "../../../etc"),
        Member::File(&through_up, b"escaped\n"),
        Member::Symlink("abs", "/etc"),
        Member::File(&through_abs, b"escaped\n"),
        Member::Symlink("parent", ".."),
        Member::File(&through_parent, b"escaped\n"),
        Member::Symlink("passwd_link", "/etc/passwd"),
        Member::File("passwd_link", b"root::0:0::/root:/bin/sh\n"),
        // Into the judge's tests, then writes through them.
        Member::Symlink("tlink", "tests"),
        Member::File("tlink/test_x.py", FAKE_TEST),
        Member::Symlink("deep/ln", "../tests/test_x.py"),
        Member::File("deep/ln", FAKE_TEST),
        Member::Symlink("c2", "tests"),
        Member::Symlink("c1", "c2"),
        Member::File("c1/test_x.py", FAKE_TEST),
        Member::Symlink("root", "."),
        Member::File("root/tests/test_x.py", FAKE_TEST),
        // Harmless links inside cwd.
        Member::Symlink("ok_link", "ok.txt"),
        Member::Symlink("dir_link", "dir_ok"),
    ]);
    let graded = grade(&fixture, "hostile-symlinks", &archive);
    graded.assert_judge_intact(&fixture);
    let cwd = graded.cwd();
    for kept in ["f ./ok.txt", "l ./ok_link", "l ./dir_link", "d ./dir_ok"] {
        assert!(
            cwd.contains(kept),
            "{kept} is missing\n{}",
            graded.context()
        );
    }
    let links = graded.lines("LINK ");
    for link in [
        format!("LINK ./ok_link -> {CWD}/ok.txt"),
        format!("LINK ./dir_link -> {CWD}/dir_ok"),
    ] {
        assert!(
            links.contains(&link),
            "{link} is missing\n{}",
            graded.context()
        );
    }
}

#[test]
fn hardlink_escapes_and_special_files_are_neutralised() {
    require_docker!();
    let fixture = fixture();
    let archive = hostile_archive(&[
        Member::File("ok.txt", b"kept\n"),
        Member::Hardlink("hl_ok", "ok.txt"),
        Member::Hardlink("hl_tests", "tests/test_x.py"),
        Member::Hardlink("hl_tests_dot", "./tests/test_x.py"),
        Member::Hardlink("hl_passwd", "/etc/passwd"),
        Member::Hardlink("hl_passwd_up", "../../../etc/passwd"),
        // A link named like the judge's test, to a file of the submission.
        Member::Hardlink("tests/test_x.py", "ok.txt"),
        Member::CharDevice("dev_null"),
        Member::Fifo("fifo"),
    ]);
    let graded = grade(&fixture, "hostile-hardlinks", &archive);
    graded.assert_judge_intact(&fixture);
    assert_eq!(
        graded.cwd(),
        set(&["d .", "f ./ok.txt", "f ./hl_ok"]),
        "{}",
        graded.context()
    );
}

#[test]
fn hundred_thousand_entries_are_refused() {
    require_docker!();
    let fixture = fixture();
    let mut builder = tar::Builder::new(GzEncoder::new(Vec::new(), Compression::fast()));
    for i in 0..100_000 {
        let mut header = Header::new_gnu();
        header.set_entry_type(EntryType::Regular);
        header.set_size(0);
        header.set_mode(0o644);
        header.set_mtime(1_700_000_000);
        builder
            .append_data(&mut header, format!("many/{i:06}"), std::io::empty())
            .expect("append an entry");
    }
    let archive = builder
        .into_inner()
        .and_then(GzEncoder::finish)
        .expect("finish the archive");
    let graded = grade(&fixture, "hostile-flood", &archive);
    graded.assert_refused("number of entries");
}

/// A tar holding one 2 GiB file of zeros, gzip'd as concatenated members (a 1 MiB block of zeros
/// compressed once and repeated), so it is cheap to make: a few MB that inflate to 2 GiB.
fn gzip_bomb() -> Vec<u8> {
    const SIZE: u64 = 2 << 30;
    const BLOCK: usize = 1 << 20;
    let gzip = |data: &[u8]| {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
        encoder.write_all(data).expect("compress");
        encoder.finish().expect("compress")
    };
    let mut header = Header::new_gnu();
    header.set_entry_type(EntryType::Regular);
    header.set_size(SIZE);
    header.set_mode(0o644);
    header.set_mtime(1_700_000_000);
    header.set_path("zeros.bin").expect("a valid name");
    header.set_cksum();
    let mut bomb = gzip(header.as_bytes());
    let zeros = gzip(&vec![0u8; BLOCK]);
    for _ in 0..SIZE / BLOCK as u64 {
        bomb.extend_from_slice(&zeros);
    }
    bomb.extend_from_slice(&gzip(&[0u8; 1024])); // end of archive
    bomb
}

#[test]
fn gzip_bomb_is_refused() {
    require_docker!();
    let fixture = fixture();
    let bomb = gzip_bomb();
    assert!(bomb.len() < 8 << 20, "the bomb is {} bytes", bomb.len());
    let graded = grade(&fixture, "hostile-bomb", &bomb);
    graded.assert_refused("exceeds the limit");
    assert!(
        graded.elapsed < Duration::from_secs(60),
        "refusing the bomb took {:?}",
        graded.elapsed
    );
}

#[test]
fn garbage_is_refused() {
    require_docker!();
    let fixture = fixture();
    // xorshift: incompressible bytes, the same every run.
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let garbage: Vec<u8> = (0..64 * 1024)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_le_bytes()[0]
        })
        .collect();
    let graded = grade(&fixture, "hostile-garbage", &garbage);
    graded.assert_refused("not a gzip-compressed tar archive");
    // Garbage behind the gzip magic bytes: not a tar inside.
    let mut fake_gzip = vec![0x1f, 0x8b];
    fake_gzip.extend_from_slice(&garbage);
    let graded = grade(&fixture, "hostile-fakegz", &fake_gzip);
    graded.assert_refused("");
}
