//! The judge end to end on the real Docker engine, through the `sforge` binary: `sforge eval` grades
//! the example solutions as documented (files, stdin, empty archives, timeouts, infrastructure
//! errors), and a real `sforge serve` grades multipart uploads, survives a restart, reports
//! infrastructure errors as errors, and never runs more judge containers than allowed.
//!
//! Every test works on a copy of `tasks/` under a unique benchmark name (plus a few test-only
//! tasks), built once and shared by the tests that run at the same time; its images and
//! containers are removed when the last of them finishes.

// Tests observe the system directly (docker, kill), independent of the product's process gateway.
#![allow(clippy::disallowed_methods)]

mod support;

use std::io::Write;
use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex, Weak};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::serve::Serve as Server;
use support::{BenchFixture, SforgeRun, TestBenchmark};

/// A task whose evaluation prints one passing test, then sleeps 30 s and prints another.
const SLEEPY: &str = "sleepy";
/// A task whose evaluation sleeps one second and prints one passing test.
const QUICK: &str = "quick";
/// A task whose evaluation takes four seconds and prints one passing test.
const SLOW: &str = "slow";
/// A task whose `cwd` is `/tmp`, where `eval.sh` goes too.
const TMP_CWD: &str = "tmpcwd";
/// A task whose evaluation passes only when the submitted `notes.txt` arrived.
const DELIVERED: &str = "delivered";
/// [`DELIVERED`] on a judge image without `tar`.
const NO_TAR: &str = "notar";
/// A task whose judge image has only an `image_tag` (nothing to build) and is not local.
const UNBUILDABLE: &str = "unbuildable";
const UNBUILDABLE_TAG: &str = "0123456789ab";

static FIXTURE: Mutex<Weak<BenchFixture>> = Mutex::new(Weak::new());

/// The benchmark with the example tasks and the test-only ones, every buildable image built.
fn fixture() -> Arc<BenchFixture> {
    support::shared_fixture(&FIXTURE, || {
        let bench = TestBenchmark::new("sforge-test-judge");
        let print_passed = |name: &str| format!("echo 'tests/test_e2e.py::{name} PASSED'");
        bench.write_task(&test_task(
            SLEEPY,
            &format!(
                "{}; sleep 30; {}",
                print_passed("test_before"),
                print_passed("test_after")
            ),
            None,
        ));
        bench.write_task(&test_task(
            QUICK,
            &format!("sleep 1; {}", print_passed("test_quick")),
            None,
        ));
        bench.write_task(&test_task(
            SLOW,
            &format!("sleep 4; {}", print_passed("test_slow")),
            None,
        ));
        bench.write_task(&test_task(
            UNBUILDABLE,
            &print_passed("test_never"),
            Some(UNBUILDABLE_TAG),
        ));
        let check_notes = format!(
            "test -f notes.txt && {}",
            print_passed("test_notes_arrived")
        );
        let mut delivered = test_task(DELIVERED, &check_notes, None);
        // A directory of the judge's own (not excluded) that a submission cannot replace.
        delivered["judge"]["setup_cmds"]
            .as_array_mut()
            .expect("setup_cmds")
            .push(json!(format!(
                "mkdir -p /home/workspace/{DELIVERED}/data && touch /home/workspace/{DELIVERED}/data/seed.txt"
            )));
        bench.write_task(&delivered);
        let mut no_tar = test_task(NO_TAR, &check_notes, None);
        no_tar["judge"]["setup_cmds"]
            .as_array_mut()
            .expect("setup_cmds")
            .push(json!("rm -f /bin/tar /usr/bin/tar"));
        bench.write_task(&no_tar);
        let mut tmp_cwd = test_task(TMP_CWD, &print_passed("test_real"), None);
        tmp_cwd["cwd"] = json!("/tmp");
        bench.write_task(&tmp_cwd);
        let mut build = bench.sforge();
        build.args(["--silent", "build"]);
        for task in [
            "coin_change",
            "text_utils",
            "tour_planner",
            SLEEPY,
            QUICK,
            SLOW,
            TMP_CWD,
            DELIVERED,
            NO_TAR,
        ] {
            build.args(["--task", task]);
        }
        SforgeRun::of(&mut build).expect_code(0);
        BenchFixture { bench }
    })
}

/// A small `pytest_v` task on the example's `python` base; its judge image is built from
/// `setup_cmds`, or has only `image_tag` when given.
fn test_task(id: &str, eval_cmd: &str, image_tag: Option<&str>) -> Value {
    let cwd = format!("/home/workspace/{id}");
    let mut judge = json!({
        "eval_cmd": eval_cmd,
        "eval_timeout": 120,
        "parser": "pytest_v",
        "score_direction": "maximize",
        "selection": "pass_rate_first",
    });
    match image_tag {
        Some(tag) => judge["image_tag"] = json!(tag),
        None => judge["setup_cmds"] = json!([format!("mkdir -p {cwd}")]),
    }
    json!({
        "task_id": id,
        "name": format!("Judge test task {id}"),
        "base_image": "python",
        "platform": "linux/amd64",
        "cwd": cwd,
        "submit_paths": ["."],
        "submit_exclude": ["tests/"],
        "internet": true,
        "work": {
            "setup_cmds": [format!("mkdir -p {cwd}")],
            "agent_query": "Nothing to do: this task exercises the judge.",
        },
        "judge": judge,
    })
}

/// The example solution `tasks/solutions/<task>/<kind>/` as a submission archive.
fn solution(bench: &TestBenchmark, task: &str, kind: &str) -> Vec<u8> {
    support::tar_gz_of_dir(&bench.tasks_dir().join("solutions").join(task).join(kind))
}

/// A submission that changes nothing the graders look at.
fn harmless_archive(bench: &TestBenchmark) -> Vec<u8> {
    let dir = bench.root().join("harmless");
    std::fs::create_dir_all(&dir).expect("create the harmless submission");
    std::fs::write(dir.join("notes.txt"), "nothing to grade\n").expect("write notes.txt");
    support::tar_gz_of_dir(&dir)
}

/// Writes `archive` beside the benchmark and returns its path.
fn archive_file(bench: &TestBenchmark, run_id: &str, archive: &[u8]) -> std::path::PathBuf {
    let path = bench.root().join(format!("{run_id}.tar.gz"));
    std::fs::write(&path, archive).expect("write the archive");
    path
}

/// `sforge eval --json` of `archive` for `task` as run `run_id`, with `extra` arguments.
fn eval_json(
    bench: &TestBenchmark,
    task: &str,
    run_id: &str,
    archive: &[u8],
    extra: &[&str],
) -> (SforgeRun, Value) {
    let path = archive_file(bench, run_id, archive);
    let run = SforgeRun::of(
        bench
            .sforge()
            .args([
                "--silent", "eval", "--json", "--task", task, "--run-id", run_id,
            ])
            .arg("--archive")
            .arg(&path)
            .args(extra),
    );
    run.expect_code(0);
    let report = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|err| panic!("stdout is not the JSON report ({err})\n{run}"));
    (run, report)
}

