//! `sforge fetch-tasks` end to end against the Hub API test double (`tests/support/hub_double/`):
//! a fetch that `sforge list` then reads, pagination, tokens, redirects, proxies, resume, local
//! edits, offline mode, and hostile or broken answers that must leave nothing behind.

#[path = "support/hub_double/mod.rs"]
mod hub_double;
#[path = "support/pki.rs"]
#[allow(dead_code)] // Only the CA and server configuration are used here.
mod pki;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use hub_double::{Dataset, Fault, HubDouble, HubFile};
use predicates::prelude::PredicateBooleanExt as _;
use predicates::str::contains;

const REPO: &str = "acme/bench";
const TOKEN: &str = "hf_test_token_123";
const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";
const LFS_PATH: &str = "solutions/big.bin";

/// The example benchmark of this repository as a dataset, plus a README, a nested file and a
/// 200 KiB LFS file.
fn example_files() -> BTreeMap<String, HubFile> {
    let tasks = Path::new(env!("CARGO_MANIFEST_DIR")).join("tasks");
    let mut files = BTreeMap::new();
    for name in [
        "BENCHMARK.yaml",
        "coin_change.json",
        "text_utils.json",
        "tour_planner.json",
    ] {
        let content = std::fs::read(tasks.join(name)).unwrap();
        files.insert(
            name.to_owned(),
            HubFile {
                content,
                lfs: false,
            },
        );
    }
    files.insert("README.md".into(), small(b"# A benchmark\n"));
    files.insert("docs/notes.txt".into(), small(b"notes\n"));
    // Two paths with the same (empty) content: one hash, two files.
    files.insert("pkg/a/__init__.py".into(), small(b""));
    files.insert("pkg/b/__init__.py".into(), small(b""));
    let big: Vec<u8> = (0..200 * 1024u32)
        .map(|i| u8::try_from(i % 251).unwrap())
        .collect();
    files.insert(
        LFS_PATH.into(),
        HubFile {
            content: big,
            lfs: true,
        },
    );
    files
}

fn small(content: &[u8]) -> HubFile {
    HubFile {
        content: content.to_vec(),
        lfs: false,
    }
}

fn hub() -> HubDouble {
    let hub = HubDouble::start();
    hub.add(
        REPO,
        Dataset {
            commit: COMMIT.into(),
            files: example_files(),
            token: Some(TOKEN.into()),
        },
    );
    hub
}

/// `sforge` with only the variables a test gives (none of the developer's leak in).
fn sforge(hub: &HubDouble, cwd: &Path) -> Command {
    let mut cmd = Command::cargo_bin("sforge").unwrap();
    cmd.env_clear()
        .current_dir(cwd)
        .env("HF_ENDPOINT", hub.endpoint())
        .env("HF_TOKEN", TOKEN);
    cmd
}

fn fetch(hub: &HubDouble, dest: &Path) -> Command {
    fetch_repo(hub, dest, REPO)
}

fn fetch_repo(hub: &HubDouble, dest: &Path, repo: &str) -> Command {
    let cwd = dest.ancestors().find(|p| p.is_dir()).unwrap();
    let mut cmd = sforge(hub, cwd);
    cmd.args(["fetch-tasks", "--repo", repo, "--dest"])
        .arg(dest);
    cmd
}

/// Every file under `dir`, relative, with its bytes.
fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

/// `tree` without sforge's own manifest.
fn fetched(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut t = tree(dir);
    t.retain(|k, _| !k.starts_with(".sforge-fetch/"));
    t
}

fn expected() -> BTreeMap<String, Vec<u8>> {
    example_files()
        .into_iter()
        .map(|(k, v)| (k, v.content))
        .collect()
}

fn staging(dest: &Path) -> PathBuf {
    dest.with_file_name(format!(
        ".{}.sforge-fetch",
        dest.file_name().unwrap().to_string_lossy()
    ))
}

fn stderr_of(cmd: &mut Command) -> String {
    let out = cmd.assert().failure().code(1).get_output().clone();
    String::from_utf8(out.stderr).unwrap()
}

