//! Game tasks end to end on the real Docker engine: `sforge run` with the example player script
//! reaches Lantern Cave's full score through real game containers (history, `game_history.json`,
//! `steps.jsonl`, `game_result.json`, best round `game-N`); a real `sforge serve` refuses tokens
//! of other runs, hides sessions of other runs (404), caps sessions per run, leaves no game
//! container after SIGINT; and a game container of an offline run cannot reach a decoy on the
//! host (while one of an online run can: the control).
//!
//! The tests share a copy of `tasks/` under a unique benchmark name with the example game task
//! (`tasks/games/lantern_cave.json`) and a test-only probe game added, built once.

// Tests observe the system directly (docker, kill), independent of the product's process gateway.
#![allow(clippy::disallowed_methods)]

mod support;

use std::net::{Ipv4Addr, TcpListener};
use std::path::PathBuf;

use std::sync::{Arc, Mutex, Weak};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::run_case::{read_json, Case};
use support::serve::Serve;
use support::{BenchFixture, SforgeRun, TestBenchmark};

const LANTERN: &str = "lantern_cave";
/// A game whose step connects to the `host:port` it is given (a move that exploits the game):
/// its observation is `open` or `closed-<error>`; `flood` answers 8 MiB, `hang` never answers.
const PROBE: &str = "wall_probe";
const PROBE_GAME: &str = r#"import socket
import time


class Game:
    def __init__(self):
        self.max_score = 1
        self.reset()

    def reset(self):
        self.score, self.done = 0, False
        return "probe ready"

    def step(self, action):
        if action == "flood":
            return "x" * (8 << 20)
        if action == "hang":
            time.sleep(600)
        host, port = action.rsplit(":", 1)
        try:
            socket.create_connection((host, int(port)), timeout=3).close()
            return "open"
        except OSError as exc:
            return "closed-" + type(exc).__name__
"#;

static FIXTURE: Mutex<Weak<BenchFixture>> = Mutex::new(Weak::new());

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fixture() -> Arc<BenchFixture> {
    support::shared_fixture(&FIXTURE, || {
        let bench = TestBenchmark::new("sforge-test-game");
        let text = std::fs::read_to_string(repo().join("tasks/games/lantern_cave.json"))
            .expect("read tasks/games/lantern_cave.json");
        bench.write_task(&serde_json::from_str(&text).expect("lantern_cave.json is JSON"));
        bench.write_task(&probe_task());
        let mut build = bench.sforge();
        build.args(["--silent", "build", "--task", LANTERN, "--task", PROBE]);
        SforgeRun::of(&mut build).expect_code(0);
        BenchFixture { bench }
    })
}

fn probe_task() -> Value {
    let lines: Vec<String> = PROBE_GAME
        .lines()
        .map(|l| format!("'{}'", l.replace('\'', r"'\''")))
        .collect();
    json!({
        "task_id": PROBE,
        "name": "Game container wall probe",
        "base_image": "python",
        "platform": "linux/amd64",
        "cwd": "/home/workspace/probe",
        "submit_paths": ["."],
        "internet": false,
        "game_mode": true,
        "work": {"setup_cmds": ["mkdir -p /home/workspace/probe"], "agent_query": "probe"},
        "judge": {
            "setup_cmds": [format!("printf '%s\\n' {} > /opt/probe_game.py", lines.join(" "))],
            "game_server_cmd":
                "python3 /tmp/game_server_app.py --game /opt/probe_game.py --port 8000",
        },
    })
}

/// Containers (any state) with all of `labels`.
fn containers(labels: &[&str]) -> Vec<String> {
    let filters: Vec<String> = labels.iter().map(|l| format!("label={l}")).collect();
    let refs: Vec<&str> = filters.iter().map(String::as_str).collect();
    support::containers_matching(&refs)
}

fn game_containers(run_id: &str) -> Vec<String> {
    containers(&[&format!("sforge.run-id={run_id}"), "sforge.game-session"])
}

