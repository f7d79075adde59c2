//! Behaviour of the rendered `sforge-submit`, run with the host's bash, curl, jq and tar against
//! [`FakeJudge`]: output, exit codes, the uploaded archive and the state file.
#![allow(
    clippy::disallowed_methods,
    reason = "these tests run the generated script itself with bash on the host"
)]

use std::path::PathBuf;
use std::process::Command;

use serde_json::{json, Value};

use super::fake_judge::{FakeJudge, Reply, Script};
use super::render_submit_script;

/// A patch directory, a temp dir and the rendered script.
struct Sandbox {
    dir: tempfile::TempDir,
    script: PathBuf,
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Sandbox {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("sforge-submit");
        std::fs::write(&script, render_submit_script().unwrap()).unwrap();
        let repo = dir.path().join("repo");
        for (path, text) in [
            ("src/a.py", "print('a')\n"),
            ("src/.git/HEAD", "ref: main\n"),
            ("src/debug.log", "noise\n"),
            ("tests/test_a.py", "def test(): pass\n"),
            ("notes.log", "noise\n"),
            ("--exclude=x.log", "a file whose name looks like a flag\n"),
        ] {
            let file = repo.join(path);
            std::fs::create_dir_all(file.parent().unwrap()).unwrap();
            std::fs::write(file, text).unwrap();
        }
        std::fs::create_dir_all(dir.path().join("tmp")).unwrap();
        Self { dir, script }
    }

    fn state_file(&self) -> PathBuf {
        self.dir.path().join("state.json")
    }

    fn run(&self, judge_url: &str, args: &[&str], extra: &[(&str, &str)]) -> Run {
        let root = self.dir.path();
        let mut cmd = Command::new("bash");
        cmd.arg(&self.script)
            .args(args)
            .current_dir(root)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("TMPDIR", root.join("tmp"))
            .env("SFORGE_JUDGE_URL", judge_url)
            .env("SFORGE_TOKEN", "0123456789abcdef0123456789abcdef")
            .env("SFORGE_PATCH_DIR", root.join("repo"))
            .env("SFORGE_SUBMIT_PATHS", "src tests notes.log absent")
            .env(
                "SFORGE_SUBMIT_EXCLUDE_FLAGS",
                "--exclude=tests --exclude=*.log",
            )
            .env("SFORGE_STATE_FILE", self.state_file())
            .env("SFORGE_SUBMIT_POLL_INTERVAL", "0");
        for (key, value) in extra {
            cmd.env(key, value);
        }
        let out = cmd.output().expect("bash runs");
        let run = Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        };
        let leftovers: Vec<_> = std::fs::read_dir(root.join("tmp")).unwrap().collect();
        assert!(
            leftovers.is_empty(),
            "temp files left behind: {leftovers:?}"
        );
        run
    }
}

fn accepted() -> Reply {
    Reply::json(
        200,
        &json!({"submission_id": "5f1e2d3c4b5a", "round_id": "agent-1", "status": "queued",
                "remaining_submissions": 2}),
    )
}

fn completed(report: &Value) -> Reply {
    Reply::json(
        200,
        &json!({"submission_id": "5f1e2d3c4b5a", "status": "completed",
                              "report": report, "error": null}),
    )
}

fn pytest_report() -> Value {
    json!({"total_tests": 3, "passed": 2, "failed": 1, "errors": 0, "pass_rate": 2.0 / 3.0,
           "score": 12.5, "valid": true, "summary": "2/3 tests passed. Failed: t_c",
           "details": [], "metrics": {"runtime": 1.5, "note": "fast"},
           "test_details": [{"name": "t_a", "status": "PASSED"}, {"name": "t_b", "status": "XFAIL"},
                            {"name": "t_c", "status": "FAILED"}]})
}

fn start_judge(submit: Reply, results: Vec<Reply>) -> FakeJudge {
    FakeJudge::start(Script {
        submit,
        results,
        history: Reply::json(200, &json!({"entries": []})),
    })
}