/// Panics unless no container of run `run_id` is left.
fn assert_no_judge_container(run_id: &str) {
    let left = support::containers_matching(&[&format!("label=sforge.run-id={run_id}")]);
    assert!(left.is_empty(), "judge containers left behind: {left:?}");
}

fn number(report: &Value, field: &str) -> f64 {
    report[field]
        .as_f64()
        .unwrap_or_else(|| panic!("report field {field} is not a number: {report:#}"))
}

fn assert_close(report: &Value, field: &str, want: f64, tolerance: f64) {
    let got = number(report, field);
    assert!(
        (got - want).abs() <= tolerance,
        "{field} is {got}, expected {want} (± {tolerance})\n{report:#}"
    );
}

/// What an example solution must grade as.
struct Expected {
    kind: &'static str,
    pass_rate: f64,
    score: Option<f64>,
    score_0_100: Option<f64>,
    passed_of: Option<(u64, u64)>,
}

/// Grades each solution of `task` with `sforge eval --json` and checks the report, the files of
/// the round and that the judge container is gone.
fn check_solutions(task: &str, expected: &[Expected]) {
    require_docker!();
    let fixture = fixture();
    let bench = &fixture.bench;
    for want in expected {
        let run_id = support::unique_name("e2e-sol");
        let archive = solution(bench, task, want.kind);
        let (run, report) = eval_json(bench, task, &run_id, &archive, &[]);
        let context = format!("{task} {} solution\n{run}", want.kind);
        assert_eq!(report["valid"], true, "{context}");
        assert_eq!(report["timed_out"], false, "{context}");
        assert_close(&report, "pass_rate", want.pass_rate, 1e-6);
        if let Some(score) = want.score {
            assert_close(&report, "score", score, 0.006);
        }
        if let Some(score) = want.score_0_100 {
            assert_close(&report, "score_0_100", score, 0.006);
        }
        if let Some((passed, total)) = want.passed_of {
            assert_eq!(report["passed"], passed, "{context}");
            assert_eq!(report["total_tests"], total, "{context}");
        }
        let dir = bench.submission_dir(&run_id, task, "manual-1");
        for file in [
            "report.json",
            "test_output.txt",
            "submission.tar.gz",
            "eval.sh",
        ] {
            assert!(
                dir.join(file).is_file(),
                "{} is missing\n{context}",
                dir.join(file).display()
            );
        }
        let saved: Value = serde_json::from_slice(
            &std::fs::read(dir.join("report.json")).expect("read report.json"),
        )
        .expect("report.json is JSON");
        assert_eq!(saved["pass_rate"], report["pass_rate"], "{context}");
        assert_eq!(saved["score_0_100"], report["score_0_100"], "{context}");
        assert_eq!(
            std::fs::read(dir.join("submission.tar.gz")).expect("read submission.tar.gz"),
            archive,
            "submission.tar.gz is not the archive as submitted"
        );
        assert_no_judge_container(&run_id);
    }
}

#[test]
fn eval_grades_text_utils_solutions() {
    check_solutions(
        "text_utils",
        &[
            Expected {
                kind: "full",
                pass_rate: 1.0,
                score: None,
                score_0_100: None,
                passed_of: Some((7, 7)),
            },
            Expected {
                kind: "partial",
                pass_rate: 5.0 / 7.0,
                score: None,
                score_0_100: None,
                passed_of: Some((5, 7)),
            },
        ],
    );
}

#[test]
fn eval_grades_coin_change_solutions() {
    check_solutions(
        "coin_change",
        &[
            Expected {
                kind: "full",
                pass_rate: 1.0,
                score: Some(100.0),
                score_0_100: Some(100.0),
                passed_of: None,
            },
            Expected {
                kind: "partial",
                pass_rate: 0.8,
                score: Some(61.67),
                score_0_100: Some(61.67),
                passed_of: None,
            },
        ],
    );
}

#[test]
fn eval_grades_tour_planner_solutions() {
    check_solutions(
        "tour_planner",
        &[
            Expected {
                kind: "full",
                pass_rate: 1.0,
                score: Some(127.799),
                score_0_100: Some(100.0),
                passed_of: None,
            },
            Expected {
                kind: "partial",
                pass_rate: 1.0,
                score: Some(140.583),
                // (154.232 - 140.583) / (154.232 - 127.799) * 100
                score_0_100: Some(51.64),
                passed_of: None,
            },
        ],
    );
}

#[test]
fn eval_reads_the_archive_from_stdin_and_prints_results() {
    require_docker!();
    let fixture = fixture();
    let bench = &fixture.bench;
    let run_id = support::unique_name("e2e-stdin");
    let archive = solution(bench, "text_utils", "full");
    let run = SforgeRun::of(
        bench
            .sforge()
            .args([
                "--silent",
                "eval",
                "--task",
                "text_utils",
                "--run-id",
                &run_id,
            ])
            .args(["--archive", "-"])
            .write_stdin(archive.clone()),
    );
    run.expect_code(0)
        .expect_stdout("Evaluating archive for task: text_utils")
        .expect_stdout(&format!("Archive size: {} bytes", archive.len()))
        .expect_stdout(&format!("Run ID: {run_id}"))
        .expect_stdout("Log dir:")
        .expect_stdout("Results:")
        .expect_stdout("100.00%");
    let passed = run
        .stdout
        .lines()
        .find_map(|line| line.trim().strip_prefix("Passed:"))
        .unwrap_or_else(|| panic!("no Passed line\n{run}"));
    assert_eq!(passed.trim(), "7", "{run}");
    let dir = bench.submission_dir(&run_id, "text_utils", "manual-1");
    assert_eq!(
        std::fs::read(dir.join("submission.tar.gz")).expect("read submission.tar.gz"),
        archive
    );
    // A second evaluation in the same run is the next manual round.
    let (_, report) = eval_json(bench, "text_utils", &run_id, &archive, &[]);
    assert_eq!(report["passed"], 7);
    let second = bench.submission_dir(&run_id, "text_utils", "manual-2");
    assert!(second.join("report.json").is_file(), "no manual-2 round");
    assert_no_judge_container(&run_id);
}

#[test]
fn eval_of_a_missing_archive_file_fails() {
    // Needs no engine: the archive is read before anything else happens.
    let bench = TestBenchmark::new("sforge-test-judge");
    let missing = bench.root().join("no-such-archive.tar.gz");
    SforgeRun::of(
        bench
            .sforge()
            .args(["eval", "--task", "text_utils", "--archive"])
            .arg(&missing)
            .timeout(support::QUICK_TIMEOUT),
    )
    .expect_code(1)
    .expect_output("archive file not found");
}