#[test]
fn the_player_script_reaches_full_score_through_sforge_run() {
    require_docker!();
    let script = std::fs::read_to_string(repo().join("tasks/agents/lantern_cave_player.sh"))
        .expect("read the player script");
    let case = Case::new(fixture(), &script);
    let run = case.run(&[LANTERN], &["--timeout", "180"]);
    run.expect_code(0)
        .expect_stdout("Score: 3/3, done: true")
        .expect_stdout("Game sessions: 1")
        .expect_stdout("Best pass rate: 100.00%")
        .expect_stdout("Best round: game-1");
    let result = case.json(LANTERN, "final_result.json");
    assert_eq!(result["best_round"], "game-1", "{result:#}");
    assert_eq!(result["total_rounds"], 1);
    assert_eq!(result["auto_submissions"], 0);
    let history = case.json(LANTERN, "game_history.json");
    let entries = history["entries"].as_array().expect("entries");
    assert_eq!(entries.len(), 1, "{history:#}");
    let game = &entries[0];
    assert_eq!(game["type"], "game");
    assert_eq!(game["round"], "game-1");
    assert_eq!(
        (game["final_score"].as_i64(), game["max_score"].as_i64()),
        (Some(3), Some(3))
    );
    assert_eq!(game["moves"], 6);
    assert!(!case.task_dir(LANTERN).join("run_history.json").exists());
    let dir = case.task_dir(LANTERN).join("submissions/game-1");
    let steps = std::fs::read_to_string(dir.join("steps.jsonl")).expect("steps.jsonl");
    let steps: Vec<Value> = steps
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(steps.len(), 6);
    assert_eq!(steps[0]["action"], "take lamp");
    assert_eq!(steps[5]["done"], true);
    let saved = read_json(&dir.join("game_result.json"));
    assert_eq!(saved["session_id"], game["session_id"]);
    assert_eq!(saved["pass_rate"], 1.0);
    let prompt = case.text(LANTERN, "agent_prompt.md");
    assert!(prompt.contains("## Game Server HTTP API"), "{prompt}");
    assert!(game_containers(&case.run_id).is_empty());
    case.assert_no_containers();
}

/// Ctrl-C of `sforge run` while the agent holds a game session: the run stops, the session is
/// archived and neither its game container nor the Work container is left.
#[test]
fn sigint_during_a_game_leaves_no_game_container() {
    require_docker!();
    let script = std::fs::read_to_string(repo().join("tasks/agents/lantern_cave_player.sh"))
        .expect("read the player script");
    // The player's first call, then a pause instead of the moves.
    let paused = script.replacen(
        "for action in",
        "echo 'SESSION STARTED'\nsleep 600\nfor action in",
        1,
    );
    assert_ne!(paused, script);
    let case = Case::new(fixture(), &paused);
    let mut running = case.spawn(case.command(&[LANTERN], &["--timeout", "600"]));
    case.wait_for_agent_output(LANTERN, "SESSION STARTED", &mut running);
    assert_eq!(
        game_containers(&case.run_id).len(),
        1,
        "the session's container runs"
    );
    running.signal("INT");
    let run = running.wait(Duration::from_secs(120));
    assert!(
        run.code.is_some(),
        "sforge run ended by itself: {}",
        run.stderr
    );
    assert!(game_containers(&case.run_id).is_empty(), "{}", run.stderr);
    case.assert_no_containers();
    let result = case
        .task_dir(LANTERN)
        .join("submissions/game-1/game_result.json");
    assert!(result.exists(), "the session was archived");
}

// ---- `sforge serve` ----

/// A running `sforge serve` with its own log directory; killed on drop.
struct Server {
    serve: Serve,
    log_dir: PathBuf,
}

impl Server {
    fn start(bench: &TestBenchmark, extra: &[&str]) -> Self {
        let log_dir = bench.root().join(support::unique_name("serve-logs"));
        let serve = Serve::start(bench, &log_dir, extra);
        Self { serve, log_dir }
    }

    fn url(&self, path: &str) -> String {
        format!("{}/{path}", self.serve.base())
    }

    fn register(&self, task: &str, run_id: &str, internet: bool) -> String {
        let secret = std::fs::read_to_string(self.log_dir.join("judge/admin_secret"))
            .expect("the admin secret");
        let body = json!({"task_id": task, "run_id": run_id, "admin_secret": secret.trim(),
                          "internet": internet});
        let (status, reply) = call("POST", &self.url("register"), None, Some(&body));
        assert_eq!(status, 200, "{reply}");
        reply["token"].as_str().expect("a token").to_owned()
    }

