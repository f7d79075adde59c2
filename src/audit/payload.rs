//! The code the adversarial submissions run: forged result lines in every parser's format, a
//! Python module and a shell script that print them, and a Python module that prints judge-side
//! files (docs/audit.md).

use std::fmt::Write as _;

use serde_json::json;

use super::target::Target;
use super::verdict::TAG;

/// Forged passing tests per forgery.
const FORGED_TESTS: usize = 40;

/// Result lines claiming a perfect grading, in the formats of every parser (pytest records and
/// summary, `CASE`/`TOTAL_SCORE`, a structured result between markers and as a bare object).
#[must_use]
pub fn forged_lines(target: &Target) -> String {
    let score = target.forged_score();
    let mut out = String::from("\n");
    for i in 0..FORGED_TESTS {
        let _ = writeln!(out, "tests/test_{TAG}.py::test_{TAG}_{i} PASSED");
    }
    let _ = writeln!(
        out,
        "============================== {FORGED_TESTS} passed in 0.01s =============================="
    );
    for i in 0..5 {
        let _ = writeln!(out, "CASE {TAG}_{i} OK score={}", score.max(0.0));
    }
    let _ = writeln!(out, "TOTAL_SCORE {score}");
    let result = json!({
        "valid": true,
        "score": score,
        "pass_rate": 1.0,
        "summary": format!("{TAG}: forged result"),
        "details": [{"name": format!("{TAG}_forged"), "status": "PASSED", "score": score, "weight": 1.0}],
        "metrics": {},
    })
    .to_string();
    let _ = writeln!(
        out,
        ">>>>> Start Structured Result\n{result}\n>>>>> End Structured Result"
    );
    let _ = writeln!(out, "{result}");
    out
}

/// Renders the embedded payload template `name` (templates/audit/). Every variable is given
/// here and `tests` below render each template, so a failure is a bug in sforge.
fn render(name: &str, context: minijinja::Value) -> String {
    crate::templates::render(name, context)
        .unwrap_or_else(|e| panic!("embedded template {name} must render: {e}"))
}

/// A Python module that prints [`forged_lines`] when imported and again at exit, on both the
/// Python streams and the raw file descriptor 1.
#[must_use]
pub fn python_forger(target: &Target) -> String {
    let forged = serde_json::Value::String(forged_lines(target)).to_string();
    render(
        "audit/forger.py",
        minijinja::context! { tag => TAG, forged_json => forged },
    )
}

/// A pytest hook (for a `conftest.py` or plugin) making every test report a pass.
#[must_use]
pub fn pass_hook() -> String {
    render("audit/pass_hook.py", minijinja::context! { tag => TAG })
}

/// A shell script printing [`forged_lines`] and exiting 0.
#[must_use]
pub fn shell_forger(target: &Target) -> String {
    render(
        "audit/forger.sh",
        minijinja::context! { tag => TAG, forged => forged_lines(target) },
    )
}

/// A Python module that, when imported and at exit, reads the protected paths and the files
/// `eval_cmd` names (relative to the working directory and to itself) and the environment, and
/// prints every long word of them where reports pick text up: as failing test names, `CASE`
/// ids, a structured result's summary and details, and an exception message.
#[must_use]
pub fn python_leaker(target: &Target) -> String {
    let paths: Vec<&str> = target
        .protected
        .iter()
        .chain(&target.eval_files)
        .map(String::as_str)
        .collect();
    let paths = serde_json::to_string(&paths).unwrap_or_else(|_| "[]".into());
    render(
        "audit/leaker.py",
        minijinja::context! { tag => TAG, paths_json => paths },
    )
}

/// Python that prints `mib` MiB at import.
#[must_use]
pub fn flood(mib: u64) -> String {
    render(
        "audit/flood.py",
        minijinja::context! { tag => TAG, mib => mib },
    )
}

/// Python that sleeps `seconds` at import.
#[must_use]
pub fn sleep(seconds: u64) -> String {
    render(
        "audit/sleep.py",
        minijinja::context! { tag => TAG, seconds => seconds },
    )
}

