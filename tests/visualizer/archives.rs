//! Submission diffs and listings of hostile archives built here: absolute and `..` paths, links,
//! a device, a 20 MiB file, a binary file, caches, a gzip bomb, 10000 entries, a file hidden in a
//! second gzip member and a 1 GiB long name give bounded answers with warnings, show what the
//! judge would grade, and nothing is extracted.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::files_routes::{file, lines, paths};
use crate::server::{get_json, snapshot, start};

/// A tar header named by raw bytes (the tar crate refuses `..` and absolute names itself).
fn raw_header(name: &[u8], kind: tar::EntryType, size: u64, link: Option<&str>) -> tar::Header {
    let mut header = tar::Header::new_old();
    header.as_old_mut().name[..name.len()].copy_from_slice(name);
    header.set_entry_type(kind);
    header.set_size(size);
    header.set_mode(0o644);
    if let Some(link) = link {
        header.set_link_name(link).unwrap();
    }
    header.set_cksum();
    header
}

/// Compresses `tar` (fed by `fill`) with the system's `gzip -1` into `path`.
fn gzip_to(path: &Path, fill: impl FnOnce(&mut dyn Write)) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let out = std::fs::File::create(path).unwrap();
    let mut child = Command::new("gzip")
        .arg("-1")
        .stdin(Stdio::piped())
        .stdout(out)
        .spawn()
        .expect("gzip");
    let mut stdin = child.stdin.take().unwrap();
    fill(&mut stdin);
    drop(stdin);
    assert!(child.wait().unwrap().success());
}

fn tar_of(entries: Vec<(tar::Header, Vec<u8>)>) -> impl FnOnce(&mut dyn Write) {
    move |w| {
        let mut builder = tar::Builder::new(w);
        for (header, data) in entries {
            builder.append(&header, &data[..]).unwrap();
        }
        builder.finish().unwrap();
    }
}

fn round(task: &Path, name: &str, at: f64) -> std::path::PathBuf {
    let dir = task.join("submissions").join(name);
    std::fs::create_dir_all(&dir).unwrap();
    let report = serde_json::json!({"submitted_at": at, "pass_rate": 0.5});
    std::fs::write(dir.join("report.json"), report.to_string()).unwrap();
    dir.join("submission.tar.gz")
}

/// Rounds of a hostile task: a clean first round, then archives made to hurt.
fn add_hostile_archives(runs: &Path) {
    use tar::EntryType::{Block, Directory, Link, Regular, Symlink};
    let task = runs.join("archives/t");
    std::fs::create_dir_all(&task).unwrap();
    std::fs::write(task.join("final_result.json"), "{\"agent\": \"script\"}").unwrap();
    let text = |name: &str, body: &str| {
        (
            raw_header(name.as_bytes(), Regular, body.len() as u64, None),
            body.as_bytes().to_vec(),
        )
    };
    gzip_to(
        &round(&task, "agent-1", 1.0e9),
        tar_of(vec![text("./main.py", "print(1)\n")]),
    );

    let big = vec![b'x'; 20 << 20];
    let binary = vec![0u8, 159, 146, 150, 0, 1];
    gzip_to(
        &round(&task, "agent-2", 1.0e9 + 10.0),
        tar_of(vec![
            text("./main.py", "print(2)\n"),
            text("/etc/cron.d/evil", "* * * * * root sh\n"),
            text("../../outside.txt", "escaped\n"),
            text("src/../../up.txt", "escaped\n"),
            (
                raw_header(b"link", Symlink, 0, Some("/etc/passwd")),
                Vec::new(),
            ),
            (
                raw_header(b"hard", Link, 0, Some("/etc/shadow")),
                Vec::new(),
            ),
            (raw_header(b"dev", Block, 0, None), Vec::new()),
            (raw_header(b"dir/", Directory, 0, None), Vec::new()),
            (raw_header(b"big.txt", Regular, big.len() as u64, None), big),
            (
                raw_header(b"data.bin", Regular, binary.len() as u64, None),
                binary,
            ),
            text("pkg/__pycache__/m.pyc", "cached"),
            text("node_modules/x/index.js", "cached"),
        ]),
    );

    // A gzip bomb: one entry of 300 MiB of zeros, about 300 KiB compressed.
    gzip_to(&round(&task, "agent-3", 1.0e9 + 20.0), |w| {
        let size: u64 = 300 << 20;
        w.write_all(raw_header(b"bomb.txt", Regular, size, None).as_bytes())
            .unwrap();
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..300 {
            w.write_all(&zeros).unwrap();
        }
        w.write_all(&[0u8; 1024]).unwrap();
    });

    let many: Vec<(tar::Header, Vec<u8>)> = (0..10_000)
        .map(|i| text(&format!("f/{i:05}.txt"), &format!("{i}\n")))
        .collect();
    gzip_to(&round(&task, "agent-4", 1.0e9 + 30.0), tar_of(many));

    // `evil.py` in a second gzip member (`cat a.gz b.gz`), which the judge reads.
    let mut tar = Vec::new();
    tar_of(vec![
        text("main.py", "print(5)\n"),
        text("evil.py", "import os\n"),
    ])(&mut tar);
    let mut two = gzip(&tar[..1024]);
    two.extend(gzip(&tar[1024..]));
    std::fs::write(round(&task, "agent-5", 1.0e9 + 40.0), two).unwrap();

    // A GNU long name declaring 1 GiB (only 1 MiB of it present): refused from its header.
    let mut long = raw_header(b"././@LongLink", tar::EntryType::GNULongName, 1 << 30, None);
    long.set_cksum();
    let mut tar = long.as_bytes().to_vec();
    tar.resize(tar.len() + (1 << 20), b'a');
    std::fs::write(round(&task, "agent-6", 1.0e9 + 50.0), gzip(&tar)).unwrap();
}

