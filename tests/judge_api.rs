//! Contract tests of the judge HTTP API over real HTTP on 127.0.0.1: status codes, `detail`
//! texts, limits, restarts, journal recovery, bounded grading concurrency and secret values
//! masked in every answer.
//!
//! The graders here are TEST DOUBLES standing in for the real Docker grader (which is wired
//! into `sforge serve` separately): they read the uploaded archive as a pass rate ("0.5") and
//! return a fixed report, optionally after a delay or once a gate opens.

use std::collections::HashSet;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use sforge::judge::api::{EntryStatus, History, HistoryEntry, ResultResponse, SubmitResponse};
use sforge::judge::server::{
    read_admin_secret, state_dir, Best, GradeJob, GradeOutcome, Grader, HistoryFields, JudgeServer,
    Policy, RunningServer, ServerConfig, JOURNAL_FILE,
};

/// Test double: grades by reading the archive as a pass rate, after `delay`, once the gate is
/// open; records how many gradings ran at once.
#[derive(Default)]
struct FakeGrader {
    delay: Duration,
    gate: Option<(Mutex<bool>, Condvar)>,
    running: AtomicUsize,
    peak: AtomicUsize,
}

impl FakeGrader {
    fn gated() -> Self {
        Self {
            gate: Some((Mutex::new(false), Condvar::new())),
            ..Self::default()
        }
    }

    fn open_gate(&self) {
        let (open, cond) = self.gate.as_ref().unwrap();
        *open.lock().unwrap() = true;
        cond.notify_all();
    }
}

impl Grader for FakeGrader {
    fn grade(&self, job: &GradeJob) -> GradeOutcome {
        let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(now, Ordering::SeqCst);
        if let Some((open, cond)) = &self.gate {
            let _open = cond.wait_while(open.lock().unwrap(), |o| !*o).unwrap();
        }
        thread::sleep(self.delay);
        self.running.fetch_sub(1, Ordering::SeqCst);
        let text = std::fs::read_to_string(&job.archive).unwrap_or_default();
        let pass_rate: f64 = text.trim().parse().unwrap_or(0.0);
        let fields = HistoryFields {
            pass_rate,
            score: None,
            passed: 1,
            failed: 1,
            total_tests: 2,
            valid: true,
            summary: Some("1/2 tests passed".into()),
        };
        let report = json!({ "submission_id": job.submission_id, "pass_rate": pass_rate, "round": job.round });
        GradeOutcome::Completed(report, fields)
    }
}

/// Test double policy: highest pass rate among completed entries, first wins ties.
struct MaxPassRate;

impl Policy for MaxPassRate {
    fn best(&self, _task: &str, entries: &[HistoryEntry]) -> Best {
        let mut best = Best {
            best_score: None,
            best_pass_rate: 0.0,
            best_round: String::new(),
        };
        for e in entries
            .iter()
            .filter(|e| e.status == EntryStatus::Completed)
        {
            let pr = e.grade.as_ref().map_or(0.0, |g| g.pass_rate);
            if pr > best.best_pass_rate {
                best = Best {
                    best_score: Some(pr),
                    best_pass_rate: pr,
                    best_round: e.round.clone(),
                };
            }
        }
        best
    }
}

fn start_with(
    dir: &Path,
    grader: Arc<dyn Grader>,
    tweak: impl FnOnce(&mut ServerConfig),
) -> RunningServer {
    let _ = env_logger::builder().is_test(true).try_init();
    let tasks: HashSet<String> = ["task-a".to_owned(), "task-b".to_owned()].into();
    let mut config = ServerConfig::new("127.0.0.1:0".parse().unwrap(), dir.to_owned(), tasks);
    config.fsync = false;
    tweak(&mut config);
    JudgeServer::start(config, grader, Arc::new(MaxPassRate)).unwrap()
}

fn start(dir: &Path) -> RunningServer {
    start_with(dir, Arc::new(FakeGrader::default()), |_| {})
}