#[test]
fn a_fetched_benchmark_is_what_list_reads() {
    let hub = hub();
    let work = tempfile::tempdir().unwrap();
    let dest = work.path().join("tasks");
    fetch(&hub, &dest)
        .assert()
        .success()
        .stdout(contains(format!("Fetched {REPO} at commit {COMMIT}")))
        .stdout(contains("Done. 3 task file(s) in"))
        .stderr(contains(LFS_PATH));
    assert_eq!(fetched(&dest), expected());
    assert!(!staging(&dest).exists(), "the staging directory is removed");
    sforge(&hub, work.path())
        .args(["--tasks-dir", "tasks", "list"])
        .assert()
        .success()
        .stdout(
            contains("coin_change")
                .and(contains("text_utils"))
                .and(contains("tour_planner")),
        );

    let seen = hub.seen();
    let trees = seen.iter().filter(|s| s.path.contains("/tree/")).count();
    assert!(trees > 2, "the listing is paginated ({trees} pages)");
    for s in &seen {
        if s.path.starts_with("/cdn/") {
            assert_eq!(
                s.header("Authorization"),
                None,
                "the token never leaves the Hub"
            );
        } else {
            assert_eq!(
                s.header("Authorization"),
                Some(format!("Bearer {TOKEN}").as_str())
            );
        }
    }
    assert!(
        seen.iter().any(|s| s.path.starts_with("/cdn/")),
        "the LFS redirect was followed"
    );
    assert!(
        seen.iter()
            .filter(|s| s.path.contains("/resolve/"))
            .all(|s| s.path.contains(COMMIT)),
        "files are resolved at the listed commit"
    );

    // Fetching again downloads nothing.
    hub.forget_seen();
    fetch(&hub, &dest)
        .assert()
        .success()
        .stdout(contains("0 downloaded, 9 up to date"));
    assert!(!hub.seen().iter().any(|s| s.path.contains("/resolve/")));
}

#[test]
fn the_default_is_edgebench_into_the_tasks_directory() {
    let hub = HubDouble::start();
    hub.add(
        "ByteDance-Seed/EdgeBench",
        Dataset {
            commit: COMMIT.into(),
            files: example_files(),
            token: None,
        },
    );
    let work = tempfile::tempdir().unwrap();
    sforge(&hub, work.path())
        .env_remove("HF_TOKEN")
        .arg("fetch-tasks")
        .assert()
        .success();
    assert_eq!(fetched(&work.path().join("tasks")), expected());
    // SFORGE_TASKS_DIR, then --tasks-dir, name the destination too.
    sforge(&hub, work.path())
        .env("SFORGE_TASKS_DIR", "from-env")
        .args(["--silent", "fetch-tasks", "edgebench"])
        .assert()
        .success()
        .stderr("");
    assert_eq!(fetched(&work.path().join("from-env")), expected());
    sforge(&hub, work.path())
        .args(["--tasks-dir", "from-flag", "fetch-tasks"])
        .assert()
        .success();
    assert_eq!(fetched(&work.path().join("from-flag")), expected());
}

#[test]
fn bad_names_tokens_and_networks_are_clear_errors_that_write_nothing() {
    let hub = hub();
    let work = tempfile::tempdir().unwrap();
    let dest = work.path().join("tasks");
    let err = stderr_of(sforge(&hub, work.path()).args(["fetch-tasks", "nope"]));
    assert!(
        err.contains("unknown benchmark 'nope'")
            && err.contains("edgebench")
            && err.contains("--repo"),
        "{err}"
    );
    let err = stderr_of(&mut fetch_repo(&hub, &dest, "acme/missing"));
    assert!(err.contains("acme/missing not found"), "{err}");
    let err = stderr_of(&mut fetch_repo(&hub, &dest, "../etc"));
    assert!(err.contains("invalid dataset id"), "{err}");
    let err = stderr_of(fetch(&hub, &dest).env("HF_TOKEN", "hf_wrong"));
    assert!(
        err.contains("rejected the token") && !err.contains("hf_wrong"),
        "{err}"
    );
    let err = stderr_of(fetch(&hub, &dest).env_remove("HF_TOKEN"));
    assert!(
        err.contains("not found") && err.contains("HF_TOKEN"),
        "{err}"
    );
    let err = stderr_of(fetch(&hub, &dest).args(["--revision", "v9"]));
    assert!(err.contains("revision \"v9\" not found"), "{err}");
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let err = stderr_of(fetch(&hub, &dest).env("HF_ENDPOINT", format!("http://{closed}")));
    assert!(err.contains("cannot reach the Hugging Face Hub"), "{err}");
    let err = stderr_of(fetch(&hub, &dest).env("HF_HUB_OFFLINE", "1"));
    assert!(err.contains("HF_HUB_OFFLINE"), "{err}");
    assert_eq!(
        std::fs::read_dir(work.path()).unwrap().count(),
        0,
        "nothing was written"
    );
}

