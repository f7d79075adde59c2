//! Route `shadow`, build tools: what `cargo`, `go`, Maven and Gradle load from the submission
//! directory before the tests, chosen by the programs `eval_cmd` runs — a cargo target runner
//! and a build script, a rustup toolchain file, a Go `TestMain` and `init`, Maven's `.mvn/`
//! configuration, Gradle's `buildSrc/`, and a local runner script (`./mvnw`, `./gradlew`, …)
//! replaced. docs/audit.md#shadow says which of them were tried against the real tool.

use super::attack::{Attack, Entry};
use super::payload::{cargo_build_script, go_hook, gradle_buildsrc, shell_forger};
use super::target::Target;
use super::verdict::{Check, TAG};

/// The forger script the cargo runner points at.
const CARGO_FORGER: &str = ".cargo/sforge_audit_forge.sh";

/// The build-tool shadows `target`'s `eval_cmd` makes possible.
#[must_use]
pub fn attacks(target: &Target) -> Vec<Attack> {
    let mut out = Vec::new();
    if target.runs("cargo") {
        out.extend(cargo(target));
    }
    if target.runs("go") {
        out.extend(go(target));
    }
    if target.runs("mvn") || target.runs("mvnw") {
        out.push(attack(
            "shadow-maven-config",
            ".mvn/maven.config and .mvn/jvm.config (read by mvn from the project) skip the tests",
            vec![
                Entry::file(
                    ".mvn/maven.config",
                    "-Dmaven.test.skip=true\n-Dmaven.test.failure.ignore=true\n",
                ),
                Entry::file(".mvn/jvm.config", "-Dmaven.test.skip=true\n"),
            ],
        ));
    }
    if target.runs("gradle") || target.runs("gradlew") {
        out.push(attack(
            "shadow-gradle-buildsrc",
            "buildSrc/build.gradle (built by Gradle before the project) prints forged results",
            vec![Entry::file(
                "buildSrc/build.gradle",
                gradle_buildsrc(target),
            )],
        ));
    }
    for program in local_programs(&target.eval_cmd) {
        out.push(attack(
            &format!("shadow-local-{}", program.trim_start_matches("./")),
            "a runner script eval_cmd starts from the submission directory replaced by a forger",
            vec![Entry::script(
                program.trim_start_matches("./"),
                shell_forger(target),
            )],
        ));
    }
    out
}

fn cargo(target: &Target) -> Vec<Attack> {
    let forger = Entry::script(CARGO_FORGER, shell_forger(target));
    vec![
        attack(
            "shadow-cargo-runner",
            ".cargo/config.toml sets a target runner: cargo test runs it instead of the tests",
            vec![
                forger.clone(),
                Entry::file(
                    ".cargo/config.toml",
                    format!(
                        "# {TAG}\n[target.'cfg(all())']\nrunner = [\"sh\", \"{CARGO_FORGER}\"]\n"
                    ),
                ),
            ],
        ),
        attack(
            "shadow-cargo-build-script",
            "build.rs, run by cargo before compiling, prints forged results into cargo's output",
            vec![Entry::file("build.rs", cargo_build_script(target))],
        ),
        attack(
            "shadow-rust-toolchain",
            "rust-toolchain.toml points rustup at a submitted toolchain whose cargo is a forger",
            vec![
                Entry::script("sforge_audit_toolchain/bin/cargo", shell_forger(target)),
                Entry::script("sforge_audit_toolchain/bin/rustc", shell_forger(target)),
                // rustup takes only an absolute toolchain path.
                Entry::file(
                    "rust-toolchain.toml",
                    format!(
                        "# {TAG}\n[toolchain]\npath = \"{}/sforge_audit_toolchain\"\n",
                        target.cwd.trim_end_matches('/')
                    ),
                ),
            ],
        ),
    ]
}

