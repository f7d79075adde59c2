//! Route `shadow`: files in the submission directory that the test runner or the language loads
//! before the tests — `pytest.py`, `conftest.py`, a pytest plugin named by `pytest.ini`,
//! Python's start-up hooks (`sitecustomize.py`, `usercustomize.py`, `.pth`), an npm `test`
//! script, `node_modules/.bin` runners — each printing forged passing results; the Go, Java and
//! Rust build tools' equivalents are in `src/audit/shadow_build.rs` (docs/audit.md#shadow).

use super::attack::{Attack, Entry};
use super::payload::{pass_hook, python_forger, shell_forger};
use super::shadow_build;
use super::target::Target;
use super::verdict::Check;

const ROUTE: &str = "shadow";

/// The shadowing submissions `target`'s `eval_cmd` makes possible.
#[must_use]
pub fn attacks(target: &Target) -> Vec<Attack> {
    let mut out = Vec::new();
    if target.is_python() {
        let forger = python_forger(target);
        let pytest = target.runs("pytest") || target.eval_cmd.contains("-m pytest");
        if pytest {
            out.push(attack(
                "shadow-pytest-module",
                "a pytest.py in the working directory replaces the test runner",
                vec![Entry::file("pytest.py", forger.clone() + PYTEST_EXIT)],
            ));
            out.push(attack(
                "shadow-conftest",
                "a root conftest.py turns every test report into a pass",
                vec![Entry::file("conftest.py", forger.clone() + &pass_hook())],
            ));
            out.push(attack(
                "shadow-pytest-plugin",
                "pytest.ini loads a submitted plugin that turns every report into a pass",
                vec![
                    Entry::file("pytest.ini", "[pytest]\naddopts = -p sforge_audit_plugin\n"),
                    Entry::file("sforge_audit_plugin.py", forger.clone() + &pass_hook()),
                ],
            ));
        }
        out.push(attack(
            "shadow-startup-hooks",
            "sitecustomize.py, usercustomize.py and a .pth file run at interpreter start-up",
            vec![
                Entry::file("sitecustomize.py", forger.clone()),
                Entry::file("usercustomize.py", forger),
                Entry::file("sforge_audit.pth", "import sitecustomize\n"),
            ],
        ));
    }
    if target.runs("npm") {
        out.push(attack(
            "shadow-npm-test",
            "package.json's test script replaced by one printing forged results",
            vec![
                Entry::script("sforge_audit_forge.sh", shell_forger(target)),
                Entry::file(
                    "package.json",
                    r#"{"name": "sforge-audit", "version": "1.0.0", "scripts": {"test": "sh sforge_audit_forge.sh"}}"#,
                ),
            ],
        ));
    }
    for runner in ["jest", "mocha", "vitest"] {
        if target.runs(runner) || target.eval_cmd.contains(&format!("npx {runner}")) {
            out.push(attack(
                &format!("shadow-{runner}-bin"),
                "node_modules/.bin holds a test runner printing forged results",
                vec![Entry::script(
                    format!("node_modules/.bin/{runner}"),
                    shell_forger(target),
                )],
            ));
        }
    }
    out.extend(shadow_build::attacks(target));
    out
}

fn attack(name: &str, about: &str, entries: Vec<Entry>) -> Attack {
    Attack::new(ROUTE, name, about, entries, Check::Score)
}

/// Ends a shadowed `pytest` module: success, nothing else run.
const PYTEST_EXIT: &str = "\n\ndef main(*_args, **_kwargs):\n    return 0\n\n\nif __name__ == \"__main__\":\n    raise SystemExit(0)\n";

#[cfg(test)]
mod tests {
    use super::*;

    fn target(eval_cmd: &str) -> Target {
        Target::for_test(eval_cmd, "pytest_v")
    }

    fn names(eval_cmd: &str) -> Vec<String> {
        attacks(&target(eval_cmd))
            .into_iter()
            .map(|a| a.name)
            .collect()
    }

    #[test]
    fn eval_cmd_decides_the_shadows() {
        assert_eq!(
            names("cd /w && python3 -m pytest -v tests"),
            [
                "shadow-pytest-module",
                "shadow-conftest",
                "shadow-pytest-plugin",
                "shadow-startup-hooks"
            ]
        );
        assert_eq!(names("python3 -I tests/score.py"), ["shadow-startup-hooks"]);
        assert_eq!(names("npm test"), ["shadow-npm-test"]);
        assert_eq!(names("npx jest --ci"), ["shadow-jest-bin"]);
        assert_eq!(names("./run-checks"), ["shadow-local-run-checks"]);
        assert!(names("bash tests/run.sh").is_empty());
    }
}