#[test]
fn eval_of_a_file_that_is_no_archive_says_why_and_exits_2() {
    require_docker!();
    let fixture = fixture();
    let bench = &fixture.bench;
    let run_id = support::unique_name("e2e-notar");
    let path = archive_file(bench, &run_id, b"hello, judge\n");
    let run = SforgeRun::of(
        bench
            .sforge()
            .args([
                "--silent",
                "eval",
                "--task",
                "text_utils",
                "--run-id",
                &run_id,
            ])
            .arg("--archive")
            .arg(&path),
    );
    run.expect_code(2)
        .expect_stdout("Summary:     Submission rejected: not a gzip-compressed tar archive")
        .expect_output("error: the judge rejected the archive: Submission rejected");
    let report = bench
        .submission_dir(&run_id, "text_utils", "manual-1")
        .join("report.json");
    let report: Value =
        serde_json::from_slice(&std::fs::read(&report).expect("report.json kept")).expect("JSON");
    assert_eq!(report["valid"], false, "{report}");
    assert_no_judge_container(&run_id);
}

#[test]
fn eval_of_an_empty_archive_grades_the_skeleton() {
    require_docker!();
    let fixture = fixture();
    let bench = &fixture.bench;
    let run_id = support::unique_name("e2e-empty");
    let (run, report) = eval_json(bench, "text_utils", &run_id, &[], &[]);
    assert_eq!(report["valid"], true, "{run}");
    assert_eq!(report["total_tests"], 7, "{run}");
    assert_eq!(report["passed"], 0, "{run}");
    assert_eq!(report["failed"], 7, "{run}");
    assert_no_judge_container(&run_id);
}

#[test]
fn eval_timeout_grades_the_partial_output() {
    require_docker!();
    let fixture = fixture();
    let bench = &fixture.bench;
    let run_id = support::unique_name("e2e-timeout");
    let started = Instant::now();
    let (run, report) = eval_json(bench, SLEEPY, &run_id, &[], &["--timeout", "2"]);
    let elapsed = started.elapsed();
    assert!(
        elapsed < Duration::from_secs(20),
        "a 2-second timeout took {elapsed:?}\n{run}"
    );
    assert_eq!(report["timed_out"], true, "{run}");
    assert_eq!(
        report["passed"], 1,
        "the output before the timeout is graded\n{run}"
    );
    assert_eq!(report["total_tests"], 1, "{run}");
    let output = std::fs::read_to_string(
        bench
            .submission_dir(&run_id, SLEEPY, "manual-1")
            .join("test_output.txt"),
    )
    .expect("read test_output.txt");
    assert!(output.contains("test_before PASSED"), "{output}");
    assert!(!output.contains("test_after PASSED"), "{output}");
    assert_no_judge_container(&run_id);
}

#[test]
fn eval_without_a_judge_image_is_an_infrastructure_error() {
    require_docker!();
    let fixture = fixture();
    let bench = &fixture.bench;
    let run_id = support::unique_name("e2e-noimage");
    let image = format!("{}.judge.{UNBUILDABLE}:{UNBUILDABLE_TAG}", bench.name());
    let path = archive_file(bench, &run_id, &harmless_archive(bench));
    let run = SforgeRun::of(
        bench
            .sforge()
            .args([
                "--silent",
                "eval",
                "--json",
                "--task",
                UNBUILDABLE,
                "--run-id",
                &run_id,
            ])
            .arg("--archive")
            .arg(&path),
    );
    run.expect_code(1)
        .expect_output(&image)
        .expect_output("sforge pull");
    assert!(
        run.stdout.trim().is_empty(),
        "no report may be printed for an infrastructure error\n{run}"
    );
    let report = bench
        .submission_dir(&run_id, UNBUILDABLE, "manual-1")
        .join("report.json");
    assert!(
        !report.exists(),
        "an infrastructure error wrote a report\n{run}"
    );
    assert_no_judge_container(&run_id);
}

// ---- `sforge serve` ----

fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(60))
        .build()
}

fn reply(result: Result<ureq::Response, ureq::Error>) -> (u16, Value) {
    let response = match result {
        Ok(response) | Err(ureq::Error::Status(_, response)) => response,
        Err(err) => panic!("transport error: {err}"),
    };
    let status = response.status();
    let text = response.into_string().expect("read the response");
    let body =
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("response is not JSON: {text}"));
    (status, body)
}

fn get(url: &str) -> (u16, Value) {
    reply(agent().get(url).call())
}

fn register(server: &Server, secret: &str, task: &str, run_id: &str, extra: &Value) -> String {
    let mut body = json!({ "task_id": task, "run_id": run_id, "admin_secret": secret });
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        body.extend(extra.clone());
    }
    let (status, reply) = reply(
        agent()
            .post(&format!("{}/register", server.base()))
            .set("Content-Type", "application/json")
            .send_string(&body.to_string()),
    );
    assert_eq!(status, 200, "register: {reply}");
    let token = reply["token"].as_str().expect("a token").to_owned();
    assert!(
        token.len() == 32 && token.chars().all(|c| c.is_ascii_hexdigit()),
        "token {token:?}"
    );
    token
}

/// `POST /submit` as `multipart/form-data`; returns the reply on 200 and panics otherwise.
fn submit(server: &Server, token: &str, kind: &str, admin: &str, archive: &[u8]) -> Value {
    const BOUNDARY: &str = "sforge-e2e-boundary-7d1f0c";
    let mut body = Vec::new();
    for (name, value) in [("token", token), ("kind", kind), ("admin_secret", admin)] {
        write!(
            body,
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        )
        .expect("write to a Vec");
    }
    write!(
        body,
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"archive\"; \
         filename=\"submission.tar.gz\"\r\nContent-Type: application/gzip\r\n\r\n"
    )
    .expect("write to a Vec");
    body.extend_from_slice(archive);
    write!(body, "\r\n--{BOUNDARY}--\r\n").expect("write to a Vec");
    let (status, reply) = reply(
        agent()
            .post(&format!("{}/submit", server.base()))
            .set(
                "Content-Type",
                &format!("multipart/form-data; boundary={BOUNDARY}"),
            )
            .send_bytes(&body),
    );
    assert_eq!(status, 200, "submit ({kind}): {reply}");
    assert_eq!(reply["status"], "queued", "{reply}");
    reply
}

/// Polls `/result/{id}` until the submission is completed or failed (`limit` at most).
fn finished(server: &Server, id: &str, limit: Duration) -> Value {
    let deadline = Instant::now() + limit;
    loop {
        let (status, reply) = get(&format!("{}/result/{id}", server.base()));
        assert_eq!(status, 200, "result of {id}: {reply}");
        if reply["status"] == "completed" || reply["status"] == "error" {
            return reply;
        }
        assert!(
            Instant::now() < deadline,
            "{id} not finished after {limit:?}: {reply}\nserver stderr:\n{}",
            server.stderr()
        );
        thread::sleep(Duration::from_millis(100));
    }
}

/// Submits and waits for a completed grading; returns (round, report).
fn graded(
    server: &Server,
    token: &str,
    kind: &str,
    admin: &str,
    archive: &[u8],
) -> (String, Value) {
    let accepted = submit(server, token, kind, admin, archive);
    let id = accepted["submission_id"].as_str().expect("a submission id");
    let result = finished(server, id, Duration::from_secs(180));
    assert_eq!(result["status"], "completed", "{result}");
    assert!(result["error"].is_null(), "{result}");
    let round = accepted["round_id"].as_str().expect("a round").to_owned();
    (round, result["report"].clone())
}

