//! `sforge audit` end to end on the real Docker engine: test-only tasks, each vulnerable to one
//! route (a runner shadowable from the submission directory, a grader outside `submit_exclude`,
//! a grader echoing the submission's errors next to its hidden answers), are flagged with the
//! report lines that show it; their hardened twins and the shipped example tasks hold.

// Tests observe the system directly, independent of the product's process gateway.
#![allow(clippy::disallowed_methods)]

mod support;

use base64::Engine as _;
use serde_json::{json, Value};
use support::{SforgeRun, TestBenchmark};

/// pytest run without `-I` from the task directory: `pytest.py`/`pytest.ini` there shadow it.
const VULN_RUNNER: &str = "vuln_runner";
/// Its grader `grader/score.py` is not under `submit_exclude`.
const VULN_GRADER: &str = "vuln_grader";
/// As `vuln_grader` with `grader/` protected.
const HARDENED_GRADER: &str = "hardened_grader";
/// Its grader puts the submission's import error into the report beside hidden answers.
const VULN_LEAK: &str = "vuln_leak";
/// The word only the judge of `vuln_leak` has.
const SECRET: &str = "EXPECTED_ANSWER_TOKEN_QX7";

/// `content` written to `path` by a setup command.
fn put(path: &str, content: &str) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(content);
    format!("echo {b64} | base64 -d > {path}")
}

/// A small python task; the judge has `solution.py` returning 0 and `judge_setup`.
fn task(id: &str, parser: &str, eval_cmd: &str, exclude: &[&str], judge_setup: &[String]) -> Value {
    let cwd = format!("/home/workspace/{id}");
    let solution = put("solution.py", "def answer():\n    return 0\n");
    let mut judge = vec![
        format!("mkdir -p {cwd}/tests {cwd}/grader"),
        format!("cd {cwd}"),
        solution.clone(),
    ];
    judge.extend(judge_setup.iter().cloned());
    json!({
        "task_id": id,
        "name": format!("Audit test task {id}"),
        "base_image": "python",
        "platform": "linux/amd64",
        "cwd": cwd,
        "submit_paths": ["."],
        "submit_exclude": exclude,
        "internet": false,
        "work": {
            "setup_cmds": [format!("mkdir -p {cwd}"), format!("cd {cwd}"), "printf 'def answer():\\n    return 0\\n' > solution.py"],
            "agent_query": "Make answer() in solution.py return the answer.",
        },
        "judge": {
            "setup_cmds": judge,
            "eval_cmd": format!("cd {cwd} && {eval_cmd}"),
            "eval_timeout": 15,
            "parser": parser,
            "score_direction": "maximize",
            "selection": if parser == "pytest_v" { "pass_rate_first" } else { "score_first" },
        },
    })
}

/// Asks the submission for its answer in a separate process; only the last line counts.
const SCORE_PY: &str = r#"import subprocess, sys
r = subprocess.run([sys.executable, "-I", "-c", "import sys; sys.path.insert(0, '.'); from solution import answer; print(answer())"], capture_output=True, text=True, timeout=10)
ok = r.stdout.strip().splitlines()[-1:] == ["42"]
print("CASE 1 %s score=%d" % ("OK" if ok else "WA", 100 if ok else 0))
print("TOTAL_SCORE %d" % (100 if ok else 0))
"#;

/// Imports the submission in-process and reports its import error verbatim.
const GRADE_PY: &str = r#"import json, sys
sys.path.insert(0, ".")
expected = open("tests/expected.txt").read().split()
try:
    from solution import answer
    ok, msg = answer() == int(expected[1]), "checked"
except BaseException as exc:
    ok, msg = False, "import failed: %r" % (exc,)
print(">>>>> Start Structured Result")
print(json.dumps({"valid": True, "score": 100 if ok else 0, "summary": msg,
                  "details": [{"name": "answer", "status": "PASSED" if ok else "FAILED", "message": msg}]}))
print(">>>>> End Structured Result")
"#;

const TEST_HIDDEN: &str = "from solution import answer\n\n\ndef test_answer():\n    assert answer() == 42\n\n\ndef test_answer_plus_one():\n    assert answer() + 1 == 43\n";

fn write_fixture_tasks(bench: &TestBenchmark) {
    bench.write_task(&task(
        VULN_RUNNER,
        "pytest_v",
        "python3 -m pytest -v -p no:cacheprovider tests",
        &["tests/"],
        &[put("tests/test_hidden.py", TEST_HIDDEN)],
    ));
    for (id, exclude) in [
        (VULN_GRADER, &["tests/"][..]),
        (HARDENED_GRADER, &["tests/", "grader/"][..]),
    ] {
        bench.write_task(&task(
            id,
            "score_sum",
            "python3 -I grader/score.py",
            exclude,
            &[put("grader/score.py", SCORE_PY)],
        ));
    }
    bench.write_task(&task(
        VULN_LEAK,
        "structured_json",
        "python3 -I tests/grade.py",
        &["tests/"],
        &[
            format!("printf '{SECRET} 42\\n' > tests/expected.txt"),
            put("tests/grade.py", GRADE_PY),
        ],
    ));
}

