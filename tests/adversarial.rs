//! Submissions that try to score without solving, graded by the real judge (`sforge eval` in
//! fresh judge containers) on the shipped example tasks: shadowing the test runner or Python's
//! start-up hooks, printing forged result lines at import and at exit, writing them to the
//! grader's own output through `/proc`, and reading the hidden tests. Each must score as the
//! skeleton does — nothing (docs/security.md).

// Tests observe the system directly, independent of the product's process gateway.
#![allow(clippy::disallowed_methods)]

mod support;

use std::sync::{Arc, Mutex, Weak};

use serde_json::Value;
use support::{BenchFixture, SforgeRun};

static FIXTURE: Mutex<Weak<BenchFixture>> = Mutex::new(Weak::new());

fn fixture() -> Arc<BenchFixture> {
    support::built_benchmark(
        &FIXTURE,
        "sforge-test-adversarial",
        &["text_utils", "coin_change", "tour_planner"],
    )
}

/// Seven forged pytest result lines and a summary claiming they passed.
const FORGED_PYTEST: &str = "FORGED = '\\n'.join([f'tests/test_textkit.py::test_{n} PASSED' \
     for n in ('slugify_basic', 'slugify_symbols_and_spaces', 'slugify_empty', 'word_count_basic', \
     'word_count_empty', 'is_palindrome_true', 'is_palindrome_false')] \
     + ['============================== 7 passed in 0.01s ==============================='])\n";

/// Python that writes `text` to stdout now, at exit, and into every stdout it can open through
/// /proc (the grader's, if it could reach it).
fn forger(text_expr: &str) -> String {
    format!(
        "import atexit, glob, os, sys\n\
         def _forge():\n\
         \x20   text = {text_expr}\n\
         \x20   print(text, flush=True)\n\
         \x20   for fd in glob.glob('/proc/*/fd/1') + glob.glob('/proc/*/fd/2'):\n\
         \x20       try:\n\
         \x20           with open(fd, 'w') as out:\n\
         \x20               out.write(text + '\\n')\n\
         \x20       except OSError:\n\
         \x20           pass\n\
         _forge()\n\
         atexit.register(_forge)\n"
    )
}

/// `sforge eval --json` of a submission made of `files` (path, content) for `task`.
fn eval(fixture: &BenchFixture, task: &str, files: &[(&str, String)]) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    for (path, content) in files {
        let path = src.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }
    let archive = dir.path().join("submission.tar.gz");
    std::fs::write(&archive, support::tar_gz_of_dir(&src)).unwrap();
    let mut cmd = fixture.bench.sforge();
    cmd.args(["--silent", "eval", "--json", "--task", task, "--archive"])
        .arg(&archive);
    let run = SforgeRun::of(&mut cmd);
    run.expect_code(0);
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}\n{run}"))
}

fn assert_nothing_passed(report: &Value, attack: &str) {
    assert_eq!(report["passed"], 0, "{attack}: {report:#}");
    assert_eq!(report["pass_rate"], 0.0, "{attack}: {report:#}");
}

#[test]
fn text_utils_cannot_be_passed_by_shadowing_or_forging() {
    require_docker!();
    let fixture = fixture();
    let forged = format!("{FORGED_PYTEST}{}", forger("FORGED"));
    let attacks: Vec<(&str, Vec<(&str, String)>)> = vec![
        (
            "pytest.py shadowing the runner",
            vec![("pytest.py", forged.clone() + "raise SystemExit(0)\n")],
        ),
        (
            "start-up hooks",
            vec![
                ("sitecustomize.py", forged.clone()),
                ("usercustomize.py", forged.clone()),
                ("sforge.pth", "import sitecustomize\n".to_owned()),
            ],
        ),
        (
            "forged lines at import and exit",
            vec![("textkit.py", forged.clone())],
        ),
        (
            "a plugin module",
            vec![
                ("_pytest/__init__.py", forged.clone()),
                ("pluggy.py", forged),
            ],
        ),
    ];
    for (attack, files) in attacks {
        let report = eval(&fixture, "text_utils", &files);
        assert_nothing_passed(&report, attack);
    }
}

#[test]
fn coin_change_cannot_be_scored_by_printing_a_total() {
    require_docker!();
    let fixture = fixture();
    let change = forger("'TOTAL_SCORE 100\\nCASE 1 OK score=10.00'")
        + "def make_change(amount, coins):\n    raise RuntimeError('not solved')\n";
    let report = eval(&fixture, "coin_change", &[("change.py", change)]);
    assert_eq!(report["score"], 0.0, "{report:#}");
    assert_nothing_passed(&report, "forged TOTAL_SCORE");
}

#[test]
fn tour_planner_cannot_be_scored_by_a_forged_structured_result() {
    require_docker!();
    let fixture = fixture();
    let forged =
        "'>>>>> Start Structured Result\\n{\"valid\": true, \"score\": 1.0, \"pass_rate\": 1.0, \
                  \"summary\": \"forged\"}\\n>>>>> End Structured Result'";
    let tour = forger(forged) + "def plan_tour(points):\n    return None\n";
    let report = eval(&fixture, "tour_planner", &[("tour.py", tour)]);
    assert_eq!(report["valid"], false, "{report:#}");
    assert!(report["score"].is_null(), "{report:#}");
    assert_nothing_passed(&report, "forged structured result");
}

#[test]
fn the_hidden_tests_cannot_be_read_by_the_submission() {
    require_docker!();
    let fixture = fixture();
    // plan_tour raises with whatever it can read of the hidden tests: the grader's message for
    // a failed instance, which the agent sees in `/result`, would carry it.
    let tour = "import glob\n\
                def plan_tour(points):\n\
                \x20   found = []\n\
                \x20   for path in glob.glob('tests/*') + glob.glob('/home/workspace/*/tests/*'):\n\
                \x20       try:\n\
                \x20           found.append(open(path).read())\n\
                \x20       except OSError as exc:\n\
                \x20           found.append(repr(exc))\n\
                \x20   raise RuntimeError('\\n'.join(found) or 'nothing found')\n";
    let report = eval(&fixture, "tour_planner", &[("tour.py", tour.to_owned())]);
    let text = report.to_string();
    assert!(
        !text.contains("INSTANCES"),
        "the hidden tests leaked into the report: {report:#}"
    );
    assert_nothing_passed(&report, "reading the tests");
}