fn history(server: &Server, token: &str, admin: &str) -> Value {
    let (status, reply) = get(&format!(
        "{}/history?token={token}&admin_secret={admin}",
        server.base()
    ));
    assert_eq!(status, 200, "history: {reply}");
    reply
}

fn rounds(history: &Value) -> Vec<String> {
    history["entries"]
        .as_array()
        .unwrap_or_else(|| panic!("history without entries: {history}"))
        .iter()
        .map(|entry| entry["round"].as_str().unwrap_or("?").to_owned())
        .collect()
}

/// The admin secret `sforge serve` keeps under the log directory (0600).
/// A judge server with its own state directory (a server re-grades the unfinished submissions of
/// its journal, so servers never share one) and one registration on it.
struct Session {
    run_id: String,
    log_dir: std::path::PathBuf,
    server: Server,
    secret: String,
    token: String,
}

fn session(
    bench: &TestBenchmark,
    prefix: &str,
    concurrency: usize,
    task: &str,
    extra: &Value,
) -> Session {
    let run_id = support::unique_name(prefix);
    let log_dir = bench.root().join(format!("logs-{run_id}"));
    let server = Server::start(
        bench,
        &log_dir,
        &["--judge-concurrency", &concurrency.to_string()],
    );
    session_on(run_id, log_dir, server, task, extra)
}

/// [`session`] on a started server.
fn session_on(
    run_id: String,
    log_dir: std::path::PathBuf,
    server: Server,
    task: &str,
    extra: &Value,
) -> Session {
    let secret = admin_secret(&log_dir);
    let token = register(&server, &secret, task, &run_id, extra);
    Session {
        run_id,
        log_dir,
        server,
        secret,
        token,
    }
}

fn admin_secret(log_dir: &Path) -> String {
    use std::os::unix::fs::PermissionsExt;
    let path = log_dir.join("judge").join("admin_secret");
    let mode = std::fs::metadata(&path)
        .unwrap_or_else(|err| panic!("{}: {err}", path.display()))
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "{} has mode {mode:o}", path.display());
    let secret = std::fs::read_to_string(&path).expect("read the admin secret");
    secret.trim().to_owned()
}

#[test]
fn serve_grades_submissions_and_keeps_them_across_a_restart() {
    require_docker!();
    let fixture = fixture();
    let bench = &fixture.bench;
    let partial = solution(bench, "text_utils", "partial");
    let full = solution(bench, "text_utils", "full");
    let Session {
        run_id,
        log_dir,
        server,
        secret,
        token,
    } = session(bench, "e2e-serve", 2, "text_utils", &json!({}));

    let (round, report) = graded(&server, &token, "agent", "", &partial);
    assert_eq!(round, "agent-1");
    assert_eq!(
        (&report["passed"], &report["total_tests"]),
        (&json!(5), &json!(7))
    );
    assert!(
        report.get("raw_output").is_none() && report.get("score_0_100").is_none(),
        "/result must drop raw_output and score_0_100: {report}"
    );
    // An auto submission (admin only) that beats the agent's: hidden from the agent's view.
    let (round, report) = graded(&server, &token, "auto", &secret, &full);
    assert_eq!(round, "auto-1");
    assert_eq!(report["passed"], 7, "{report:#}");
    let agent_view = history(&server, &token, "");
    assert_eq!(rounds(&agent_view), ["agent-1"], "{agent_view:#}");
    assert_eq!(agent_view["best_round"], "agent-1", "{agent_view:#}");
    assert_close(&agent_view, "best_pass_rate", 5.0 / 7.0, 1e-6);
    assert_eq!(agent_view["auto_submissions"], 0, "{agent_view:#}");
    let admin_view = history(&server, &token, &secret);
    assert_eq!(rounds(&admin_view), ["agent-1", "auto-1"], "{admin_view:#}");
    assert_eq!(admin_view["best_round"], "auto-1", "{admin_view:#}");
    assert_eq!(admin_view["auto_submissions"], 1, "{admin_view:#}");

    let (round, _) = graded(&server, &token, "agent", "", &full);
    assert_eq!(round, "agent-2");
    let before = history(&server, &token, "");
    assert_eq!(before["best_round"], "agent-2", "{before:#}");
    assert_close(&before, "best_pass_rate", 1.0, 1e-9);
    assert_eq!(before["agent_submissions"], 2, "{before:#}");
    for round in ["agent-1", "agent-2", "auto-1"] {
        let dir = log_dir
            .join("runs")
            .join(&run_id)
            .join("text_utils")
            .join("submissions")
            .join(round);
        for file in ["report.json", "test_output.txt", "submission.tar.gz"] {
            assert!(
                dir.join(file).is_file(),
                "{}/{file} is missing",
                dir.display()
            );
        }
    }
    // Used containers are removed in the background, warm ones when the server stops.
    server.terminate();
    assert_no_judge_container(&run_id);

    // Same log directory: the token, the counters and the history survive.
    let server = Server::start(bench, &log_dir, &["--judge-concurrency", "2"]);
    assert_eq!(admin_secret(&log_dir), secret, "the admin secret changed");
    let after = history(&server, &token, "");
    assert_eq!(after, before, "the history changed across the restart");
    let (round, report) = graded(&server, &token, "agent", "", &partial);
    assert_eq!(round, "agent-3", "the round counter restarted");
    assert_eq!(report["passed"], 5);
    let last = history(&server, &token, &secret);
    assert_eq!(
        rounds(&last),
        ["agent-1", "auto-1", "agent-2", "agent-3"],
        "{last:#}"
    );
    assert_eq!(last["agent_submissions"], 3, "{last:#}");
    server.terminate();
    assert_no_judge_container(&run_id);
}

#[test]
fn serve_reports_infrastructure_errors_as_errors() {
    require_docker!();
    let fixture = fixture();
    let bench = &fixture.bench;
    let Session {
        run_id,
        server,
        token,
        ..
    } = session(bench, "e2e-serve-error", 1, UNBUILDABLE, &json!({}));
    let accepted = submit(&server, &token, "agent", "", &harmless_archive(bench));
    let id = accepted["submission_id"].as_str().expect("a submission id");
    let result = finished(&server, id, Duration::from_secs(120));
    assert_eq!(
        result["status"], "error",
        "not graded as an error: {result}"
    );
    assert!(
        result["report"].is_null(),
        "an error carries no report: {result}"
    );
    let reason = result["error"].as_str().unwrap_or_default();
    let image = format!("{}.judge.{UNBUILDABLE}:{UNBUILDABLE_TAG}", bench.name());
    assert!(
        reason.contains(&image) && reason.contains("sforge pull"),
        "the error does not name the image and the fix: {result}"
    );
    server.terminate();
    assert_no_judge_container(&run_id);
}