/// `bytes` gzip'd in one member by the system's `gzip -1`.
fn gzip(bytes: &[u8]) -> Vec<u8> {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("x.gz");
    gzip_to(&path, |w| w.write_all(bytes).unwrap());
    std::fs::read(path).unwrap()
}

#[test]
fn hostile_archives_give_bounded_answers_with_warnings() {
    let viz = start();
    add_hostile_archives(&viz.runs);
    let tree = viz.runs.parent().unwrap();
    let before = snapshot(tree);
    let d = get_json(&viz, "/api/run/archives/t/submission/agent-2/diff");
    assert_eq!(d["previous"], "agent-1");
    let warnings = d["warnings"].to_string();
    for expected in [
        "/etc/cron.d/evil: absolute path",
        "../../outside.txt: leaves the archive",
        "src/../../up.txt: leaves the archive",
        "skipped link",
        "skipped hard",
        "skipped dev",
        "big.txt: 20971520 bytes",
        "2 file(s) in caches",
    ] {
        assert!(warnings.contains(expected), "no {expected:?} in {warnings}");
    }
    let mut listed = paths(&d);
    listed.sort_unstable();
    assert_eq!(listed, ["big.txt", "data.bin", "main.py"], "{d}");
    assert_eq!(lines(file(&d, "main.py"), "+"), ["print(2)"]);
    assert_eq!(file(&d, "data.bin")["status"], "binary");
    assert!(file(&d, "data.bin")["hunks"].as_array().unwrap().is_empty());
    assert_eq!(file(&d, "big.txt")["status"], "binary");
    assert!(file(&d, "big.txt")["cut"]
        .as_str()
        .unwrap()
        .contains("compared by SHA-256 only"));

    // The bomb is cut at the decompression bound, not read to its end — or, in a debug build
    // on a loaded machine, at the read's time bound first (the judge's own tests check the
    // decompression bound, src/judge/archive/tests/limits.rs).
    let d = get_json(&viz, "/api/run/archives/t/submission/agent-3/diff");
    assert_eq!(d["previous"], "agent-2");
    let cut = d["cut"].as_str().unwrap_or_default();
    assert!(
        cut.contains("agent-3")
            && (cut.contains("bytes decompressed") || cut.contains("took longer than")),
        "{d}"
    );

    // 10000 entries: read up to the entry bound, shown up to the file bound.
    let d = get_json(&viz, "/api/run/archives/t/submission/agent-4/diff");
    let cut = d["cut"].as_str().unwrap();
    assert!(cut.contains("more than 2000 entries"), "{cut}");
    assert!(cut.contains("more changed file(s) not shown"), "{cut}");
    assert_eq!(d["files"].as_array().unwrap().len(), 50);
    assert!(d["changed"].as_u64().unwrap() > 50);

    hidden_and_huge_entries_are_shown_as_the_judge_reads_them(&viz);

    // Nothing was written anywhere in the temporary tree holding the runs (an extraction of
    // `../../outside.txt` or `main.py` would add files), nor at the absolute path.
    assert_eq!(snapshot(tree), before);
    assert!(!Path::new("/etc/cron.d/evil").exists());
}

fn hidden_and_huge_entries_are_shown_as_the_judge_reads_them(viz: &crate::server::Viz) {
    let round = get_json(viz, "/api/run/archives/t/submission/agent-5");
    let names: Vec<&str> = round["archive"]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["main.py", "evil.py"], "{round}");
    let d = get_json(viz, "/api/run/archives/t/submission/agent-5/diff");
    assert_eq!(file(&d, "evil.py")["status"], "added", "{d}");

    let round = get_json(viz, "/api/run/archives/t/submission/agent-6");
    assert!(round["archive"]["entries"].as_array().unwrap().is_empty());
    let cut = round["archive"]["cut"].as_str().unwrap();
    assert!(cut.contains("long-name") && cut.contains("65536"), "{cut}");
    assert!(round.to_string().len() < 1 << 20);
    let d = get_json(viz, "/api/run/archives/t/submission/agent-6/diff");
    assert!(d["cut"].as_str().unwrap().contains("long-name"), "{d}");
    assert!(d.to_string().len() < 1 << 20);
}