    /// SIGINT; panics unless the server exits successfully within 60 seconds.
    fn interrupt(self) {
        self.serve.stop_with("INT", Duration::from_secs(60));
    }
}

/// One HTTP call; `bearer` goes into `Authorization`.
fn call(method: &str, url: &str, bearer: Option<&str>, body: Option<&Value>) -> (u16, Value) {
    let agent = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(90))
        .build();
    let mut request = agent.request(method, url);
    if let Some(token) = bearer {
        request = request.set("Authorization", &format!("Bearer {token}"));
    }
    let result = match body {
        Some(body) => request.send_json(body.clone()),
        None if method == "POST" => request.send_json(json!({})),
        None => request.call(),
    };
    let response = match result {
        Ok(r) | Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{method} {url}: {e}"),
    };
    let status = response.status();
    let text = response.into_string().expect("read the answer");
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

fn game(server: &Server, run: &str, task: &str, path: &str) -> String {
    server.url(&format!("game/{run}/{task}/{path}"))
}

#[test]
fn serve_refuses_tokens_of_other_runs_and_hides_their_sessions() {
    require_docker!();
    let fixture = fixture();
    let server = Server::start(&fixture.bench, &[]);
    let (run_a, run_b) = (
        support::unique_name("game-a"),
        support::unique_name("game-b"),
    );
    let token_a = server.register(LANTERN, &run_a, false);
    let token_b = server.register(LANTERN, &run_b, false);
    let new_a = game(&server, &run_a, LANTERN, "new");
    // No token, another run's token: refused before anything starts.
    assert_eq!(call("POST", &new_a, None, None).0, 401);
    let (status, reply) = call("POST", &new_a, Some(&token_b), None);
    assert_eq!((status, &reply["detail"]), (401, &json!("Invalid token")));
    assert!(game_containers(&run_a).is_empty());
    // The token as a query parameter works too.
    let (status, first) = call("POST", &format!("{new_a}?token={token_a}"), None, None);
    assert_eq!(status, 200, "{first}");
    let sid = first["session_id"]
        .as_str()
        .expect("a session id")
        .to_owned();
    assert_eq!(first["max_score"], 3);
    assert_eq!(game_containers(&run_a).len(), 1);
    // Run B, with its own valid token, cannot touch run A's session: 404 as for an unknown id.
    let step = json!({"action": "take lamp"});
    let of_b = |path: &str| game(&server, &run_b, LANTERN, path);
    for path in [format!("{sid}/step"), format!("{sid}/close")] {
        let (status, reply) = call("POST", &of_b(&path), Some(&token_b), Some(&step));
        let expected = json!(format!("Game session not found: {sid}"));
        assert_eq!((status, &reply["detail"]), (404, &expected));
    }
    let status_b = of_b(&format!("{sid}/status"));
    assert_eq!(call("GET", &status_b, Some(&token_b), None).0, 404);
    let closed = call("POST", &of_b("close-all"), Some(&token_b), None).1;
    assert_eq!(closed["closed"], 0);
    // Run A's session is untouched.
    let step_a = game(&server, &run_a, LANTERN, &format!("{sid}/step"));
    let (status, moved) = call("POST", &step_a, Some(&token_a), Some(&step));
    assert_eq!((status, &moved["score"]), (200, &json!(1)), "{moved}");
    server.interrupt();
    assert!(game_containers(&run_a).is_empty());
}