#[test]
fn a_graded_submission_prints_the_results_and_records_state() {
    let sandbox = Sandbox::new();
    let running = Reply::json(200, &json!({"status": "running", "report": null}));
    let judge = start_judge(accepted(), vec![running, completed(&pytest_report())]);
    let run = sandbox.run(&judge.url, &[], &[]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    for line in [
        "Round: agent-1 (remaining submissions: 2)",
        "Score: 12.5",
        "Pass rate: 66.6% (2/3 tests passed)",
        "Summary: 2/3 tests passed. Failed: t_c",
        "runtime: 1.5",
        "note: fast",
        "  - t_c",
    ] {
        assert!(
            run.stdout.lines().any(|l| l == line),
            "missing {line:?} in:\n{}",
            run.stdout
        );
    }
    assert!(!run.stdout.contains("Valid: no") && !run.stdout.contains("t_b"));
    let received = judge.received();
    let submit = received.iter().find(|r| r.url == "/api/v1/submit").unwrap();
    assert_eq!(submit.method, "POST");
    let form = String::from_utf8_lossy(&submit.body);
    assert!(form.contains("name=\"token\"") && form.contains("0123456789abcdef0123456789abcdef"));
    assert_eq!(submit.archive_members(), ["src/", "src/a.py"]);
    let polls = received
        .iter()
        .filter(|r| r.url == "/api/v1/result/5f1e2d3c4b5a");
    assert_eq!(polls.count(), 2);
    let state: Value =
        serde_json::from_slice(&std::fs::read(sandbox.state_file()).unwrap()).unwrap();
    assert_eq!(state["best_round"], "agent-1");
    assert_eq!(state["best_score"], 12.5);
    assert_eq!(state["submissions"][0]["kind"], "agent");
    assert!(state["submissions"][0]["at"].as_u64().unwrap() > 1_600_000_000);
}

#[test]
fn a_second_weaker_round_keeps_the_best() {
    let sandbox = Sandbox::new();
    let judge1 = start_judge(accepted(), vec![completed(&pytest_report())]);
    assert_eq!(sandbox.run(&judge1.url, &[], &[]).code, 0);
    let mut weaker = pytest_report();
    weaker["pass_rate"] = json!(0.1);
    let second = Reply::json(
        200,
        &json!({"submission_id": "aa", "round_id": "agent-2",
                                           "remaining_submissions": null}),
    );
    let judge2 = FakeJudge::start(Script {
        submit: second,
        results: vec![completed(&weaker)],
        history: Reply::json(200, &json!({})),
    });
    let run = sandbox.run(&judge2.url, &[], &[]);
    assert!(
        run.stdout.lines().any(|l| l == "Round: agent-2"),
        "{}",
        run.stdout
    );
    let state: Value =
        serde_json::from_slice(&std::fs::read(sandbox.state_file()).unwrap()).unwrap();
    assert_eq!(state["best_round"], "agent-1");
    assert_eq!(state["submissions"].as_array().unwrap().len(), 2);
}

fn assert_fails(run: &Run, stderr_line: &str) {
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.lines().any(|l| l == stderr_line),
        "missing {stderr_line:?} in stderr:\n{}",
        run.stderr
    );
}

#[test]
fn limits_deadline_and_rejections_exit_1() {
    let sandbox = Sandbox::new();
    let cases = [
        (
            429,
            "Submission budget exhausted (2/2 used)",
            "SUBMISSION LIMIT REACHED: ",
        ),
        (
            429,
            "Submission cooldown active — wait 7s before next submission.",
            "COOLDOWN: ",
        ),
        (403, "Run deadline has passed", "ERROR: "),
    ];
    for (status, detail, prefix) in cases {
        let judge = start_judge(Reply::json(status, &json!({"detail": detail})), vec![]);
        let run = sandbox.run(&judge.url, &[], &[]);
        assert_fails(&run, &format!("{prefix}{detail}"));
        if status == 429 {
            assert_eq!(
                run.stdout.lines().last(),
                Some(detail),
                "detail also on stdout"
            );
        }
        assert!(judge
            .received()
            .iter()
            .all(|r| !r.url.starts_with("/api/v1/result")));
    }
    let judge = start_judge(
        Reply {
            status: 500,
            body: "Internal Server Error".into(),
        },
        vec![],
    );
    let run = sandbox.run(&judge.url, &[], &[]);
    assert_fails(&run, "ERROR: Failed to submit to judge server (HTTP 500)");
    assert!(run.stderr.contains("Internal Server Error"));
    assert!(!sandbox.state_file().exists());
}

#[test]
fn an_unreachable_judge_is_named() {
    let sandbox = Sandbox::new();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    for args in [&[][..], &["--list"][..]] {
        let run = sandbox.run(&url, args, &[]);
        assert_eq!(run.code, 1);
        let prefix = format!("ERROR: cannot reach the judge at {url}: ");
        assert!(
            run.stderr.starts_with(&prefix) && run.stderr.len() > prefix.len() + 5,
            "{}",
            run.stderr
        );
    }
}