#[test]
fn serve_runs_at_most_judge_concurrency_judge_containers() {
    const SUBMISSIONS: usize = 20;
    const CONCURRENCY: usize = 2;
    require_docker!();
    let fixture = fixture();
    let bench = &fixture.bench;
    let Session {
        run_id,
        server,
        token,
        ..
    } = session(
        bench,
        "e2e-conc",
        CONCURRENCY,
        QUICK,
        &json!({ "max_agent_submissions": 100, "submission_cooldown": 0 }),
    );
    let archive = harmless_archive(bench);
    let ids: Vec<String> = (0..SUBMISSIONS)
        .map(|_| {
            let reply = submit(&server, &token, "agent", "", &archive);
            reply["submission_id"].as_str().expect("an id").to_owned()
        })
        .collect();
    let (results, peak) = finish_within_concurrency(&server, &run_id, &ids, CONCURRENCY);
    for result in &results {
        assert_eq!(result["status"], "completed", "{result}");
        assert_eq!(result["report"]["passed"], 1, "{result}");
    }
    assert_eq!(
        peak, CONCURRENCY,
        "never saw {CONCURRENCY} judge containers at once: grading is not concurrent"
    );
    server.terminate();
    assert_no_judge_container(&run_id);
}

#[test]
fn serve_stops_on_sigterm_during_a_grading_and_loses_nothing() {
    require_docker!();
    let fixture = fixture();
    let bench = &fixture.bench;
    let Session {
        run_id,
        log_dir,
        server,
        token,
        ..
    } = session(bench, "e2e-sigterm", 1, SLOW, &json!({}));
    let accepted = submit(&server, &token, "agent", "", &harmless_archive(bench));
    let id = accepted["submission_id"]
        .as_str()
        .expect("a submission id")
        .to_owned();
    let deadline = Instant::now() + Duration::from_secs(60);
    while support::containers_matching(&[&format!("label=sforge.run-id={run_id}")]).is_empty() {
        assert!(Instant::now() < deadline, "the grading never started");
        thread::sleep(Duration::from_millis(50));
    }
    // The grading in flight (four seconds of evaluation) may finish first; no longer.
    server.terminate_within(Duration::from_secs(20));
    assert_no_judge_container(&run_id);

    let server = Server::start(bench, &log_dir, &["--judge-concurrency", "1"]);
    let result = finished(&server, &id, Duration::from_secs(120));
    assert_eq!(result["status"], "completed", "{result}");
    assert_eq!(result["report"]["passed"], 1, "{result}");
    let history = history(&server, &token, "");
    assert_eq!(rounds(&history), ["agent-1"], "{history:#}");
    assert_eq!(history["entries"][0]["status"], "completed", "{history:#}");
    server.terminate();
    assert_no_judge_container(&run_id);
}

/// `sforge eval` stopped by `signal` while its judge container runs: exit 130, no container left.
fn eval_interrupted_by(signal: &str) {
    let fixture = fixture();
    let bench = &fixture.bench;
    let run_id = support::unique_name("e2e-signal");
    let archive = archive_file(bench, &run_id, &[]);
    let mut cmd = bench.sforge_process(&bench.log_dir());
    cmd.args([
        "--silent",
        "eval",
        "--task",
        SLEEPY,
        "--run-id",
        &run_id,
        "--archive",
    ])
    .arg(&archive)
    .stdout(Stdio::null())
    .stderr(Stdio::null());
    let mut eval = support::KillOnDrop(cmd.spawn().expect("start sforge eval"));
    let until = Instant::now() + Duration::from_secs(60);
    let filter = format!("label=sforge.run-id={run_id}");
    while support::containers_matching(&[&filter, "status=running"]).is_empty() {
        assert!(Instant::now() < until, "no judge container within a minute");
        thread::sleep(Duration::from_millis(100));
    }
    support::run_ok(
        std::process::Command::new("kill").args([&format!("-{signal}"), &eval.0.id().to_string()]),
        None,
    );
    let until = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = eval.0.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < until, "sforge eval ignored SIG{signal}");
        thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(130), "SIG{signal}");
    assert_no_judge_container(&run_id);
}

#[test]
fn eval_interrupted_by_sigterm_or_sigint_leaves_no_judge_container() {
    require_docker!();
    eval_interrupted_by("TERM");
    eval_interrupted_by("INT");
}

// ---- the warm judge pool (`--judge-pool`) and batch grading ----

/// The judge containers of `run_id` running an evaluation now (`eval.sh` among their
/// processes): gradings, as opposed to warm containers and containers being removed.
fn gradings_now(run_id: &str) -> Vec<String> {
    let filter = format!("label=sforge.run-id={run_id}");
    support::containers_matching(&["label=sforge.role=judge", &filter, "status=running"])
        .into_iter()
        .filter(|name| {
            let top = support::run(
                support::docker().args(["top", name, "-o", "pid,args"]),
                None,
            );
            String::from_utf8_lossy(&top.stdout).contains("/tmp/eval.sh")
        })
        .collect()
}

/// Waits (300 s at most) until every submission of `ids` is completed or failed, checking all
/// along that no more than `limit` gradings of `run_id` run at once; returns the results in the
/// order they finished and the most gradings seen at once.
fn finish_within_concurrency(
    server: &Server,
    run_id: &str,
    ids: &[String],
    limit: usize,
) -> (Vec<Value>, usize) {
    let mut pending: Vec<&String> = ids.iter().collect();
    let mut peak = 0;
    let mut results = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(300);
    while !pending.is_empty() {
        let running = gradings_now(run_id);
        assert!(
            running.len() <= limit,
            "{} gradings at once (limit {limit}): {running:?}",
            running.len()
        );
        peak = peak.max(running.len());
        pending.retain(|id| {
            let (status, reply) = get(&format!("{}/result/{id}", server.base()));
            assert_eq!(status, 200, "{reply}");
            let done = reply["status"] == "completed" || reply["status"] == "error";
            if done {
                results.push(reply);
            }
            !done
        });
        assert!(
            Instant::now() < deadline,
            "{} submissions unfinished after 300 s; server stderr:\n{}",
            pending.len(),
            server.stderr()
        );
        thread::sleep(Duration::from_millis(50));
    }
    (results, peak)
}

/// The warm (pooled, not yet used) judge containers of `run_id` for `task`: (id, name).
fn warm_containers(bench: &TestBenchmark, task: &str, run_id: &str) -> Vec<(String, String)> {
    let output = support::run_ok(
        support::docker().args([
            "ps",
            "--format",
            "{{.ID}} {{.Names}}",
            "--filter",
            &format!("label=sforge.run-id={run_id}"),
            "--filter",
            &format!("name=^{}\\.judge\\.{task}\\.warm-", bench.name()),
        ]),
        None,
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(id, name)| (id.to_owned(), name.to_owned()))
        .collect()
}