fn base(server: &RunningServer) -> String {
    format!("http://{}/api/v1", server.addr())
}

fn secret(dir: &Path) -> String {
    read_admin_secret(dir).unwrap().unwrap()
}

fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(60))
        .build()
}

fn reply(result: Result<ureq::Response, ureq::Error>) -> (u16, Value) {
    let response = match result {
        Ok(r) | Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("transport error: {e}"),
    };
    let status = response.status();
    let text = response.into_string().unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}")),
    )
}

fn get(url: &str) -> (u16, Value) {
    reply(agent().get(url).call())
}

fn post_json(url: &str, body: &Value) -> (u16, Value) {
    reply(
        agent()
            .post(url)
            .set("Content-Type", "application/json")
            .send_string(&body.to_string()),
    )
}

fn register(base: &str, secret: &str, extra: &Value) -> String {
    let mut body = json!({ "task_id": "task-a", "run_id": "run-1", "admin_secret": secret });
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    let (status, reply) = post_json(&format!("{base}/register"), &body);
    assert_eq!(status, 200, "{reply}");
    reply["token"].as_str().unwrap().to_owned()
}

/// (name, file name, content) parts as `multipart/form-data`.
fn form(parts: &[(&str, Option<&str>, &[u8])]) -> (String, Vec<u8>) {
    let mut body = Vec::new();
    for (name, file, value) in parts {
        let file = file
            .map(|f| format!("; filename=\"{f}\"\r\nContent-Type: application/gzip"))
            .unwrap_or_default();
        write!(
            body,
            "--BoUnD\r\nContent-Disposition: form-data; name=\"{name}\"{file}\r\n\r\n"
        )
        .unwrap();
        body.extend_from_slice(value);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(b"--BoUnD--\r\n");
    ("multipart/form-data; boundary=BoUnD".into(), body)
}

fn post_form(base: &str, parts: &[(&str, Option<&str>, &[u8])]) -> (u16, Value) {
    let (ct, body) = form(parts);
    reply(
        agent()
            .post(&format!("{base}/submit"))
            .set("Content-Type", &ct)
            .send_bytes(&body),
    )
}

fn submit(base: &str, token: &str, kind: &str, admin: &str, archive: &str) -> (u16, Value) {
    post_form(
        base,
        &[
            ("token", None, token.as_bytes()),
            ("kind", None, kind.as_bytes()),
            ("admin_secret", None, admin.as_bytes()),
            ("archive", Some("a.tar.gz"), archive.as_bytes()),
        ],
    )
}

fn accepted(base: &str, token: &str, kind: &str, admin: &str, archive: &str) -> String {
    let (status, reply) = submit(base, token, kind, admin, archive);
    assert_eq!(status, 200, "{reply}");
    reply["submission_id"].as_str().unwrap().to_owned()
}

/// Polls `/result/{id}` until it reaches `status` (60 s at most).
fn wait_for(base: &str, id: &str, status: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (code, reply) = get(&format!("{base}/result/{id}"));
        assert_eq!(code, 200, "{reply}");
        if reply["status"] == status {
            return reply;
        }
        assert!(
            Instant::now() < deadline,
            "{id} never reached {status}: {reply}"
        );
        thread::sleep(Duration::from_millis(20));
    }
}

fn history(base: &str, token: &str, admin: &str) -> Value {
    let (status, reply) = get(&format!(
        "{base}/history?token={token}&admin_secret={admin}"
    ));
    assert_eq!(status, 200, "{reply}");
    reply
}

fn detail(reply: &(u16, Value)) -> (u16, &str) {
    (
        reply.0,
        reply.1["detail"].as_str().unwrap_or("<not a string>"),
    )
}