#[test]
fn polling_gives_up_and_grading_errors_exit_1() {
    let sandbox = Sandbox::new();
    let running = Reply::json(200, &json!({"status": "running"}));
    let judge1 = start_judge(accepted(), vec![running]);
    let run = sandbox.run(&judge1.url, &[], &[("SFORGE_SUBMIT_POLL_MAX", "3")]);
    assert_fails(&run, "ERROR: Evaluation timed out or judge unreachable");
    assert_eq!(judge1.received().len(), 4, "one submit and three polls");

    let failed = Reply::json(
        200,
        &json!({"status": "error", "report": null,
                                           "error": "judge container failed to start"}),
    );
    let judge2 = start_judge(accepted(), vec![failed]);
    let run = sandbox.run(&judge2.url, &[], &[]);
    assert_fails(&run, "ERROR: judge container failed to start");
    assert!(
        run.stdout.contains("Round agent-1: ERROR"),
        "{}",
        run.stdout
    );
    assert!(
        !sandbox.state_file().exists(),
        "an infrastructure error is not a result"
    );
}

#[test]
fn details_failures_and_validity() {
    let sandbox = Sandbox::new();
    let details: Vec<Value> = (1..=25)
        .map(
            |i| json!({"name": format!("case_{i}"), "status": "FAILED", "message": "wrong answer"}),
        )
        .chain([json!({"name": "case_ok", "status": "PASSED", "message": ""})])
        .collect();
    let report = json!({"total_tests": 26, "passed": 1, "pass_rate": 1.0 / 26.0, "score": null,
                        "valid": false, "summary": "", "details": details, "metrics": {}});
    let judge = start_judge(accepted(), vec![completed(&report)]);
    let run = sandbox.run(&judge.url, &["-d"], &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    for line in [
        "Valid: no",
        "Pass rate: 3.8% (1/26 tests passed)",
        "  - case_20",
        "  ... and 5 more",
        "[FAILED] case_25: wrong answer",
        "[PASSED] case_ok: ",
    ] {
        assert!(
            lines.contains(&line),
            "missing {line:?} in:\n{}",
            run.stdout
        );
    }
    assert!(!lines.contains(&"  - case_21") && !run.stdout.contains("Score:"));

    let all = json!({"total_tests": 2, "passed": 2, "pass_rate": 1.0, "score": 3,
                     "test_details": [{"name": "a", "status": "PASSED"}, {"name": "b", "status": "PASSED"}]});
    let judge = start_judge(accepted(), vec![completed(&all)]);
    let run = sandbox.run(&judge.url, &[], &[]);
    assert!(
        run.stdout.lines().any(|l| l == "All tests passed!"),
        "{}",
        run.stdout
    );
    assert!(run
        .stdout
        .lines()
        .any(|l| l == "Pass rate: 100.0% (2/2 tests passed)"));
}

#[test]
fn list_shows_the_history_table() {
    let sandbox = Sandbox::new();
    let history = json!({"best_pass_rate": 0.5, "best_score": 7, "entries": [
        {"type": "submission", "round": "agent-1", "status": "completed", "valid": true,
         "pass_rate": 0.5, "score": 7, "summary": "1/2 tests passed. Failed: a very long test name here"},
        {"type": "submission", "round": "agent-2", "status": "running"},
        {"type": "game", "round": "game-1", "pass_rate": 0.1}]});
    let judge = FakeJudge::start(Script {
        submit: accepted(),
        results: vec![],
        history: Reply::json(200, &history),
    });
    let run = sandbox.run(&judge.url, &["--list"], &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    for line in [
        " Submission history: 3 total",
        " Best pass rate: 50.0%",
        " Best score: 7",
        "ROUND         STATUS    VALID   PASS_RATE   SCORE     SUMMARY",
        "agent-1       completed yes     50.0%       7         1/2 tests passed. Failed: a very long...",
        "agent-2       running   yes     -           -         ",
    ] {
        assert!(lines.contains(&line), "missing {line:?} in:\n{}", run.stdout);
    }
    assert!(!run.stdout.contains("game-1"));
    let received = judge.received();
    assert_eq!(
        received[0].url,
        "/api/v1/history?token=0123456789abcdef0123456789abcdef"
    );
}

#[test]
fn usage_errors() {
    let sandbox = Sandbox::new();
    let run = sandbox.run("http://127.0.0.1:9", &["--bogus"], &[]);
    assert_fails(&run, "ERROR: Unknown option: --bogus");
    let run = sandbox.run("http://127.0.0.1:9", &["--help"], &[]);
    assert_eq!(run.code, 0);
    assert!(run.stdout.contains("--details") && run.stdout.contains("--list"));
    let run = sandbox.run("", &[], &[]);
    assert_fails(&run, "ERROR: SFORGE_JUDGE_URL not set");
    let run = sandbox.run("http://127.0.0.1:9", &[], &[("SFORGE_TOKEN", "")]);
    assert_fails(&run, "ERROR: SFORGE_TOKEN not set");
}
