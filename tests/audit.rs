//! `sforge audit` end to end on the real Docker engine: test-only tasks, each vulnerable to one
//! route (a runner shadowable from the submission directory, a grader outside `submit_exclude`
//! — also on a minimising task whose empty submission scores 0 —, a grader echoing the
//! submission's errors next to its hidden answers, a grader whose failure message names the
//! answer, a grader that waits on the submission without a time bound), are flagged with the
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
/// As `vuln_grader` with `grader/` protected: the hardened twin of `vuln_grader` and of
/// `vuln_resource`.
const HARDENED_GRADER: &str = "hardened_grader";
/// As `vuln_grader`, minimising: a failure scores 0, so a forged 0 would only tie it.
const VULN_MINIMIZE: &str = "vuln_minimize";
/// As `hardened_grader`, but its grader waits on the submission without a time bound and reads
/// all its output into memory.
const VULN_RESOURCE: &str = "vuln_resource";
/// Its grader's failure message names the hidden answer: the empty submission's report leaks.
const LEAKY_BASELINE: &str = "leaky_baseline";
/// The word only the judge of `leaky_baseline` has.
const BASELINE_SECRET: &str = "BASELINE_ONLY_WORD_ZK4";
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
    task_in(id, parser, "maximize", eval_cmd, exclude, judge_setup)
}

fn task_in(
    id: &str,
    parser: &str,
    direction: &str,
    eval_cmd: &str,
    exclude: &[&str],
    judge_setup: &[String],
) -> Value {
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
            "score_direction": direction,
            "selection": if parser == "pytest_v" { "pass_rate_first" } else { "score_first" },
        },
    })
}