#[test]
fn register_submit_result_history_happy_path() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path());
    let (base, secret) = (base(&server), secret(dir.path()));
    let token = register(
        &base,
        &secret,
        &json!({ "max_agent_submissions": 5, "judge_cpu_limit": 2 }),
    );
    assert_eq!(token.len(), 32);
    assert!(token.chars().all(|c| c.is_ascii_hexdigit()));
    assert_ne!(
        register(&base, &secret, &json!({})),
        token,
        "a new token per register call"
    );
    let (status, reply) = submit(&base, &token, "agent", "", "0.5");
    assert_eq!(status, 200);
    let id = reply["submission_id"].as_str().unwrap();
    assert_eq!(id.len(), 12);
    assert_eq!(reply["round_id"], "agent-1");
    assert_eq!(reply["status"], "queued");
    assert_eq!(reply["remaining_submissions"], 4);
    let done = wait_for(&base, id, "completed");
    assert_eq!(done["report"]["pass_rate"], 0.5);
    assert_eq!(done["error"], Value::Null);
    let h = history(&base, &token, "");
    assert_eq!(h["run_id"], "run-1");
    assert_eq!(
        (h["best_pass_rate"].as_f64(), h["best_round"].as_str()),
        (Some(0.5), Some("agent-1"))
    );
    let entry = &h["entries"][0];
    assert_eq!(
        (entry["type"].as_str(), entry["status"].as_str()),
        (Some("submission"), Some("completed"))
    );
    assert_eq!(
        (entry["round"].as_str(), entry["total_tests"].as_u64()),
        (Some("agent-1"), Some(2))
    );
    assert_eq!(entry["summary"], "1/2 tests passed");
    // The shared API types read exactly these bodies (what sforge run's client relies on).
    let typed: SubmitResponse = serde_json::from_value(reply.clone()).unwrap();
    assert_eq!(typed.remaining_submissions, Some(4));
    let typed: ResultResponse = serde_json::from_value(done.clone()).unwrap();
    assert_eq!(serde_json::to_value(&typed).unwrap(), done);
    let typed: History = serde_json::from_value(h.clone()).unwrap();
    assert_eq!(typed.entries[0].grade.as_ref().unwrap().total_tests, 2);
    assert_eq!(serde_json::to_value(&typed).unwrap(), h);
    let uploads: Vec<_> = std::fs::read_dir(state_dir(dir.path()).join("uploads"))
        .unwrap()
        .collect();
    assert!(uploads.is_empty(), "graded archives are removed");
    server.shutdown();
}

#[test]
fn register_errors() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path());
    let (base, secret) = (base(&server), secret(dir.path()));
    let reg = |body: Value| post_json(&format!("{base}/register"), &body);
    assert_eq!(
        detail(&reg(
            json!({"task_id": "task-a", "run_id": "r", "admin_secret": "nope"})
        )),
        (403, "Invalid admin secret")
    );
    assert_eq!(
        detail(&reg(
            json!({"task_id": "task-z", "run_id": "r", "admin_secret": secret})
        )),
        (404, "Unknown task: task-z")
    );
    // A run id names a directory of the judge's gradings: plain names only, shown escaped.
    assert_eq!(
        detail(&reg(
            json!({"task_id": "task-a", "run_id": "../x\ny", "admin_secret": secret})
        )),
        (
            400,
            r#"Invalid run_id "../x\ny": use letters, digits, '.', '_' and '-' (it names a directory)"#
        )
    );
    let (status, bad) = reg(json!({"run_id": 1, "judge_cpu_limit": "x"}));
    assert_eq!(status, 422);
    assert_eq!(bad["detail"][0]["loc"], json!(["body", "task_id"]));
    assert_eq!(bad["detail"][0]["msg"], "Field required");
    assert_eq!(
        reply(
            agent()
                .post(&format!("{base}/register"))
                .send_string("{not json")
        )
        .0,
        422
    );
    server.shutdown();
}