/// Waits until `run_id` has `n` warm containers for `task`; returns them.
fn wait_warm(bench: &TestBenchmark, task: &str, run_id: &str, n: usize) -> Vec<(String, String)> {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        // Ready once eval.sh is in (the pool hands a container out only then).
        let warm: Vec<(String, String)> = warm_containers(bench, task, run_id)
            .into_iter()
            .filter(|(id, _)| {
                support::run(
                    support::docker().args(["exec", id, "test", "-f", "/tmp/eval.sh"]),
                    None,
                )
                .status
                .success()
            })
            .collect();
        if warm.len() >= n {
            thread::sleep(Duration::from_millis(100));
            return warm;
        }
        assert!(
            Instant::now() < deadline,
            "{} warm judge containers after 120 s, wanted {n}",
            warm.len()
        );
        thread::sleep(Duration::from_millis(50));
    }
}

/// A round's `run_instance.log` ("" when missing).
fn round_log(log_dir: &Path, run_id: &str, task: &str, round: &str) -> String {
    let log = log_dir
        .join("runs")
        .join(run_id)
        .join(task)
        .join("submissions")
        .join(round)
        .join("run_instance.log");
    std::fs::read_to_string(log).unwrap_or_default()
}

/// The warm container a round was graded in, from its `run_instance.log`.
fn warm_container_of(log_dir: &Path, run_id: &str, task: &str, round: &str) -> Option<String> {
    let text = round_log(log_dir, run_id, task, round);
    text.lines().find_map(|l| {
        l.split_once("graded in warm judge container ")
            .map(|(_, n)| n.trim().to_owned())
    })
}

/// A server with `--judge-pool pool` and one registration for `task`.
fn pool_session(
    bench: &TestBenchmark,
    prefix: &str,
    pool: usize,
    concurrency: usize,
    task: &str,
) -> Session {
    let run_id = support::unique_name(prefix);
    let log_dir = bench.root().join(format!("logs-{run_id}"));
    let server = Server::start(
        bench,
        &log_dir,
        &[
            "--judge-concurrency",
            &concurrency.to_string(),
            "--judge-pool",
            &pool.to_string(),
        ],
    );
    let extra = json!({ "max_agent_submissions": 100, "submission_cooldown": 0 });
    session_on(run_id, log_dir, server, task, &extra)
}

/// `archive` graded as an agent round in the warm container of a fresh pool of one for `task`:
/// the session (to stop), the round and its report.
fn graded_warm(
    bench: &TestBenchmark,
    prefix: &str,
    task: &str,
    archive: &[u8],
) -> (Session, String, Value) {
    let session = pool_session(bench, prefix, 1, 1, task);
    wait_warm(bench, task, &session.run_id, 1);
    let (round, report) = graded(&session.server, &session.token, "agent", "", archive);
    (session, round, report)
}

#[test]
fn serve_grades_each_submission_in_its_own_warm_container_and_refills_the_pool() {
    require_docker!();
    let fixture = fixture();
    let bench = &fixture.bench;
    let Session {
        run_id,
        log_dir,
        server,
        token,
        ..
    } = pool_session(bench, "e2e-pool", 2, 1, QUICK);
    let archive = harmless_archive(bench);
    let mut used = Vec::new();
    let mut seen_ids = std::collections::BTreeSet::new();
    for _ in 0..4 {
        // The pool is full before each submission: registration warmed it, gradings refill it.
        for (id, _) in wait_warm(bench, QUICK, &run_id, 2) {
            seen_ids.insert(id);
        }
        let (round, report) = graded(&server, &token, "agent", "", &archive);
        assert_eq!(report["passed"], 1, "{report}");
        let warm = warm_container_of(&log_dir, &run_id, QUICK, &round)
            .unwrap_or_else(|| panic!("{round} was not graded in a warm container"));
        assert!(!used.contains(&warm), "{warm} graded two submissions");
        used.push(warm);
    }
    // Each container graded one submission and is gone; the pool holds fresh ones.
    let deadline = Instant::now() + Duration::from_secs(60);
    while used.iter().any(|name| {
        !support::containers_matching(&[&format!("name=^{}$", name.replace('.', "\\."))]).is_empty()
    }) {
        assert!(
            Instant::now() < deadline,
            "used containers are not removed: {used:?}"
        );
        thread::sleep(Duration::from_millis(100));
    }
    let now = wait_warm(bench, QUICK, &run_id, 2);
    assert!(
        seen_ids.len() >= 2 + 4 - 1,
        "the pool was not refilled: {seen_ids:?}"
    );
    assert!(
        now.iter().all(|(_, name)| !used.contains(name)),
        "{now:?} {used:?}"
    );
    server.terminate();
    assert_no_judge_container(&run_id);
}

#[test]
fn serve_replaces_a_warm_container_that_died() {
    require_docker!();
    let fixture = fixture();
    let bench = &fixture.bench;
    let Session {
        run_id,
        log_dir,
        server,
        token,
        ..
    } = pool_session(bench, "e2e-pool-dead", 1, 1, QUICK);
    // Stopped behind the judge's back (it still exists but cannot run anything), then removed
    // (the submission goes in with the evaluation, so that is when either is noticed).
    for how in ["kill", "rm"] {
        let says = "could not run the evaluation";
        let warm = wait_warm(bench, QUICK, &run_id, 1);
        let (id, name) = &warm[0];
        let mut cmd = support::docker();
        cmd.arg(how);
        if how == "rm" {
            cmd.arg("-f");
        }
        support::run_ok(cmd.arg(id), None);
        let (round, report) = graded(&server, &token, "agent", "", &harmless_archive(bench));
        assert_eq!(
            report["passed"], 1,
            "{how}: not graded in a fresh container: {report}"
        );
        let log = round_log(&log_dir, &run_id, QUICK, &round);
        assert!(
            log.contains(name.as_str()) && log.contains(says),
            "{how}:\n{log}"
        );
        let refilled = wait_warm(bench, QUICK, &run_id, 1);
        assert_ne!(
            &refilled[0].0, id,
            "{how}: the dead container still counts as warm"
        );
        let deadline = Instant::now() + Duration::from_secs(30);
        while !support::containers_matching(&[&format!("id={id}")]).is_empty() {
            assert!(
                Instant::now() < deadline,
                "{how}: the dead container was left"
            );
            thread::sleep(Duration::from_millis(100));
        }
    }
    server.terminate();
    assert_no_judge_container(&run_id);
}