#[test]
fn hostile_paths_and_broken_files_leave_nothing_where_list_reads() {
    let hub = hub();
    let work = tempfile::tempdir().unwrap();
    let dest = work.path().join("sub").join("tasks");
    for path in [
        "../x",
        "/tmp/sforge-hub-double-abs",
        "a/../../x",
        "a\\..\\x",
        ".sforge-fetch/manifest.json",
    ] {
        hub.clear_faults();
        hub.fault(Fault::ListPath(path.into()));
        let err = stderr_of(&mut fetch(&hub, &dest));
        assert!(err.contains("unsafe file path"), "{path}: {err}");
        assert!(!dest.exists() && !work.path().join("x").exists(), "{path}");
    }
    assert!(!Path::new("/tmp/sforge-hub-double-abs").exists());
    let broken = [
        (
            Fault::Oversize {
                path: "coin_change.json".into(),
                length: true,
            },
            "more than",
        ),
        (
            Fault::Oversize {
                path: "coin_change.json".into(),
                length: false,
            },
            "more than",
        ),
        (
            Fault::Oversize {
                path: LFS_PATH.into(),
                length: false,
            },
            "more than",
        ),
        (
            Fault::Corrupt {
                path: "text_utils.json".into(),
            },
            "git blob SHA-1 mismatch",
        ),
        (
            Fault::Corrupt {
                path: LFS_PATH.into(),
            },
            "SHA-256 mismatch",
        ),
        (
            Fault::RedirectLoop {
                path: "README.md".into(),
            },
            "too many redirects",
        ),
        (Fault::ForeignNextLink, "leaves the Hub"),
    ];
    for (fault, message) in broken {
        // Files verified by an earlier attempt are kept for the next one: start afresh.
        let _ = std::fs::remove_dir_all(staging(&dest));
        hub.clear_faults();
        hub.fault(fault.clone());
        let err = stderr_of(&mut fetch(&hub, &dest));
        assert!(err.contains(message), "{fault:?}: {err}");
        assert!(!dest.exists(), "{fault:?}");
    }
    // Once the Hub behaves, the same command succeeds.
    hub.clear_faults();
    fetch(&hub, &dest).assert().success();
    assert_eq!(fetched(&dest), expected());
}

#[test]
fn an_interrupted_download_resumes_with_a_range_request() {
    let hub = hub();
    let work = tempfile::tempdir().unwrap();
    let dest = work.path().join("tasks");
    hub.fault(Fault::CutShortOnce {
        path: LFS_PATH.into(),
        after: 70_000,
    });
    hub.fault(Fault::CutShortOnce {
        path: "tour_planner.json".into(),
        after: 100,
    });
    let err = stderr_of(&mut fetch(&hub, &dest));
    assert!(err.contains("run the command again to resume"), "{err}");
    assert!(!dest.exists(), "nothing is installed after a failure");
    hub.forget_seen();
    let err = stderr_of(&mut fetch(&hub, &dest));
    assert!(
        err.contains("run the command again to resume"),
        "the second cut: {err}"
    );
    fetch(&hub, &dest)
        .assert()
        .success()
        .stderr(contains("resumed at"));
    assert_eq!(fetched(&dest), expected());
    let ranges: Vec<String> = hub
        .seen()
        .iter()
        .filter_map(|s| s.header("Range").map(str::to_owned))
        .collect();
    assert!(ranges.contains(&"bytes=70000-".to_owned()), "{ranges:?}");
    assert!(!staging(&dest).exists());
}