#[test]
fn submit_result_and_history_errors() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path());
    let (base, secret) = (base(&server), secret(dir.path()));
    let token = register(&base, &secret, &json!({}));
    assert_eq!(
        detail(&submit(&base, &token, "manual", "", "1")),
        (400, "kind must be 'agent' or 'auto'")
    );
    assert_eq!(
        detail(&submit(&base, &token, "auto", "wrong", "1")),
        (403, "admin_secret required for auto submissions")
    );
    assert_eq!(
        detail(&submit(&base, &"0".repeat(32), "agent", "", "1")),
        (401, "Invalid token")
    );
    let (status, missing) = post_form(&base, &[("kind", None, b"agent")]);
    assert_eq!(status, 422);
    let locs: Vec<&Value> = missing["detail"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["loc"])
        .collect();
    assert_eq!(
        locs,
        [&json!(["body", "token"]), &json!(["body", "archive"])]
    );
    let (status, _) = reply(
        agent()
            .post(&format!("{base}/submit"))
            .set("Content-Type", "multipart/form-data; boundary=x")
            .send_string("junk"),
    );
    assert_eq!(status, 400);
    assert_eq!(
        detail(&get(&format!("{base}/result/0123456789ab"))),
        (404, "Submission not found")
    );
    assert_eq!(
        detail(&get(&format!("{base}/history?token=ffff"))),
        (401, "Invalid token")
    );
    assert_eq!(
        get(&format!("{base}/history")).1["detail"][0]["loc"],
        json!(["query", "token"])
    );
    assert_eq!(detail(&get(&format!("{base}/tasks"))), (404, "Not Found"));
    assert_eq!(
        detail(&get(&format!("{base}/submit"))),
        (405, "Method Not Allowed")
    );
    server.shutdown();
}

#[test]
fn budget_is_checked_before_cooldown() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path());
    let (base, secret) = (base(&server), secret(dir.path()));
    let budget = register(
        &base,
        &secret,
        &json!({ "max_agent_submissions": 2, "submission_cooldown": 0 }),
    );
    assert_eq!(
        submit(&base, &budget, "agent", "", "0").1["remaining_submissions"],
        1
    );
    assert_eq!(
        submit(&base, &budget, "agent", "", "0").1["remaining_submissions"],
        0
    );
    assert_eq!(
        detail(&submit(&base, &budget, "agent", "", "0")),
        (429, "Submission budget exhausted (2/2 used)")
    );
    assert_eq!(
        submit(&base, &budget, "auto", &secret, "0").1["round_id"],
        "auto-1"
    );
    let slow = register(
        &base,
        &secret,
        &json!({ "max_agent_submissions": 1, "submission_cooldown": 1000 }),
    );
    accepted(&base, &slow, "agent", "", "0");
    let refused = submit(&base, &slow, "agent", "", "0");
    let (_, text) = detail(&refused);
    assert!(
        text.contains("budget"),
        "budget is checked before cooldown: {text}"
    );
    server.shutdown();
}

#[test]
fn cooldown_refusal_consumes_no_round() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path());
    let (base, secret) = (base(&server), secret(dir.path()));
    let cool = register(&base, &secret, &json!({ "submission_cooldown": 1000 }));
    accepted(&base, &cool, "agent", "", "0");
    let rejected = submit(&base, &cool, "agent", "", "0");
    let (status, text) = detail(&rejected);
    assert_eq!(status, 429);
    assert!(
        text.starts_with("Submission cooldown active — wait 1000s before next submission. "),
        "{text}"
    );
    assert!(
        !text.contains("budget") && !text.contains("exhausted"),
        "{text}"
    );
    assert_eq!(
        submit(&base, &cool, "auto", &secret, "0").1["round_id"],
        "auto-1"
    );
    let rounds: Vec<String> = history(&base, &cool, &secret)["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["round"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        rounds.ends_with(&["agent-1".to_owned(), "auto-1".to_owned()]),
        "{rounds:?}"
    );
    server.shutdown();
}

