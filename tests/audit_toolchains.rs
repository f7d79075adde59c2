//! The `shadow` route's build-tool payloads against the real tools of this machine (the judge
//! test images have no Rust or Java toolchain): a crate whose only test fails, submitted with
//! each cargo payload, prints the forged total the `score_sum` parser takes; Maven reads the
//! submitted `.mvn/maven.config` and `.mvn/jvm.config` and sets `maven.test.skip`.
//! docs/audit.md#shadow lists the routes tried this way and those only built.

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

fn on_path(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn target(cwd: &Path, eval_cmd: &str) -> Target {
    Target {
        task_id: "audited".into(),
        cwd: cwd.display().to_string(),
        eval_cmd: eval_cmd.into(),
        parser: "score_sum".into(),
        direction: ScoreDirection::Maximize,
        eval_timeout: 60,
        modules: vec![],
        protected: vec![],
        eval_files: vec![],
        secrets: std::collections::BTreeSet::new(),
        go_package: None,
    }
}

/// The shadow attack `name` built for `target`.
fn shadow_attack(target: &Target, name: &str) -> sforge::audit::Attack {
    let shadow = ROUTES
        .iter()
        .find(|r| r.name == "shadow")
        .expect("shadow route");
    (shadow.attacks)(target)
        .into_iter()
        .find(|a| a.name == name)
        .unwrap_or_else(|| panic!("{name} is built for `{}`", target.eval_cmd))
}

#[test]
fn cargo_shadows_forge_the_total_of_a_failing_crate() {
    if !on_path("cargo") {
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

    for name in [
        "shadow-cargo-runner",
        "shadow-cargo-build-script",
        "shadow-rust-toolchain",
    ] {
        let dir = scratch.path().join(name);
        failing_crate(&dir);
        let attack = shadow_attack(&target(&dir, "cargo test"), name);
        write(&dir, &attack.entries);
        let (_, text) = cargo_test(&dir);
        assert_eq!(extract_score(&text), Some(1e9), "{name}:\n{text}");
    }
}

/// The `<name>` Maven prints for a project whose name is the value of `maven.test.skip`.
fn maven_skip(dir: &Path) -> String {
    std::fs::write(
        dir.join("pom.xml"),
        "<project><modelVersion>4.0.0</modelVersion><groupId>a</groupId>\
         <artifactId>audited</artifactId><version>1</version>\
         <name>skip=${maven.test.skip}</name></project>\n",
    )
    .expect("pom.xml");
    let out = Command::new("mvn")
        .args(["-o", "-B", "validate"])
        .arg(format!("-Dmaven.repo.local={}", dir.join("repo").display()))
        .current_dir(dir)
        .output()
        .expect("mvn runs");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.lines()
        .find_map(|l| l.strip_prefix("[INFO] Building skip="))
        .unwrap_or_else(|| panic!("no project line:\n{text}"))
        .to_owned()
}

#[test]
fn maven_reads_the_submitted_mvn_files() {
    if !on_path("mvn") {
        eprintln!("skipped: no mvn on PATH");
        return;
    }
    let scratch = tempfile::tempdir().expect("tempdir");
    let control = scratch.path().join("control");
    std::fs::create_dir_all(&control).expect("dir");
    assert_eq!(maven_skip(&control), "${maven.test.skip} 1");
    let attack = shadow_attack(&target(&control, "mvn -o test"), "shadow-maven-config");
    for file in [".mvn/maven.config", ".mvn/jvm.config"] {
        let dir = scratch.path().join(file.replace('/', "_"));
        let only: Vec<Entry> = attack
            .entries
            .iter()
            .filter(|e| matches!(e, Entry::File { path, .. } if path == file))
            .cloned()
            .collect();
        assert_eq!(only.len(), 1, "{file} in {:?}", attack.entries);
        write(&dir, &only);
        assert_eq!(maven_skip(&dir), "true 1", "{file} is read by mvn");
    }
}