#[test]
fn serve_grades_a_burst_on_a_full_pool_within_its_concurrency_and_stops_clean_on_sigint() {
    const SUBMISSIONS: usize = 10;
    const CONCURRENCY: usize = 2;
    require_docker!();
    let fixture = fixture();
    let bench = &fixture.bench;
    let Session {
        run_id,
        log_dir,
        server,
        token,
        ..
    } = pool_session(bench, "e2e-pool-burst", 3, CONCURRENCY, QUICK);
    wait_warm(bench, QUICK, &run_id, 3);
    let archive = harmless_archive(bench);
    let accepted: Vec<Value> = (0..SUBMISSIONS)
        .map(|_| submit(&server, &token, "agent", "", &archive))
        .collect();
    let ids: Vec<String> = accepted
        .iter()
        .map(|a| a["submission_id"].as_str().expect("an id").to_owned())
        .collect();
    let (_, peak) = finish_within_concurrency(&server, &run_id, &ids, CONCURRENCY);
    assert_eq!(peak, CONCURRENCY, "the burst was not graded concurrently");
    let mut containers = std::collections::BTreeSet::new();
    for a in &accepted {
        let result = finished(
            &server,
            a["submission_id"].as_str().unwrap_or(""),
            Duration::from_secs(10),
        );
        assert_eq!(result["status"], "completed", "{result}");
        assert_eq!(result["report"]["passed"], 1, "{result}");
        let round = a["round_id"].as_str().unwrap_or("");
        let container = warm_container_of(&log_dir, &run_id, QUICK, round)
            .unwrap_or_else(|| a["submission_id"].as_str().unwrap_or("").to_owned());
        assert!(
            containers.insert(container.clone()),
            "{container} graded twice"
        );
    }
    let warm_used = containers.iter().filter(|c| c.contains(".warm-")).count();
    assert!(
        warm_used >= 3,
        "only {warm_used} of the burst used the full pool: {containers:?}"
    );
    // SIGINT, like Ctrl-C: the warm containers go with the server.
    wait_warm(bench, QUICK, &run_id, 1);
    server.interrupt();
    assert_no_judge_container(&run_id);
}

/// `sforge eval --json` of several archives at once.
fn eval_many_json(
    bench: &TestBenchmark,
    task: &str,
    run_id: &str,
    archives: &[std::path::PathBuf],
) -> (SforgeRun, Value) {
    let mut cmd = bench.sforge();
    cmd.args([
        "--silent",
        "eval",
        "--task",
        task,
        "--run-id",
        run_id,
        "--jobs",
        "2",
        "--json",
        "--archive",
    ]);
    cmd.args(archives);
    let run = SforgeRun::of(&mut cmd);
    let value = serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}\n{run}"));
    (run, value)
}

#[test]
fn eval_grades_several_archives_in_parallel_each_its_own_round() {
    require_docker!();
    let fixture = fixture();
    let bench = &fixture.bench;
    let run_id = support::unique_name("e2e-batch");
    let archives = [
        archive_file(
            bench,
            &format!("{run_id}-full"),
            &solution(bench, "coin_change", "full"),
        ),
        archive_file(bench, &format!("{run_id}-none"), &harmless_archive(bench)),
        archive_file(
            bench,
            &format!("{run_id}-partial"),
            &solution(bench, "coin_change", "partial"),
        ),
    ];
    let (run, all) = eval_many_json(bench, "coin_change", &run_id, &archives);
    run.expect_code(0);
    let all = all
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {run}"));
    let rounds: Vec<&str> = all
        .iter()
        .map(|e| e["round"].as_str().unwrap_or("?"))
        .collect();
    assert_eq!(rounds, ["manual-1", "manual-2", "manual-3"], "{run}");
    let rate = |i: usize| all[i]["report"]["pass_rate"].as_f64().unwrap_or(-1.0);
    assert!((rate(0) - 1.0).abs() < 1e-9, "the full solution: {run}");
    assert!(
        rate(1) < rate(2) && rate(2) < 1.0,
        "none < partial < full: {run}"
    );
    for round in rounds {
        assert!(bench
            .submission_dir(&run_id, "coin_change", round)
            .join("report.json")
            .is_file());
    }
    // One rejected archive among good ones: graded, exit 2.
    let bad = bench.root().join(format!("{run_id}-bad.tar.gz"));
    std::fs::write(&bad, b"not an archive").expect("write");
    let (run, all) = eval_many_json(bench, "coin_change", &run_id, &[archives[0].clone(), bad]);
    run.expect_code(2);
    assert_eq!(all[0]["round"], "manual-4", "{run}");
    assert_eq!(all[1]["report"]["valid"], false, "{run}");
    assert_no_judge_container(&run_id);
}

#[test]
fn eval_run_grades_every_recorded_submission_again_and_keeps_the_old_reports() {
    require_docker!();
    let fixture = fixture();
    let bench = &fixture.bench;
    let run_id = support::unique_name("e2e-regrade");
    let archives = [
        archive_file(
            bench,
            &format!("{run_id}-full"),
            &solution(bench, "coin_change", "full"),
        ),
        archive_file(
            bench,
            &format!("{run_id}-partial"),
            &solution(bench, "coin_change", "partial"),
        ),
    ];
    eval_many_json(bench, "coin_change", &run_id, &archives)
        .0
        .expect_code(0);
    let old: Vec<Vec<u8>> = ["manual-1", "manual-2"]
        .iter()
        .map(|r| {
            std::fs::read(
                bench
                    .submission_dir(&run_id, "coin_change", r)
                    .join("report.json"),
            )
            .expect("old report")
        })
        .collect();
    let mut cmd = bench.sforge();
    cmd.args([
        "--silent", "eval", "--run", &run_id, "--jobs", "2", "--json",
    ]);
    let run = SforgeRun::of(&mut cmd);
    run.expect_code(0);
    let comparison: Value =
        serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}\n{run}"));
    let rows = comparison["rounds"]
        .as_array()
        .unwrap_or_else(|| panic!("{run}"));
    assert_eq!(rows.len(), 2, "{run}");
    for (row, old_bytes) in rows.iter().zip(&old) {
        assert_eq!(row["task_id"], "coin_change");
        assert_eq!(
            row["old"]["pass_rate"], row["new"]["pass_rate"],
            "same grader, same score: {row}"
        );
        assert_eq!(row["changed"], false, "{row}");
        let new_report = Path::new(row["report"].as_str().unwrap_or(""));
        assert!(new_report.is_file(), "{row}");
        let round_dir =
            bench.submission_dir(&run_id, "coin_change", row["round"].as_str().unwrap_or(""));
        assert!(
            new_report.starts_with(&round_dir),
            "the new report is not beside the old one: {row}"
        );
        assert_eq!(
            &std::fs::read(round_dir.join("report.json")).expect("old report"),
            old_bytes,
            "the old report changed"
        );
    }
    let written = std::fs::read_dir(bench.log_dir().join("runs").join(&run_id))
        .expect("the run directory")
        .flatten()
        .any(|e| e.file_name().to_string_lossy().starts_with("regrade-"));
    assert!(written, "no comparison file in the run directory");
    // Unknown runs say so and change nothing.
    let mut cmd = bench.sforge();
    cmd.args(["eval", "--run", "no-such-run"]);
    SforgeRun::of(&mut cmd)
        .expect_code(1)
        .expect_output("no run no-such-run");
    assert_no_judge_container(&run_id);
}

/// A submission replacing the grader: `eval.sh` in the task's `cwd`, printing 50 passes.
fn forged_eval_sh(bench: &TestBenchmark) -> Vec<u8> {
    let dir = bench.root().join("forged-eval");
    std::fs::create_dir_all(&dir).expect("create the forged submission");
    let passes = (0..50)
        .map(|i| format!("echo 'tests/test_e2e.py::forged_{i} PASSED'\n"))
        .collect::<Vec<_>>()
        .concat();
    let script = format!(
        "#!/bin/bash\necho '>>>>> Start Test Output'\n{passes}echo '>>>>> End Test Output'\n"
    );
    std::fs::write(dir.join("eval.sh"), script).expect("write eval.sh");
    support::tar_gz_of_dir(&dir)
}