#[test]
fn rejected_submission_does_not_restart_the_cooldown_clock() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path());
    let (base, secret) = (base(&server), secret(dir.path()));
    let token = register(&base, &secret, &json!({ "submission_cooldown": 3 }));
    let first = Instant::now();
    accepted(&base, &token, "agent", "", "0");
    thread::sleep(Duration::from_millis(1500));
    assert_eq!(submit(&base, &token, "agent", "", "0").0, 429);
    thread::sleep(Duration::from_millis(3500).saturating_sub(first.elapsed()));
    // 3.5 s after the accepted one, 2 s after the rejected one: only the accepted one counts.
    let (status, reply) = submit(&base, &token, "agent", "", "0");
    assert_eq!(
        (status, reply["round_id"].as_str()),
        (200, Some("agent-2")),
        "{reply}"
    );
    server.shutdown();
}

#[test]
fn agent_view_hides_auto_entries_and_recomputes_best() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path());
    let (base, secret) = (base(&server), secret(dir.path()));
    let token = register(&base, &secret, &json!({}));
    let a = accepted(&base, &token, "agent", "", "0.25");
    let b = accepted(&base, &token, "auto", &secret, "1.0");
    wait_for(&base, &a, "completed");
    wait_for(&base, &b, "completed");
    let full = history(&base, &token, &secret);
    assert_eq!(
        (
            full["agent_submissions"].as_u64(),
            full["auto_submissions"].as_u64()
        ),
        (Some(1), Some(1))
    );
    assert_eq!(
        (
            full["best_round"].as_str(),
            full["entries"].as_array().unwrap().len()
        ),
        (Some("auto-1"), 2)
    );
    let view = history(&base, &token, "");
    assert_eq!(
        (
            view["agent_submissions"].as_u64(),
            view["auto_submissions"].as_u64()
        ),
        (Some(1), Some(0))
    );
    assert_eq!(
        (view["best_round"].as_str(), view["best_pass_rate"].as_f64()),
        (Some("agent-1"), Some(0.25))
    );
    assert_eq!(view["entries"].as_array().unwrap().len(), 1);
    server.shutdown();
}

#[test]
fn uploads_over_the_limit_get_413_with_or_without_content_length() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with(dir.path(), Arc::new(FakeGrader::default()), |c| {
        c.max_upload_bytes = 4096;
    });
    let (base, secret) = (base(&server), secret(dir.path()));
    let token = register(&base, &secret, &json!({}));
    let big = "1".repeat(10_000);
    assert_eq!(submit(&base, &token, "agent", "", &big).0, 413);
    let (ct, body) = form(&[
        ("token", None, token.as_bytes()),
        ("archive", Some("a"), big.as_bytes()),
    ]);
    let chunked = agent()
        .post(&format!("{base}/submit"))
        .set("Content-Type", &ct)
        .send(&body[..]);
    assert_eq!(reply(chunked).0, 413);
    assert_eq!(
        submit(&base, &token, "agent", "", "0.5").1["round_id"],
        "agent-1",
        "413 consumed no round"
    );
    server.shutdown();
}

#[test]
fn agent_submissions_after_the_deadline_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path());
    let (base, secret) = (base(&server), secret(dir.path()));
    let past = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
        - 10.0;
    let token = register(&base, &secret, &json!({ "deadline": past }));
    assert_eq!(
        detail(&submit(&base, &token, "agent", "", "1")),
        (403, "Run deadline has passed")
    );
    assert_eq!(
        submit(&base, &token, "auto", &secret, "1").1["round_id"],
        "auto-1"
    );
    let later = register(&base, &secret, &json!({ "deadline": past + 3600.0 }));
    assert_eq!(submit(&base, &later, "agent", "", "1").0, 200);
    server.shutdown();
}