/// Asks the submission for its answer in a separate process group, bounded: 5 s, then the
/// group is killed; its output goes to a file of which the last 4 KiB are read.
const SCORE_PY: &str = r#"import os, signal, subprocess, sys, tempfile
ASK = "import sys; sys.path.insert(0, '.'); from solution import answer; print(answer())"
with tempfile.TemporaryFile() as out:
    child = subprocess.Popen([sys.executable, "-I", "-c", ASK], stdout=out,
                             stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        child.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass
    finally:
        try:
            os.killpg(child.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        child.wait()
    out.seek(max(0, out.seek(0, 2) - 4096))
    tail = out.read().decode("utf-8", "replace")
ok = tail.strip().splitlines()[-1:] == ["42"]
print("CASE 1 %s score=%d" % ("OK" if ok else "WA", 100 if ok else 0))
print("TOTAL_SCORE %d" % (100 if ok else 0))
"#;

/// As `SCORE_PY`, but waiting on the submission for as long as it runs and holding all it
/// prints in memory.
const UNBOUNDED_SCORE_PY: &str = r#"import subprocess, sys
ASK = "import sys; sys.path.insert(0, '.'); from solution import answer; print(answer())"
r = subprocess.run([sys.executable, "-I", "-c", ASK], capture_output=True, text=True)
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

/// Calls the submission in a child process; a wrong answer's message names the expected one.
const TELLING_GRADE_PY: &str = r#"import json, subprocess, sys
expected = open("tests/expected.txt").read().split()
ASK = "import sys; sys.path.insert(0, '.'); from solution import answer; print(answer())"
try:
    out = subprocess.run([sys.executable, "-I", "-c", ASK], capture_output=True, text=True, timeout=5).stdout
except subprocess.TimeoutExpired:
    out = ""
ok = out.strip().splitlines()[-1:] == [expected[1]]
msg = "checked" if ok else "wrong: expected %s" % expected[0]
print(">>>>> Start Structured Result")
print(json.dumps({"valid": True, "score": 100 if ok else 0, "summary": "1 case",
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
    bench.write_task(&task_in(
        VULN_MINIMIZE,
        "score_sum",
        "minimize",
        "python3 -I grader/score.py",
        &["tests/"],
        &[put("grader/score.py", SCORE_PY)],
    ));
    bench.write_task(&task(
        VULN_RESOURCE,
        "score_sum",
        "python3 -I grader/score.py",
        &["tests/", "grader/"],
        &[put("grader/score.py", UNBOUNDED_SCORE_PY)],
    ));
    bench.write_task(&task(
        LEAKY_BASELINE,
        "structured_json",
        "python3 -I tests/grade.py",
        &["tests/"],
        &[
            format!("printf '{BASELINE_SECRET} 42\\n' > tests/expected.txt"),
            put("tests/grade.py", TELLING_GRADE_PY),
        ],
    ));
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
        VULN_MINIMIZE,
        VULN_RESOURCE,
        LEAKY_BASELINE,
    ];
    let mut build = bench.sforge();
    build.args(["--silent", "build"]);
    for t in tasks {
        build.args(["--task", t]);
    }
    SforgeRun::of(&mut build).expect_code(0);

    let mut audit = bench.sforge();
    audit.args(["audit", "--all", "--json", "--jobs", "3"]);
    let run = SforgeRun::of(&mut audit);
    run.expect_code(3);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}\n{run}"));
    for secret in [SECRET, BASELINE_SECRET] {
        assert!(
            !run.stdout.contains(secret) && !run.stderr.contains(secret),
            "judge-only words are shown masked\n{run}"
        );
    }
    assert_eq!(doc["summary"]["tasks"], 10, "{:#}", doc["summary"]);
    assert_eq!(doc["summary"]["vulnerable"], 6, "{:#}", doc["summary"]);
    assert_eq!(doc["summary"]["held"], 4, "{:#}", doc["summary"]);

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
            .any(|(a, e)| *a == "leak-judge-files" && e.contains("EXP***(25)")),
        "{leak:?}"
    );
    expect_second_round_findings(&doc);
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

    expect_table(&bench);
}

/// The table names the route, shows the forged total the parser took and the masked words of a
/// baseline leak, and ends with the summary.
fn expect_table(bench: &TestBenchmark) {
    // The table names the route and shows the forged total the parser took.
    let mut table = bench.sforge();
    table.args([
        "--silent",
        "audit",
        "--task",
        VULN_GRADER,
        "--task",
        LEAKY_BASELINE,
        "--jobs",
        "3",
    ]);
    let run = SforgeRun::of(&mut table);
    run.expect_code(3)
        .expect_stdout(&format!("Task {VULN_GRADER}: VULNERABLE"))
        .expect_stdout("baseline-empty: 0/1 passed")
        .expect_stdout("LEAKS AT BASELINE")
        .expect_stdout("Summary: 2 task(s), 2 vulnerable, 0 held");
    assert!(!run.stdout.contains(BASELINE_SECRET), "{run}");
    // Shown with --nocapture: what a task author reads.
    eprintln!("{}", run.stdout);
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

/// The findings on the leaky baseline, the minimising and the resource fixtures.
fn expect_second_round_findings(doc: &Value) {
    // The empty submission's report already names the answer: reported, masked.
    let at_baseline: Vec<_> = findings(doc, LEAKY_BASELINE)
        .into_iter()
        .filter(|(_, v, _)| *v == "leaks_at_baseline")
        .collect();
    assert!(
        at_baseline.iter().any(|(a, _, e)| *a == "leak-judge-files"
            && e.contains("baseline-empty report already holds 1")
            && e.contains("answer: wrong: expected BAS***(22)")),
        "{doc:#}"
    );
    // A forged total below the 0 a failure scores on a minimising task is selected.
    let minimize = succeeded(doc, VULN_MINIMIZE);
    assert!(
        minimize
            .iter()
            .any(|(a, e)| a.starts_with("protected-") && e.contains("TOTAL_SCORE -1000000000")),
        "{minimize:?}"
    );
    // A grader waiting on a sleeping submission: the judge's timeout ends the round without
    // the grader's total. Its hardened twin (`hardened_grader`) held above.
    let resource = succeeded(doc, VULN_RESOURCE);
    assert!(
        resource.iter().all(|(a, _)| a.starts_with("resource-")),
        "only the resource route: {resource:?}"
    );
    assert!(
        resource.iter().any(|(a, e)| *a == "resource-sleep"
            && e.contains(
                "sleeps 45 s at import, past the 15 s eval timeout: the judge's eval timeout fired"
            )),
        "{resource:?}"
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