fn go(target: &Target) -> Vec<Attack> {
    let package = target.go_package.as_deref().unwrap_or("main");
    vec![
        attack(
            "shadow-go-testmain",
            "a submitted _test.go file's TestMain replaces the package's test run",
            vec![Entry::file(
                "sforge_audit_main_test.go",
                go_hook(target, package, true),
            )],
        ),
        attack(
            "shadow-go-init",
            "a submitted .go file's init prints forged results and exits before any test",
            vec![Entry::file(
                "sforge_audit_init.go",
                go_hook(target, package, false),
            )],
        ),
    ]
}

/// Programs `eval_cmd` starts by a `./` path without an extension (`./mvnw`, `./run-tests`):
/// files of the submission directory unless protected. Files with an extension are the
/// `protected` route's.
fn local_programs(eval_cmd: &str) -> Vec<String> {
    let mut out: Vec<String> = eval_cmd
        .split(|c: char| c.is_whitespace() || matches!(c, ';' | '&' | '|' | '(' | ')'))
        .filter(|w| {
            w.strip_prefix("./").is_some_and(|rest| {
                !rest.is_empty()
                    && !rest.contains(['.', '/'])
                    && rest
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'))
            })
        })
        .map(str::to_owned)
        .collect();
    out.dedup();
    out
}

fn attack(name: &str, about: &str, entries: Vec<Entry>) -> Attack {
    Attack::new("shadow", name, about, entries, Check::Score)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(eval_cmd: &str) -> Target {
        Target {
            go_package: Some("shapes".into()),
            ..Target::for_test(eval_cmd, "score_sum")
        }
    }

    fn names(eval_cmd: &str) -> Vec<String> {
        attacks(&target(eval_cmd))
            .into_iter()
            .map(|a| a.name)
            .collect()
    }

    fn file<'a>(attack: &'a Attack, path: &str) -> &'a str {
        attack
            .entries
            .iter()
            .find_map(|e| match e {
                Entry::File { path: p, data, .. } if p == path => std::str::from_utf8(data).ok(),
                _ => None,
            })
            .unwrap_or_else(|| panic!("no {path} in {}", attack.name))
    }

    #[test]
    fn eval_cmd_chooses_the_build_tool_shadows() {
        assert_eq!(
            names("cd /w && cargo test --release 2>&1"),
            [
                "shadow-cargo-runner",
                "shadow-cargo-build-script",
                "shadow-rust-toolchain"
            ]
        );
        assert_eq!(
            names("cd /w && go test -v ./..."),
            ["shadow-go-testmain", "shadow-go-init"]
        );
        assert_eq!(names("mvn -q -o test"), ["shadow-maven-config"]);
        assert_eq!(
            names("cd /w && ./mvnw test"),
            ["shadow-maven-config", "shadow-local-mvnw"]
        );
        assert_eq!(
            names("./gradlew test --offline"),
            ["shadow-gradle-buildsrc", "shadow-local-gradlew"]
        );
        assert!(names("python3 -I tests/run.py; ./tests/check.sh").is_empty());
        assert!(names("gopher x && cargo-nextest").is_empty());
    }

    #[test]
    fn payloads_name_the_package_and_the_forger() {
        let attacks = attacks(&target("go test ./..."));
        assert!(file(&attacks[0], "sforge_audit_main_test.go").contains("package shapes\n"));
        let cargo = attacks_for("cargo test");
        assert!(file(&cargo[0], ".cargo/config.toml")
            .contains("runner = [\"sh\", \".cargo/sforge_audit_forge.sh\"]"));
        assert!(file(&cargo[0], CARGO_FORGER).starts_with("#!/bin/sh\n"));
        assert!(file(&cargo[2], "rust-toolchain.toml")
            .contains("path = \"/home/workspace/t/sforge_audit_toolchain\""));
    }

    fn attacks_for(eval_cmd: &str) -> Vec<Attack> {
        attacks(&target(eval_cmd))
    }
}