#[test]
fn restart_keeps_tokens_counters_history_and_results() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with(dir.path(), Arc::new(FakeGrader::default()), |c| {
        c.fsync = true;
    });
    let (base1, secret) = (base(&server), secret(dir.path()));
    let token = register(&base1, &secret, &json!({}));
    let id = accepted(&base1, &token, "agent", "", "0.75");
    wait_for(&base1, &id, "completed");
    server.shutdown();
    let server = start(dir.path());
    let base2 = base(&server);
    assert_eq!(
        wait_for(&base2, &id, "completed")["report"]["pass_rate"],
        0.75
    );
    let h = history(&base2, &token, "");
    assert_eq!(
        (h["best_round"].as_str(), h["entries"][0]["status"].as_str()),
        (Some("agent-1"), Some("completed"))
    );
    assert_eq!(
        submit(&base2, &token, "agent", "", "1").1["round_id"],
        "agent-2"
    );
    server.shutdown();
}

#[test]
fn queued_and_interrupted_gradings_are_redone_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let gated = Arc::new(FakeGrader::gated());
    let server = start_with(dir.path(), gated.clone(), |c| {
        c.judge_concurrency = 1;
        c.shutdown_grace = Duration::from_millis(200);
    });
    let (base1, secret) = (base(&server), secret(dir.path()));
    let token = register(&base1, &secret, &json!({}));
    let ids: Vec<String> = (0..3)
        .map(|_| accepted(&base1, &token, "agent", "", "0.5"))
        .collect();
    wait_for(&base1, &ids[0], "running");
    assert_eq!(
        get(&format!("{base1}/result/{}", ids[1])).1["status"],
        "queued"
    );
    server.shutdown();
    gated.open_gate(); // the detached grading ends now; its result must not be recorded
    let server = start(dir.path());
    let base2 = base(&server);
    for (i, id) in ids.iter().enumerate() {
        assert_eq!(
            wait_for(&base2, id, "completed")["report"]["round"],
            format!("agent-{}", i + 1)
        );
    }
    assert_eq!(
        history(&base2, &token, "")["entries"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    server.shutdown();
}

#[test]
fn at_most_judge_concurrency_gradings_run_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let grader = Arc::new(FakeGrader {
        delay: Duration::from_millis(50),
        ..FakeGrader::default()
    });
    let server = start_with(dir.path(), grader.clone(), |c| c.judge_concurrency = 2);
    let (base, secret) = (base(&server), secret(dir.path()));
    let token = register(&base, &secret, &json!({}));
    let ids: Vec<String> = (0..20)
        .map(|_| accepted(&base, &token, "auto", &secret, "1"))
        .collect();
    for id in &ids {
        wait_for(&base, id, "completed");
    }
    assert_eq!(grader.peak.load(Ordering::SeqCst), 2);
    server.shutdown();
}

#[test]
fn reports_evicted_from_memory_are_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with(dir.path(), Arc::new(FakeGrader::default()), |c| {
        c.result_cache = 1;
    });
    let (base, secret) = (base(&server), secret(dir.path()));
    let token = register(&base, &secret, &json!({}));
    let first = accepted(&base, &token, "agent", "", "0.1");
    wait_for(&base, &first, "completed");
    let second = accepted(&base, &token, "agent", "", "0.2");
    wait_for(&base, &second, "completed");
    assert_eq!(
        wait_for(&base, &first, "completed")["report"]["pass_rate"],
        0.1
    );
    server.shutdown();
}

#[test]
fn admin_secret_is_private_reused_and_overridable() {
    let dir = tempfile::tempdir().unwrap();
    start(dir.path()).shutdown();
    let path = state_dir(dir.path()).join("admin_secret");
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let first = secret(dir.path());
    assert_eq!(first.len(), 32);
    let server = start(dir.path());
    register(&base(&server), &first, &json!({}));
    server.shutdown();
    let server = start_with(dir.path(), Arc::new(FakeGrader::default()), |c| {
        c.admin_secret = Some("from-env".into());
    });
    let base = base(&server);
    register(&base, "from-env", &json!({}));
    let refused = post_json(
        &format!("{base}/register"),
        &json!({"task_id": "task-a", "run_id": "r", "admin_secret": first}),
    );
    assert_eq!(refused.0, 403);
    server.shutdown();
}