#[test]
fn serve_caps_sessions_per_run_and_leaves_no_game_container_on_sigint() {
    require_docker!();
    let fixture = fixture();
    let server = Server::start(&fixture.bench, &["--game-sessions-per-run", "2"]);
    let (run_a, run_b) = (support::unique_name("cap-a"), support::unique_name("cap-b"));
    let token_a = server.register(LANTERN, &run_a, false);
    let token_b = server.register(LANTERN, &run_b, false);
    let new_a = game(&server, &run_a, LANTERN, "new");
    let (status, first) = call("POST", &new_a, Some(&token_a), None);
    assert_eq!(status, 200, "{first}");
    let sid = first["session_id"]
        .as_str()
        .expect("a session id")
        .to_owned();
    let step = json!({"action": "take lamp"});
    let step_a = game(&server, &run_a, LANTERN, &format!("{sid}/step"));
    assert_eq!(call("POST", &step_a, Some(&token_a), Some(&step)).0, 200);
    // A third session of run A evicts its oldest (archived as game-1).
    for _ in 0..2 {
        assert_eq!(call("POST", &new_a, Some(&token_a), None).0, 200);
    }
    assert_eq!(game_containers(&run_a).len(), 2, "at most 2 per run");
    let status_a = game(&server, &run_a, LANTERN, &format!("{sid}/status"));
    let (status, _) = call("GET", &status_a, Some(&token_a), None);
    assert_eq!(status, 404, "the oldest session was evicted");
    let games_a = server
        .log_dir
        .join("runs")
        .join(&run_a)
        .join(LANTERN)
        .join("submissions");
    let evicted = read_json(&games_a.join("game-1/game_result.json"));
    assert_eq!(evicted["session_id"].as_str(), Some(sid.as_str()));
    assert_eq!(evicted["final_score"], 1);
    // Run B is not limited by run A's sessions.
    let new_b = game(&server, &run_b, LANTERN, "new");
    assert_eq!(call("POST", &new_b, Some(&token_b), None).0, 200);
    assert_eq!(game_containers(&run_b).len(), 1);
    // Ctrl-C: every game container goes, every session is archived.
    let log_dir = server.log_dir.clone();
    server.interrupt();
    assert!(game_containers(&run_a).is_empty() && game_containers(&run_b).is_empty());
    for n in [2, 3] {
        assert!(
            games_a.join(format!("game-{n}/game_result.json")).exists(),
            "game-{n}"
        );
    }
    let games_b = log_dir
        .join("runs")
        .join(&run_b)
        .join(LANTERN)
        .join("submissions");
    assert!(games_b.join("game-1/game_result.json").exists());
}

/// A TCP listener on every IPv4 address of this host that counts connections.
struct Decoy {
    port: u16,
    hits: Arc<Mutex<usize>>,
}

impl Decoy {
    fn start() -> Self {
        let listener = TcpListener::bind((Ipv4Addr::UNSPECIFIED, 0)).expect("bind the decoy");
        let port = listener.local_addr().expect("decoy address").port();
        let hits = Arc::new(Mutex::new(0));
        let seen = Arc::clone(&hits);
        thread::spawn(move || {
            for _ in listener.incoming().flatten() {
                *seen.lock().unwrap() += 1;
            }
        });
        Decoy { port, hits }
    }
}

/// What a probe session of a run registered with `internet` sees when it connects to `target`.
fn probe(server: &Server, internet: bool, target: &str) -> String {
    let run = support::unique_name("probe");
    let token = server.register(PROBE, &run, internet);
    let (status, started) = call(
        "POST",
        &game(server, &run, PROBE, "new"),
        Some(&token),
        None,
    );
    assert_eq!(status, 200, "{started}");
    let sid = started["session_id"].as_str().expect("a session id");
    let path = format!("{sid}/step");
    let (status, seen) = call(
        "POST",
        &game(server, &run, PROBE, &path),
        Some(&token),
        Some(&json!({"action": target})),
    );
    assert_eq!(status, 200, "{seen}");
    assert_eq!(
        call(
            "POST",
            &game(server, &run, PROBE, "close-all"),
            Some(&token),
            None
        )
        .1["closed"],
        1
    );
    assert!(game_containers(&run).is_empty());
    seen["observation"]
        .as_str()
        .expect("an observation")
        .to_owned()
}