#[test]
fn a_hub_that_ignores_the_range_sends_the_whole_file_again() {
    let hub = hub();
    let work = tempfile::tempdir().unwrap();
    let dest = work.path().join("tasks");
    hub.fault(Fault::CutShortOnce {
        path: LFS_PATH.into(),
        after: 50_000,
    });
    hub.fault(Fault::IgnoreRange {
        path: LFS_PATH.into(),
    });
    stderr_of(&mut fetch(&hub, &dest));
    hub.forget_seen();
    fetch(&hub, &dest)
        .assert()
        .success()
        .stderr(contains("resumed at").not());
    assert_eq!(fetched(&dest), expected());
    assert!(hub
        .seen()
        .iter()
        .any(|s| s.header("Range") == Some("bytes=50000-")));
}

#[test]
fn local_edits_are_never_lost_without_force() {
    let hub = hub();
    let work = tempfile::tempdir().unwrap();
    let dest = work.path().join("tasks");
    fetch(&hub, &dest).assert().success();
    std::fs::write(dest.join("README.md"), "my notes\n").unwrap();
    // A new commit changes README.md and coin_change.json and drops docs/notes.txt.
    let mut files = example_files();
    files.insert("README.md".into(), small(b"# Version 2\n"));
    files.insert("coin_change.json".into(), small(b"{\"v\": 2}\n"));
    files.remove("docs/notes.txt");
    let commit2 = "f".repeat(40);
    hub.add(
        REPO,
        Dataset {
            commit: commit2.clone(),
            files: files.clone(),
            token: Some(TOKEN.into()),
        },
    );
    let before = tree(&dest);
    let err = stderr_of(&mut fetch(&hub, &dest));
    assert!(
        err.contains("README.md") && err.contains("--force"),
        "{err}"
    );
    assert!(
        !err.contains("coin_change.json"),
        "an unedited file is no conflict: {err}"
    );
    assert_eq!(tree(&dest), before, "nothing changed");
    fetch(&hub, &dest)
        .arg("--force")
        .assert()
        .success()
        .stdout(contains(&commit2).and(contains("1 removed")));
    let want: BTreeMap<_, _> = files.into_iter().map(|(k, v)| (k, v.content)).collect();
    assert_eq!(fetched(&dest), want);
    // A file that was there before any fetch counts as a local edit too.
    let other = work.path().join("other");
    std::fs::create_dir(&other).unwrap();
    std::fs::write(other.join("README.md"), "mine\n").unwrap();
    let err = stderr_of(&mut fetch(&hub, &other));
    assert!(err.contains("README.md"), "{err}");
    assert_eq!(fetched(&other).len(), 1);
}

#[test]
fn offline_mode_accepts_an_earlier_fetch_without_network() {
    let hub = hub();
    let work = tempfile::tempdir().unwrap();
    let dest = work.path().join("tasks");
    fetch(&hub, &dest).assert().success();
    hub.forget_seen();
    fetch(&hub, &dest)
        .env("HF_HUB_OFFLINE", "1")
        .assert()
        .success()
        .stdout(contains("Offline").and(contains("Done. 3 task file(s)")));
    assert!(hub.seen().is_empty(), "no request in offline mode");
}

#[test]
fn the_proxy_variables_are_honoured() {
    let hub = hub();
    let work = tempfile::tempdir().unwrap();
    let dest = work.path().join("tasks");
    fetch(&hub, &dest)
        .env("HF_ENDPOINT", "http://hub.invalid")
        .env("HTTP_PROXY", hub.endpoint())
        .assert()
        .success();
    assert_eq!(fetched(&dest), expected());
    let seen = hub.seen();
    assert!(
        !seen.is_empty() && seen.iter().all(|s| s.via_proxy),
        "{seen:?}"
    );
    assert!(seen
        .iter()
        .any(|s| s.target.starts_with("http://hub.invalid/api/datasets/")));
}