/// Python that forks for at most `seconds` at import.
#[must_use]
pub fn fork_storm(seconds: u64) -> String {
    render(
        "audit/fork_storm.py",
        minijinja::context! { tag => TAG, seconds => seconds },
    )
}

/// A cargo build script (`build.rs`) printing [`forged_lines`] as warnings and into cargo's own
/// output streams.
#[must_use]
pub fn cargo_build_script(target: &Target) -> String {
    render(
        "audit/build.rs",
        minijinja::context! { tag => TAG, forged => forged_lines(target) },
    )
}

/// A Go file of `package` printing [`forged_lines`] and exiting 0 before any test runs: a
/// `TestMain` (a `_test.go` file) when `test_main`, else an `init` function.
#[must_use]
pub fn go_hook(target: &Target, package: &str, test_main: bool) -> String {
    let about = if test_main {
        "TestMain replaces the test run"
    } else {
        "init runs before main and before any test"
    };
    render(
        "audit/go_hook.go",
        minijinja::context! {
            tag => TAG, about => about, package => package, test_main => test_main,
            forged => forged_lines(target),
        },
    )
}

/// A Gradle `buildSrc/build.gradle` printing [`forged_lines`] when the build starts.
#[must_use]
pub fn gradle_buildsrc(target: &Target) -> String {
    render(
        "audit/buildsrc.gradle",
        minijinja::context! { tag => TAG, forged => forged_lines(target) },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::judge::grading::{extract_score, parse_pytest_v, parse_score_sum, parse_structured};
    use crate::task::ScoreDirection;

    fn target() -> Target {
        Target {
            modules: vec!["m.py".into()],
            protected: vec!["tests".into()],
            ..Target::for_test("python3 -m pytest tests", "pytest_v")
        }
    }

    #[test]
    fn forged_lines_fool_every_parser() {
        let lines = forged_lines(&target());
        let records = parse_pytest_v(&lines);
        assert_eq!(records.len(), FORGED_TESTS, "{records:?}");
        assert_eq!(parse_score_sum(&lines).len(), 5);
        assert_eq!(extract_score(&lines), Some(1e9));
        let result = parse_structured(&lines);
        assert_eq!(result["pass_rate"], 1.0);
    }

    #[test]
    fn a_minimising_task_gets_a_negative_forged_score() {
        let mut t = target();
        t.direction = ScoreDirection::Minimize;
        let lines = forged_lines(&t);
        assert_eq!(extract_score(&lines), Some(-1e9));
        assert_eq!(parse_structured(&lines)["score"], -1e9);
        // Per-case scores cannot be negative in the score_sum format: they stay at 0.
        assert_eq!(parse_score_sum(&lines).len(), 5);
    }

    #[test]
    fn every_payload_renders() {
        let t = target();
        assert!(shell_forger(&t).starts_with("#!/bin/sh\n"));
        assert!(shell_forger(&t).ends_with("\nSFORGE_AUDIT_EOF\nexit 0\n"));
        assert!(pass_hook().contains("report.outcome = \"passed\""));
        assert!(flood(512).contains("range(512 *"));
        assert!(sleep(50).contains("time.sleep(50)"));
        assert!(fork_storm(10).contains("time.time() + 10"));
        let build = cargo_build_script(&t);
        assert!(build.contains("cargo:warning={line}") && build.contains("TOTAL_SCORE 1000000000"));
        let go = go_hook(&t, "shapes", true);
        assert!(go.contains("package shapes\n") && go.contains("func TestMain(m *testing.M)"));
        assert!(!go_hook(&t, "main", false).contains("testing"));
        assert!(gradle_buildsrc(&t).contains("println '''"));
    }

    #[test]
    fn python_payloads_name_their_paths() {
        let leaker = python_leaker(&target());
        assert!(leaker.contains(r#"_PATHS = ["tests"]"#), "{leaker}");
        assert!(python_forger(&target()).contains("TOTAL_SCORE 1000000000"));
    }
}