#[test]
fn torn_journal_line_is_ignored_on_start() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path());
    let (base1, secret) = (base(&server), secret(dir.path()));
    let token = register(&base1, &secret, &json!({}));
    server.shutdown();
    let journal = state_dir(dir.path()).join(JOURNAL_FILE);
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&journal)
        .unwrap();
    file.write_all(br#"{"type":"register","token":"ab"#)
        .unwrap();
    for _ in 0..2 {
        let server = start(dir.path());
        let base = base(&server);
        assert_eq!(history(&base, &token, "")["run_id"], "run-1");
        register(&base, &secret, &json!({}));
        server.shutdown();
    }
    let text = std::fs::read_to_string(&journal).unwrap();
    assert!(
        text.lines()
            .all(|l| serde_json::from_str::<Value>(l).is_ok()),
        "{text}"
    );
}

/// Test double: a grader whose graded code printed what its container holds: the archive's text
/// comes back as test names, summary and metrics ("error:" archives as an infrastructure error).
struct EchoGrader;

impl Grader for EchoGrader {
    fn grade(&self, job: &GradeJob) -> GradeOutcome {
        let text = std::fs::read_to_string(&job.archive).unwrap_or_default();
        if let Some(reason) = text.strip_prefix("error:") {
            return GradeOutcome::Error(reason.to_owned());
        }
        let fields = HistoryFields {
            pass_rate: 0.0,
            score: None,
            passed: 0,
            failed: 1,
            total_tests: 1,
            valid: true,
            summary: Some(text.clone()),
        };
        let report = json!({
            "test_details": [{"name": format!("tests/t.py::{text}"), "status": "FAILED"}],
            "metrics": {text.clone(): text},
        });
        GradeOutcome::Completed(report, fields)
    }
}

#[test]
fn secret_values_are_masked_in_every_answer_and_kept_in_the_journal() {
    use base64::Engine as _;
    let dir = tempfile::tempdir().unwrap();
    let (key, proxy_pw, admin) = ("judge-key-0123456789", "pr0xy-pass", "admin-secret-abcdef");
    let proxy = format!("http://bob:{proxy_pw}@proxy.corp:3128");
    let server = start_with(dir.path(), Arc::new(EchoGrader), |c| {
        c.admin_secret = Some(admin.into());
        c.secrets.extend([key, proxy.as_str()]);
    });
    let base = base(&server);
    let token = register(&base, admin, &json!({}));
    let b64 = base64::engine::general_purpose::STANDARD.encode(format!("K={key}"));
    let printed = format!(
        "{key} {proxy} pw={proxy_pw} url={} b64={b64} admin={admin}",
        key.replace('-', "%2D")
    );
    let graded = accepted(&base, &token, "agent", "", &printed);
    let failed = accepted(&base, &token, "agent", "", &format!("error:{printed}"));
    let answers = [
        wait_for(&base, &graded, "completed"),
        wait_for(&base, &failed, "error"),
        history(&base, &token, ""),
        history(&base, &token, admin),
    ];
    for answer in &answers {
        let text = answer.to_string();
        for leaked in [
            key,
            proxy_pw,
            proxy.as_str(),
            admin,
            b64.get(4..20).unwrap(),
            "%2D",
        ] {
            assert!(!text.contains(leaked), "{leaked} in {text}");
        }
        assert!(text.contains("***"), "{text}");
    }
    let summary = answers[2]["entries"][0]["summary"].as_str().unwrap();
    assert!(
        summary.starts_with("*** *** pw=*** url=*** b64="),
        "{summary}"
    );
    // The operator's record on the host keeps what the grader printed.
    let journal = std::fs::read_to_string(state_dir(dir.path()).join(JOURNAL_FILE)).unwrap();
    assert!(
        journal.contains(key) && journal.contains(proxy_pw),
        "{journal}"
    );
    server.shutdown();
}