#[test]
fn help_documents_the_command() {
    Command::cargo_bin("sforge")
        .unwrap()
        .args(["fetch-tasks", "--help"])
        .assert()
        .success()
        .stdout(
            contains("--repo")
                .and(contains("--force"))
                .and(contains("HF_TOKEN"))
                .and(contains("HF_ENDPOINT")),
        );
}

#[test]
fn symbolic_links_in_the_destination_are_never_written_through() {
    let hub = hub();
    let work = tempfile::tempdir().unwrap();
    let dest = work.path().join("tasks");
    let outside = work.path().join("outside");
    std::fs::create_dir_all(&dest).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    std::os::unix::fs::symlink(&outside, dest.join("docs")).unwrap();
    for force in [false, true] {
        let mut cmd = fetch(&hub, &dest);
        if force {
            cmd.arg("--force");
        }
        let err = stderr_of(&mut cmd);
        assert!(
            err.contains("symbolic link") && err.contains("docs/notes.txt"),
            "{err}"
        );
    }
    assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 0);
    assert_eq!(std::fs::read_dir(&dest).unwrap().count(), 1);
}

#[test]
fn https_hubs_are_trusted_through_sforge_ca_file_and_never_downgraded() {
    let pki = pki::TestPki::new("sforge fetch-tasks test CA", &["127.0.0.1", "localhost"]);
    let hub = HubDouble::start_tls(pki.server.clone());
    hub.add(
        REPO,
        Dataset {
            commit: COMMIT.into(),
            files: example_files(),
            token: Some(TOKEN.into()),
        },
    );
    let work = tempfile::tempdir().unwrap();
    let dest = work.path().join("tasks");
    let err = stderr_of(&mut fetch(&hub, &dest));
    assert!(err.contains("cannot reach the Hugging Face Hub"), "{err}");
    hub.fault(Fault::DowngradeRedirect);
    let err = stderr_of(fetch(&hub, &dest).env("SFORGE_CA_FILE", &pki.ca_file));
    assert!(err.contains("downgrades https to http"), "{err}");
    assert!(!dest.exists());
    hub.clear_faults();
    fetch(&hub, &dest)
        .env("SFORGE_CA_FILE", &pki.ca_file)
        .assert()
        .success();
    assert_eq!(fetched(&dest), expected());
}

#[test]
fn a_failed_update_leaves_the_earlier_fetch_as_it_was() {
    let hub = hub();
    let work = tempfile::tempdir().unwrap();
    let dest = work.path().join("tasks");
    fetch(&hub, &dest).assert().success();
    let before = tree(&dest);
    let mut files = example_files();
    files.insert("README.md".into(), small(b"# Version 2\n"));
    files.insert("new_task.json".into(), small(b"{}\n"));
    hub.add(
        REPO,
        Dataset {
            commit: "e".repeat(40),
            files,
            token: Some(TOKEN.into()),
        },
    );
    hub.fault(Fault::Corrupt {
        path: "new_task.json".into(),
    });
    let err = stderr_of(&mut fetch(&hub, &dest));
    assert!(
        err.contains("new_task.json") && err.contains("mismatch"),
        "{err}"
    );
    assert_eq!(tree(&dest), before, "README.md is not updated either");
    hub.clear_faults();
    fetch(&hub, &dest)
        .assert()
        .success()
        .stdout(contains("Done. 4 task file(s)"));
    assert_eq!(
        std::fs::read(dest.join("README.md")).unwrap(),
        b"# Version 2\n"
    );
}

#[test]
fn passing_hub_failures_are_tried_again_lasting_ones_are_reported() {
    let hub = hub();
    let work = tempfile::tempdir().unwrap();
    let dest = work.path().join("tasks");
    hub.fault(Fault::Unavailable { times: 3 });
    let err = stderr_of(&mut fetch(&hub, &dest));
    assert!(
        err.contains("HTTP 503") && err.contains("Service Unavailable"),
        "{err}"
    );
    assert!(!dest.exists());
    hub.clear_faults();
    hub.fault(Fault::Unavailable { times: 2 });
    fetch(&hub, &dest).assert().success();
    assert_eq!(fetched(&dest), expected());
}