#[test]
fn a_submitted_eval_sh_never_replaces_the_graders_warm_or_cold() {
    require_docker!();
    let fixture = fixture();
    let bench = &fixture.bench;
    let forged = forged_eval_sh(bench);
    // Warm: the pool copied eval.sh before the submission arrived.
    let (session, round, report) = graded_warm(bench, "e2e-pool-evalsh", TMP_CWD, &forged);
    let (run_id, log_dir) = (&session.run_id, &session.log_dir);
    assert!(
        warm_container_of(log_dir, run_id, TMP_CWD, &round).is_some(),
        "not graded warm:\n{}",
        round_log(log_dir, run_id, TMP_CWD, &round)
    );
    assert_eq!(report["passed"], 1, "the submitted eval.sh ran: {report}");
    let run_id = run_id.clone();
    session.server.terminate();
    assert_no_judge_container(&run_id);
    // Cold: `sforge eval`.
    let cold = support::unique_name("e2e-evalsh");
    let (run, report) = eval_json(bench, TMP_CWD, &cold, &forged, &[]);
    run.expect_code(0);
    assert_eq!(report["passed"], 1, "the submitted eval.sh ran: {report}");
}

#[test]
fn eval_of_several_archives_interrupted_leaves_no_container_and_no_report() {
    require_docker!();
    let fixture = fixture();
    let bench = &fixture.bench;
    let run_id = support::unique_name("e2e-batch-int");
    let archive = archive_file(bench, &run_id, &harmless_archive(bench));
    let mut cmd = bench.sforge_process(&bench.log_dir());
    cmd.args([
        "--silent",
        "eval",
        "--task",
        SLEEPY,
        "--run-id",
        &run_id,
        "--jobs",
        "2",
        "--archive",
    ])
    .args([&archive, &archive, &archive, &archive])
    .stdout(Stdio::null())
    .stderr(Stdio::null());
    let mut eval = support::KillOnDrop(cmd.spawn().expect("start sforge eval"));
    let until = Instant::now() + Duration::from_secs(120);
    while gradings_now(&run_id).len() < 2 {
        assert!(Instant::now() < until, "two gradings never ran at once");
        thread::sleep(Duration::from_millis(100));
    }
    support::run_ok(
        std::process::Command::new("kill").args(["-INT", &eval.0.id().to_string()]),
        None,
    );
    let until = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = eval.0.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < until, "sforge eval ignored SIGINT");
        thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(130));
    // Containers started while the handler ran are gone too: give stragglers a moment.
    thread::sleep(Duration::from_secs(3));
    assert_no_judge_container(&run_id);
    for n in 1..=4 {
        let report = bench
            .submission_dir(&run_id, SLEEPY, &format!("manual-{n}"))
            .join("report.json");
        assert!(
            !report.exists(),
            "an interrupted grading wrote {}",
            report.display()
        );
    }
}

#[test]
fn submissions_arrive_with_the_evaluation_and_by_copy_when_the_image_has_no_tar() {
    require_docker!();
    let fixture = fixture();
    let bench = &fixture.bench;
    let archive = harmless_archive(bench);
    for task in [DELIVERED, NO_TAR] {
        // Cold: `sforge eval` streams the submission and eval.sh in with the evaluation.
        let cold = support::unique_name("e2e-deliver");
        let (_, report) = eval_json(bench, task, &cold, &archive, &[]);
        assert_eq!(report["passed"], 1, "{task}, cold: {report}");
        // Warm: the submission goes in with the evaluation.
        let (session, round, report) = graded_warm(bench, "e2e-deliver-warm", task, &archive);
        let (run_id, log_dir) = (&session.run_id, &session.log_dir);
        assert_eq!(report["passed"], 1, "{task}, warm: {report}");
        let log = round_log(log_dir, run_id, task, &round);
        assert!(log.contains("graded in warm judge container"), "{log}");
        // Without tar the streamed delivery fails and a fresh container gets copies.
        assert_eq!(
            log.contains("could not run the evaluation"),
            task == NO_TAR,
            "{task}:\n{log}"
        );
        if task == NO_TAR {
            // The judge knows now: the next grading copies from the start, warm as well.
            wait_warm(bench, task, run_id, 1);
            let (round, report) = graded(&session.server, &session.token, "agent", "", &archive);
            assert_eq!(report["passed"], 1, "{task}, known: {report}");
            let log = round_log(log_dir, run_id, task, &round);
            assert!(
                log.contains("graded in warm judge container")
                    && !log.contains("could not run the evaluation"),
                "{log}"
            );
        }
        let run_id = run_id.clone();
        session.server.terminate();
        assert_no_judge_container(&run_id);
    }
}

/// `notes.txt` and, as `data` (a directory with files in the judge image), a symlink or a file.
fn clashing_archive(bench: &TestBenchmark, symlink: bool) -> Vec<u8> {
    let dir = bench.root().join(format!("clashing-{symlink}"));
    std::fs::create_dir_all(&dir).expect("create the clashing submission");
    std::fs::write(dir.join("notes.txt"), "notes\n").expect("write notes.txt");
    let _ = std::fs::remove_file(dir.join("data"));
    if symlink {
        std::os::unix::fs::symlink("notes.txt", dir.join("data")).expect("symlink");
    } else {
        std::fs::write(dir.join("data"), "a file\n").expect("write data");
    }
    support::tar_gz_of_dir(&dir)
}

#[test]
fn a_submission_the_judge_cannot_unpack_is_refused_as_the_agents_error() {
    require_docker!();
    let fixture = fixture();
    let bench = &fixture.bench;
    let refused = |report: &Value, how: &str| {
        assert_eq!(report["valid"], false, "{how}: {report}");
        let summary = report["summary"].as_str().unwrap_or_default();
        assert!(
            summary.starts_with("Submission rejected: the judge could not unpack it"),
            "{how}: {report}"
        );
    };
    for symlink in [true, false] {
        let path = archive_file(
            bench,
            &format!("clashing-{symlink}"),
            &clashing_archive(bench, symlink),
        );
        let cold = SforgeRun::of(
            bench
                .sforge()
                .args(["--silent", "eval", "--json", "--task", DELIVERED])
                .arg("--archive")
                .arg(&path),
        );
        cold.expect_code(2);
        refused(
            &serde_json::from_str(&cold.stdout).unwrap_or_else(|e| panic!("{e}\n{cold}")),
            &format!("cold, symlink {symlink}"),
        );
    }
    let archive = clashing_archive(bench, true);
    let (session, _, report) = graded_warm(bench, "e2e-clash-warm", DELIVERED, &archive);
    refused(&report, "warm");
    let run_id = session.run_id.clone();
    session.server.terminate();
    assert_no_judge_container(&run_id);
}
