//! The `shadow` route's cargo payloads against the real cargo and rustup of this machine (the
//! judge test images have no Rust toolchain): a crate whose only test fails, submitted with each
//! payload, prints the forged total the `score_sum` parser takes. docs/audit.md#shadow lists the
//! routes tried this way and those only built.

// Tests observe the system directly, independent of the product's process gateway.
#![allow(clippy::disallowed_methods)]

use std::path::Path;
use std::process::Command;

use sforge::audit::{Entry, Target, ROUTES};
use sforge::judge::grading::extract_score;
use sforge::task::ScoreDirection;

/// A library crate whose one test fails.
fn failing_crate(dir: &Path) {
    std::fs::create_dir_all(dir.join("src")).expect("src");
    std::fs::write(
        dir.join("Cargo.toml"),
        "[package]\nname = \"audited\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n",
    )
    .expect("Cargo.toml");
    std::fs::write(
        dir.join("src/lib.rs"),
        "pub fn answer() -> u32 { 0 }\n\n#[test]\nfn answer_is_42() {\n    assert_eq!(answer(), 42);\n}\n",
    )
    .expect("lib.rs");
}

fn write(dir: &Path, entries: &[Entry]) {
    for entry in entries {
        let Entry::File {
            path,
            data,
            executable,
        } = entry
        else {
            panic!("cargo payloads are plain files: {entry:?}")
        };
        let file = dir.join(path);
        std::fs::create_dir_all(file.parent().expect("parent")).expect("dirs");
        std::fs::write(&file, data).expect("write");
        if *executable {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        }
    }
}

/// `cargo test` in `dir` (offline, its own target directory): exit success, stdout + stderr.
fn cargo_test(dir: &Path) -> (bool, String) {
    let out = Command::new("cargo")
        .args(["test", "--offline", "--quiet"])
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", dir.join("target"))
        .env_remove("RUSTUP_TOOLCHAIN")
        .env_remove("CARGO")
        .output()
        .expect("cargo runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn cargo_on_path() -> bool {
    Command::new("cargo")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn cargo_shadows_forge_the_total_of_a_failing_crate() {
    if !cargo_on_path() {
        eprintln!("skipped: no cargo on PATH");
        return;
    }
    let scratch = tempfile::tempdir().expect("tempdir");
    let control = scratch.path().join("control");
    failing_crate(&control);
    let (ok, text) = cargo_test(&control);
    assert!(
        !ok && extract_score(&text).is_none(),
        "the crate fails: {text}"
    );

    let shadow = ROUTES
        .iter()
        .find(|r| r.name == "shadow")
        .expect("shadow route");
    let mut tried = Vec::new();
    for name in [
        "shadow-cargo-runner",
        "shadow-cargo-build-script",
        "shadow-rust-toolchain",
    ] {
        let dir = scratch.path().join(name);
        failing_crate(&dir);
        let target = Target {
            task_id: "audited".into(),
            cwd: dir.display().to_string(),
            eval_cmd: "cargo test".into(),
            parser: "score_sum".into(),
            direction: ScoreDirection::Maximize,
            eval_timeout: 60,
            modules: vec!["src/lib.rs".into()],
            protected: vec![],
            eval_files: vec![],
            secrets: std::collections::BTreeSet::new(),
            go_package: None,
        };
        let attack = (shadow.attacks)(&target)
            .into_iter()
            .find(|a| a.name == name)
            .unwrap_or_else(|| panic!("{name} is built for `cargo test`"));
        write(&dir, &attack.entries);
        let (_, text) = cargo_test(&dir);
        assert_eq!(extract_score(&text), Some(1e9), "{name}:\n{text}");
        tried.push(name);
    }
    assert_eq!(tried.len(), 3);
}