#[test]
fn an_offline_game_container_cannot_reach_the_host() {
    require_docker!();
    let fixture = fixture();
    let server = Server::start(&fixture.bench, &[]);
    let decoy = Decoy::start();
    let target = format!("{}:{}", support::bridge_gateway().0, decoy.port);
    // Control: a game container of an online run reaches the decoy (so the probe works).
    assert_eq!(probe(&server, true, &target), "open");
    let before = *decoy.hits.lock().unwrap();
    assert!(before >= 1);
    let seen = probe(&server, false, &target);
    assert!(
        seen.starts_with("closed-"),
        "offline game reached the host: {seen}"
    );
    assert_eq!(
        *decoy.hits.lock().unwrap(),
        before,
        "the decoy saw the offline game"
    );
    server.interrupt();
}

/// The game app refuses what it cannot play, with a message and exit status 1: a story file
/// without `jericho`, a module without `Game`; and plays a module over HTTP (no network needed).
#[test]
fn the_game_app_plays_modules_and_refuses_roms_without_jericho() {
    require_docker!();
    let container = support::TestContainer::start(
        "debian:bookworm-slim",
        &["--network", "none"],
        &["sleep", "300"],
    );
    container.copy_dir_in(&repo().join("templates/game"), "/tmp");
    container.copy_dir_in(&repo().join("tasks/games"), "/opt");
    let app = "/tmp/game_server_app.py";
    let rom = container.exec(&["python3", app, "--rom", "/opt/story.z5"]);
    assert_eq!(rom.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&rom.stderr).contains("jericho"),
        "{rom:?}"
    );
    let script = format!(
        r#"echo 'X = 1' > /tmp/empty.py
python3 {app} --game /tmp/empty.py; echo "exit $?"
python3 {app} --game /opt/lantern_cave.py --port 8000 &
cat > /tmp/client.py <<'PY'
import json, time, urllib.request as u
def call(path, body=None):
    data = None if body is None else json.dumps(body).encode()
    return json.load(u.urlopen(u.Request("http://127.0.0.1:8000" + path, data=data)))
for _ in range(50):
    try:
        health = call("/health")
        break
    except OSError:
        time.sleep(0.2)
print(health, call("/new", {{}})["max_score"], call("/step", {{"action": "take lamp"}})["score"])
PY
python3 /tmp/client.py
"#
    );
    let out = container.exec_script(None, &script);
    let text = String::from_utf8_lossy(&out.stdout);
    let errors = String::from_utf8_lossy(&out.stderr);
    assert!(text.contains("exit 1"), "{text}\n{errors}");
    assert!(errors.contains("defines no class Game"), "{errors}");
    assert!(text.contains("{'ok': True} 3 1"), "{text}\n{errors}");
}

/// The agent's moves drive the game, so the game's answers are hostile: one of 8 MiB is refused
/// (502) and the judge stays up; one that never comes is given up on (502), and the session can
/// still be closed and leaves no container.
#[test]
fn hostile_game_answers_are_bounded_in_size_and_time() {
    require_docker!();
    let fixture = fixture();
    let server = Server::start(&fixture.bench, &[]);
    let run = support::unique_name("hostile");
    let token = server.register(PROBE, &run, false);
    let (status, started) = call(
        "POST",
        &game(&server, &run, PROBE, "new"),
        Some(&token),
        None,
    );
    assert_eq!(status, 200, "{started}");
    let sid = started["session_id"]
        .as_str()
        .expect("a session id")
        .to_owned();
    let step = game(&server, &run, PROBE, &format!("{sid}/step"));
    let (status, reply) = call(
        "POST",
        &step,
        Some(&token),
        Some(&json!({"action": "flood"})),
    );
    assert_eq!(status, 502, "{reply}");
    assert!(
        reply["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("more than"),
        "{reply}"
    );
    let started_at = Instant::now();
    let (status, reply) = call(
        "POST",
        &step,
        Some(&token),
        Some(&json!({"action": "hang"})),
    );
    assert_eq!(status, 502, "{reply}");
    assert!(
        started_at.elapsed() < Duration::from_secs(60),
        "{:?}",
        started_at.elapsed()
    );
    let close = game(&server, &run, PROBE, &format!("{sid}/close"));
    let (status, closed) = call("POST", &close, Some(&token), None);
    assert_eq!(
        (status, closed["moves"].as_u64()),
        (200, Some(0)),
        "{closed}"
    );
    assert!(game_containers(&run).is_empty());
    server.interrupt();
}