/// The findings of `task` in an `audit --json` document: (attack, verdict, evidence).
fn findings<'a>(doc: &'a Value, task: &str) -> Vec<(&'a str, &'a str, String)> {
    let audit = doc["tasks"]
        .as_array()
        .expect("tasks")
        .iter()
        .find(|t| t["task_id"] == task)
        .unwrap_or_else(|| panic!("no audit of {task} in {doc:#}"));
    audit["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["attack"].as_str().unwrap_or_default(),
                f["verdict"].as_str().unwrap_or_default(),
                f["evidence"].to_string(),
            )
        })
        .collect()
}

fn succeeded<'a>(doc: &'a Value, task: &str) -> Vec<(&'a str, String)> {
    findings(doc, task)
        .into_iter()
        .filter(|(_, v, _)| *v == "succeeded")
        .map(|(a, _, e)| (a, e))
        .collect()
}

#[test]
fn audit_flags_vulnerable_graders_and_passes_hardened_ones() {
    if !support::require_docker() {
        return;
    }
    let bench = TestBenchmark::new("sforge-test-audit");
    write_fixture_tasks(&bench);
    let tasks = [
        "coin_change",
        "text_utils",
        "tour_planner",
        VULN_RUNNER,
        VULN_GRADER,
        HARDENED_GRADER,
        VULN_LEAK,
    ];
    let mut build = bench.sforge();
    build.args(["--silent", "build"]);
    for t in tasks {
        build.args(["--task", t]);
    }
    SforgeRun::of(&mut build).expect_code(0);

    let mut audit = bench.sforge();
    audit.args(["audit", "--all", "--json", "--jobs", "2"]);
    let run = SforgeRun::of(&mut audit);
    run.expect_code(3);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}\n{run}"));

    for example in ["coin_change", "text_utils", "tour_planner", HARDENED_GRADER] {
        assert_eq!(
            succeeded(&doc, example),
            vec![],
            "{example} must hold\n{run}"
        );
        assert!(
            findings(&doc, example).iter().all(|(_, v, _)| *v == "held"),
            "{example}: every attack graded and held\n{doc:#}"
        );
    }
    let runner = succeeded(&doc, VULN_RUNNER);
    assert!(
        runner
            .iter()
            .any(|(a, e)| *a == "shadow-pytest-module" && e.contains("sforge_audit")),
        "{runner:?}"
    );
    // Its tests import the submission in the runner's process: lines printed at exit count.
    assert!(
        runner
            .iter()
            .any(|(a, e)| *a == "forge-result-lines" && e.contains("PASSED")),
        "{runner:?}"
    );
    let grader = succeeded(&doc, VULN_GRADER);
    assert!(
        grader
            .iter()
            .any(|(a, e)| a.starts_with("protected-") && e.contains("TOTAL_SCORE")),
        "{grader:?}"
    );
    let leak = succeeded(&doc, VULN_LEAK);
    assert!(
        leak.iter()
            .any(|(a, e)| *a == "leak-judge-files" && e.contains(SECRET)),
        "{leak:?}"
    );
    // The reports are kept under <log_dir>/audits/<id>/<task>/<attack>/.
    let dir = std::path::PathBuf::from(doc["dir"].as_str().expect("dir"));
    assert!(dir.starts_with(bench.log_dir().join("audits")), "{dir:?}");
    assert!(dir
        .join(VULN_LEAK)
        .join("leak-judge-files")
        .join("report.json")
        .is_file());
    assert!(
        !bench.log_dir().join("runs").exists(),
        "nothing written into real runs"
    );

    // The table names the route and shows the forged total the parser took.
    let mut table = bench.sforge();
    table.args(["--silent", "audit", "--task", VULN_GRADER, "--jobs", "2"]);
    let run = SforgeRun::of(&mut table);
    run.expect_code(3)
        .expect_stdout(&format!("Task {VULN_GRADER}: VULNERABLE"))
        .expect_stdout("baseline-empty: 0/1 passed");
    let row = run
        .stdout
        .lines()
        .position(|l| l.contains("protected-overwrite") && l.contains("SUCCEEDED"))
        .unwrap_or_else(|| panic!("no protected-overwrite row\n{run}"));
    assert!(
        run.stdout
            .lines()
            .nth(row + 1)
            .is_some_and(|l| l.contains("| TOTAL_SCORE 1000000000")),
        "{run}"
    );
}

#[test]
fn audit_needs_a_known_task_or_all() {
    let bench = TestBenchmark::new("sforge-test-audit-args");
    SforgeRun::of(bench.sforge().arg("audit")).expect_code(2);
    SforgeRun::of(
        bench
            .sforge()
            .args(["audit", "--all", "--task", "text_utils"]),
    )
    .expect_code(2);
    SforgeRun::of(bench.sforge().args(["audit", "--task", "no_such_task"]))
        .expect_code(1)
        .expect_output("no_such_task");
}
