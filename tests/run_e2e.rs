//! `sforge run` end to end on the real Docker engine with the `script` agent: submissions and
//! auto-eval rounds, the run directory, submission limits, real timeouts (TERM, then KILL, and a
//! judge that refuses late submissions), crashes, SIGINT/SIGTERM, secrets, and staggered
//! multi-task runs. Acceptance of issue 5.
//!
//! Every test works on a copy of `tasks/` under a unique benchmark name, built once and shared by
//! the tests that run at the same time. Each run has its own log directory, run id and judge port
//! (its judge is started by `sforge run` itself), and ends with no container of its run left.

// Tests observe the system directly (docker, ps, kill), independent of the product's process
// gateway.
#![allow(clippy::disallowed_methods)]

mod support;

use std::io::Read as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use support::run_case::{read_json, Case, RUN_LIMIT};
use support::BenchFixture;

const TEXT_UTILS: &str = "text_utils";
const COIN_CHANGE: &str = "coin_change";
const TOUR_PLANNER: &str = "tour_planner";

static FIXTURE: Mutex<Weak<BenchFixture>> = Mutex::new(Weak::new());

/// The example benchmark with the images of the tasks these tests run built once.
fn fixture() -> Arc<BenchFixture> {
    support::built_benchmark(
        &FIXTURE,
        "sforge-test-run",
        &[TEXT_UTILS, COIN_CHANGE, TOUR_PLANNER],
    )
}

fn epoch() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |elapsed| elapsed.as_secs_f64())
}

/// A run of the shared benchmark whose agent is the bash script `script`.
fn case(script: &str) -> Case {
    Case::new(fixture(), script)
}

/// The rounds of a history (`run_history.json`), in its order.
fn rounds(history: &Value) -> Vec<String> {
    history["entries"]
        .as_array()
        .expect("the history has entries")
        .iter()
        .map(|entry| entry["round"].as_str().expect("round").to_owned())
        .collect()
}

/// The history entry of `round`.
fn entry<'a>(history: &'a Value, round: &str) -> &'a Value {
    history["entries"]
        .as_array()
        .and_then(|entries| entries.iter().find(|entry| entry["round"] == round))
        .unwrap_or_else(|| panic!("no round {round} in the history {history:#}"))
}

/// The contents of `name` in the `.tar.gz` archive at `path`.
fn file_in_archive(path: &Path, name: &str) -> Option<String> {
    let bytes = std::fs::read(path).unwrap_or_else(|err| panic!("{}: {err}", path.display()));
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(&bytes[..]));
    for file in archive.entries().expect("a tar.gz archive") {
        let mut file = file.expect("an archive entry");
        let entry_path = file.path().expect("entry path").into_owned();
        if entry_path.strip_prefix(".").unwrap_or(&entry_path) == Path::new(name) {
            let mut text = String::new();
            file.read_to_string(&mut text).expect("read the entry");
            return Some(text);
        }
    }
    None
}

/// The agent of the README quick start (`tasks/agents/<task>_solver.sh`).
fn solver(task: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tasks/agents")
        .join(format!("{task}_solver.sh"));
    std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

/// Submits twice (the quick start's `text_utils` solver), lingers through auto-evals and exits 0:
/// every round is graded, the best follows `pass_rate_first`, the run directory is complete.
#[test]
fn run_grades_agent_auto_and_final_rounds_and_writes_the_run_directory() {
    require_docker!();
    let script = solver(TEXT_UTILS);
    let lingering = script.replace(
        "\nexit 0\n",
        "\n# Linger through two auto-evals.\nsleep 5\nexit 0\n",
    );
    assert_ne!(lingering, script, "the solver ends with `exit 0`");
    let case = case(&lingering);
    let run = case.run(&[TEXT_UTILS], &["--eval-interval", "2", "--timeout", "180"]);
    run.expect_code(0)
        .expect_output(&format!(
            "Started a judge for this run on port {}",
            case.port
        ))
        // The agent's output is echoed for a single-task run.
        .expect_stdout("Round: agent-2")
        .expect_stdout("Best pass rate: 100.00%");
    let (history, ticks) = check_rounds(&case);
    let result = check_final_result(&case, &history, ticks);
    check_layout(&case, &history, &result);
    case.assert_no_containers();
}

/// `agent-1` (5 of 7 tests), `agent-2` (all), at least two auto-eval ticks and the final round,
/// all graded: the history and the number of ticks.
fn check_rounds(case: &Case) -> (Value, usize) {
    let history = case.json(TEXT_UTILS, "run_history.json");
    let rounds = rounds(&history);
    for round in ["agent-1", "agent-2", "auto-1", "auto-2"] {
        assert!(
            rounds.iter().any(|r| r == round),
            "no {round} in {rounds:?}"
        );
    }
    for round in &rounds {
        assert_eq!(entry(&history, round)["status"], "completed", "{round}");
    }
    assert!(
        (entry(&history, "agent-1")["pass_rate"].as_f64().unwrap() - 5.0 / 7.0).abs() < 1e-9,
        "the partial solution passes 5 of 7 tests: {history:#}"
    );
    assert_eq!(entry(&history, "agent-2")["pass_rate"], 1.0);
    // The final round: one more `auto` round after the ticks of auto_eval_ticks.log.
    let ticks = case.text(TEXT_UTILS, "auto_eval_ticks.log");
    let tick_count = ticks.lines().filter(|l| l.contains("round=auto-")).count();
    assert!(tick_count >= 2, "at least two auto-eval ticks: {ticks}");
    let final_round = format!("auto-{}", tick_count + 1);
    assert!(
        case.text(TEXT_UTILS, "run_agent.log")
            .contains(&format!("final round {final_round} submitted")),
        "run_agent.log names the final round {final_round}:\n{}",
        case.text(TEXT_UTILS, "run_agent.log")
    );
    assert_eq!(
        rounds.iter().filter(|r| r.starts_with("auto-")).count(),
        tick_count + 1,
        "the ticks and the final round are graded: {rounds:?}"
    );
    assert_eq!(entry(&history, &final_round)["pass_rate"], 1.0);
    (history, tick_count)
}

/// `final_result.json` of [`check_rounds`]'s run: the best as `pass_rate_first` picks it, the
/// counts, the flags, the phases.
fn check_final_result(case: &Case, history: &Value, tick_count: usize) -> Value {
    let rounds = rounds(history);
    // pass_rate_first: the best round is the first one (in submission order) reaching 1.0.
    let first_perfect = history["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["pass_rate"].as_f64() == Some(1.0))
        .map(|e| e["round"].clone())
        .unwrap();
    let result = case.json(TEXT_UTILS, "final_result.json");
    assert_eq!(
        result["best_round"], first_perfect,
        "{result:#}\n{history:#}"
    );
    assert_eq!(result["best_pass_rate"], 1.0);
    assert_eq!(
        result["best_score"], 1.0,
        "the pass rate stands in for a score"
    );
    assert_eq!(result["agent"], "script");
    assert_eq!(result["task"], TEXT_UTILS);
    assert_eq!(result["run_id"], case.run_id.as_str());
    assert_eq!(result["model"], Value::Null);
    assert_eq!(result["agent_submissions"], 2);
    assert_eq!(result["auto_submissions"], tick_count + 1);
    assert_eq!(result["total_rounds"], rounds.len());
    assert_eq!(result["timed_out"], false);
    assert_eq!(result["interrupted"], false);
    assert_eq!(result["resume_count"], 0);
    assert!(result.get("error").is_none(), "{result:#}");
    let runtime = result["runtime_seconds"].as_f64().unwrap();
    assert!(
        (5.0..60.0).contains(&runtime),
        "the agent lingered 5 s: {runtime}"
    );
    for phase in ["create", "install", "agent", "finalise"] {
        assert!(
            result["phase_seconds"][phase].as_f64().is_some(),
            "phase_seconds.{phase}: {result:#}"
        );
    }
    result
}

/// The run directory of [`check_rounds`]'s run has the layout of
/// docs/compatibility.md#run-directory.
fn check_layout(case: &Case, history: &Value, result: &Value) {
    // The layout of docs/compatibility.md#run-directory (script agent: no hook files; one task: no
    // summary.json).
    let dir = case.task_dir(TEXT_UTILS);
    let rounds = rounds(history);
    for file in [
        "run_config.json",
        "run_agent.log",
        "install_output.txt",
        "_sforge-submit.sh",
        "agent_prompt.md",
        "started_at",
        "agent_output.txt",
        "auto_eval_ticks.log",
        "final_archive.tar.gz",
        "evolve_state.json",
        "run_history.json",
        "final_result.json",
    ] {
        assert!(
            dir.join(file).is_file(),
            "{file} is missing in {}",
            dir.display()
        );
    }
    assert!(case.run_dir().join("run_config.json").is_file());
    assert!(!case.run_dir().join("summary.json").exists());
    assert!(!case.run_dir().join("experiment.yaml").exists());
    for round in &rounds {
        for file in [
            "run_instance.log",
            "submission.tar.gz",
            "allowed_files.txt",
            "eval.sh",
            "test_output.txt",
            "report.json",
        ] {
            let path = dir.join("submissions").join(round).join(file);
            assert!(path.is_file(), "{} is missing", path.display());
        }
    }
    let started_at = case.text(TEXT_UTILS, "started_at");
    let lines: Vec<&str> = started_at.lines().collect();
    assert_eq!(lines.len(), 2, "started_at: {started_at:?}");
    assert_eq!(
        lines[0].len(),
        "YYYY-MM-DDTHH:MM:SS".len(),
        "{started_at:?}"
    );
    let started: f64 = lines[1].parse().expect("epoch seconds");
    assert!((epoch() - started).abs() < 600.0, "{started_at:?}");
    assert!(case.text(TEXT_UTILS, "_sforge-submit.sh").starts_with("#!"));
    assert!(case.text(TEXT_UTILS, "agent_prompt.md").contains("slugify"));
    assert!(case
        .text(TEXT_UTILS, "agent_output.txt")
        .contains("Done: two submissions graded."));
    let archive = dir.join("final_archive.tar.gz");
    assert_eq!(
        result["archive_size_bytes"],
        std::fs::metadata(&archive).unwrap().len()
    );
    let full = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tasks/solutions/text_utils/full/textkit.py"),
    )
    .unwrap();
    assert_eq!(
        file_in_archive(&archive, "textkit.py").as_deref(),
        Some(full.as_str()),
        "the final archive holds the agent's last code"
    );
    let config = case.json(TEXT_UTILS, "run_config.json");
    assert_eq!(config["agent"], "script");
    assert_eq!(config["eval_interval"], 2);
    assert_eq!(config["score_direction"], "maximize");
    assert_eq!(config["selection"], "pass_rate_first");
    let unified = read_json(&case.run_dir().join("run_config.json"));
    assert_eq!(unified["run_id"], case.run_id.as_str());
    assert_eq!(unified["tasks"][TEXT_UTILS]["agent"], "script");
    case.assert_no_containers();
}

/// The other quick-start solvers reach their full solution's grade with their second round.
#[test]
fn example_solvers_reach_the_best_grade_with_their_second_submission() {
    require_docker!();
    for task in [COIN_CHANGE, TOUR_PLANNER] {
        let case = case(&solver(task));
        let run = case.run(&[task], &["--eval-interval", "0", "--timeout", "180"]);
        run.expect_code(0);
        let history = case.json(task, "run_history.json");
        assert_eq!(
            rounds(&history),
            ["agent-1", "agent-2", "auto-1"],
            "{task}: two agent rounds and the final round"
        );
        let (first, second) = (entry(&history, "agent-1"), entry(&history, "agent-2"));
        let (first, second) = (first["score"].as_f64(), second["score"].as_f64());
        let better = if case.fixture.bench.task(task)["judge"]["score_direction"] == "minimize" {
            second < first
        } else {
            second > first
        };
        assert!(
            better && first.is_some(),
            "{task}: the full solution scores better than the partial one: {history:#}"
        );
        let result = case.json(task, "final_result.json");
        assert_eq!(result["best_round"], "agent-2", "{task}: {result:#}");
        assert_eq!(result["best_score"].as_f64(), second, "{task}: {result:#}");
        assert!(result.get("error").is_none(), "{task}: {result:#}");
        case.assert_no_containers();
    }
}

/// A script that calls `sforge-submit` twice and records both exit codes in its output.
const SUBMIT_TWICE: &str = r#"export SFORGE_SUBMIT_POLL_INTERVAL=1
sforge-submit; echo "first submit exit=$?"
sforge-submit; echo "second submit exit=$?"
exit 0
"#;

/// The output of the second `sforge-submit` of [`SUBMIT_TWICE`], after checking both exit codes.
fn second_submit_output(case: &Case) -> String {
    let output = case.text(TEXT_UTILS, "agent_output.txt");
    let first = output
        .find("first submit exit=0")
        .unwrap_or_else(|| panic!("the first submission succeeds:\n{output}"));
    let second = output
        .find("second submit exit=1")
        .unwrap_or_else(|| panic!("the second submission exits 1:\n{output}"));
    output[first..second].to_owned()
}

#[test]
fn max_submissions_refuses_the_second_submission() {
    require_docker!();
    let case = case(SUBMIT_TWICE);
    let run = case.run(
        &[TEXT_UTILS],
        &[
            "--max-submissions",
            "1",
            "--eval-interval",
            "0",
            "--no-final-eval",
        ],
    );
    run.expect_code(0);
    let second = second_submit_output(&case);
    assert!(second.contains("SUBMISSION LIMIT REACHED"), "{second}");
    let history = case.json(TEXT_UTILS, "run_history.json");
    // --no-final-eval: no auto round at all.
    assert_eq!(rounds(&history), ["agent-1"]);
    let result = case.json(TEXT_UTILS, "final_result.json");
    assert_eq!(result["agent_submissions"], 1);
    assert_eq!(result["auto_submissions"], 0);
    case.assert_no_containers();
}

#[test]
fn submission_cooldown_refuses_the_second_submission() {
    require_docker!();
    let case = case(SUBMIT_TWICE);
    let run = case.run(
        &[TEXT_UTILS],
        // Long enough to outlast a slow grading of the first submission on a busy machine.
        &["--submission-cooldown", "120", "--eval-interval", "0"],
    );
    run.expect_code(0);
    let second = second_submit_output(&case);
    assert!(second.contains("COOLDOWN"), "{second}");
    assert!(!second.contains("SUBMISSION LIMIT REACHED"), "{second}");
    // The final round is an auto round: no cooldown applies to it.
    let history = case.json(TEXT_UTILS, "run_history.json");
    assert_eq!(rounds(&history), ["agent-1", "auto-1"]);
    case.assert_no_containers();
}

/// An agent that ignores TERM, loops, keeps background children, and tries to submit after its
/// deadline (once within the grace period, once after it).
const LOOPING: &str = r#"export SFORGE_SUBMIT_POLL_INTERVAL=1
# Ignore TERM everywhere: only the KILL after the grace period stops this agent.
trap '' TERM
echo "agent uid=$(id -u)"
# In the background: a slow grading must not keep the rest from starting.
( sforge-submit > /dev/null 2>&1; echo "early submit exit=$?" ) &
( while true; do date +%s > .heartbeat.new; mv -f .heartbeat.new heartbeat.txt; sleep 0.2; done ) &
( sleep $(( SFORGE_DEADLINE - $(date +%s) + 1 )); sforge-submit; echo "late submit exit=$?" ) &
( sleep 60; echo "survivor woke up" ) &
while true; do sleep 1; done
"#;

/// A process seen by `docker top`.
struct Proc {
    uid: String,
    pid: u32,
    ppid: u32,
    line: String,
}

/// One look at the processes of a container: when, its init process (host pid), what ran.
struct ProcessSample {
    at: f64,
    init: u32,
    procs: Vec<Proc>,
}

impl ProcessSample {
    /// The processes of user `uid`, except the container's keep-alive (its init process and the
    /// `sleep 3600` it restarts whenever that is killed).
    fn agent_processes(&self, uid: &str) -> Vec<&str> {
        self.procs
            .iter()
            .filter(|p| p.uid == uid && p.pid != self.init)
            .filter(|p| !(p.ppid == self.init && p.line.ends_with(" sleep 3600")))
            .map(|p| p.line.as_str())
            .collect()
    }
}

/// Samples the processes of `container` (`docker top`) every 200 ms until `stop`, while the
/// container exists.
fn sample_processes(
    container: String,
    stop: Arc<AtomicBool>,
) -> thread::JoinHandle<Vec<ProcessSample>> {
    thread::spawn(move || {
        let mut samples = Vec::new();
        let mut init = None;
        while !stop.load(Ordering::SeqCst) {
            thread::sleep(Duration::from_millis(200));
            if init.is_none() {
                let output = support::run(
                    support::docker().args(["inspect", "--format", "{{.State.Pid}}", &container]),
                    None,
                );
                init = String::from_utf8_lossy(&output.stdout)
                    .trim()
                    .parse()
                    .ok()
                    .filter(|pid| *pid != 0);
            }
            let Some(init) = init else { continue };
            let output = support::run(
                support::docker().args(["top", &container, "-eo", "uid,pid,ppid,args"]),
                None,
            );
            let at = epoch();
            if !output.status.success() {
                continue;
            }
            let procs = String::from_utf8_lossy(&output.stdout)
                .lines()
                .skip(1)
                .filter_map(|line| {
                    let mut fields = line.split_whitespace();
                    Some(Proc {
                        uid: fields.next()?.to_owned(),
                        pid: fields.next()?.parse().ok()?,
                        ppid: fields.next()?.parse().ok()?,
                        line: line.to_owned(),
                    })
                })
                .collect();
            samples.push(ProcessSample { at, init, procs });
        }
        samples
    })
}

/// `--timeout` and `--grace` of the looping agent's run.
const TIMEOUT: f64 = 20.0;
/// Long enough for the judge to answer the late submission even on a loaded 2-core machine.
const GRACE: f64 = 20.0;

/// No process of the agent's user `uid` is left once the agent phase (started at `agent_start`,
/// lasting `agent_phase` s) has ended with the KILL; meaningful only if `samples` saw the agent
/// before and the container after that moment, which is checked too.
fn assert_agent_processes_gone(
    samples: &[ProcessSample],
    uid: &str,
    agent_start: f64,
    agent_phase: f64,
) {
    // The agent phase ends once the KILL is done; the container is removed after finalisation.
    let killed = agent_start + agent_phase + 0.3;
    assert!(
        samples
            .iter()
            .any(|s| s.at < agent_start + TIMEOUT && !s.agent_processes(uid).is_empty()),
        "the sampler saw the agent's processes while it ran"
    );
    let after: Vec<&ProcessSample> = samples.iter().filter(|s| s.at > killed).collect();
    assert!(
        !after.is_empty(),
        "no look at the container between the KILL and its removal (samples at {:?} s after the \
         agent started; its phase took {agent_phase} s)",
        samples
            .iter()
            .map(|s| s.at - agent_start)
            .collect::<Vec<_>>()
    );
    for sample in after {
        let left = sample.agent_processes(uid);
        assert!(
            left.is_empty(),
            "processes of the agent (uid {uid}) remain {:.1} s after the agent started (its \
             phase ended after {agent_phase} s):\n{}",
            sample.at - agent_start,
            left.join("\n")
        );
    }
}

/// The epoch seconds of `started_at` (its second line).
/// Epoch seconds at which the Work container of each task was created, from the `docker
/// events` lines of `events` (`<name> <nanoseconds>`).
fn creation_times(mut events: support::KillOnDrop, case: &Case, tasks: &[&str]) -> Vec<f64> {
    let _ = events.0.kill();
    let mut text = String::new();
    events
        .0
        .stdout
        .take()
        .expect("piped stdout")
        .read_to_string(&mut text)
        .expect("read docker events");
    tasks
        .iter()
        .map(|task| {
            let name = format!("sforge.run.{task}.{}", case.run_id);
            #[allow(clippy::cast_precision_loss, reason = "nanoseconds since 1970 fit")]
            text.lines()
                .filter_map(|line| line.split_once(' '))
                .find(|(n, _)| *n == name)
                .and_then(|(_, nanos)| nanos.trim().parse::<u128>().ok())
                .map_or_else(
                    || panic!("no create event of {name} in:\n{text}"),
                    |nanos| nanos as f64 / 1e9,
                )
        })
        .collect()
}

fn started_epoch(case: &Case, task: &str) -> f64 {
    case.text(task, "started_at")
        .lines()
        .nth(1)
        .and_then(|line| line.parse().ok())
        .unwrap_or_else(|| panic!("{task}: started_at has the epoch seconds"))
}

#[test]
fn timeout_kills_the_agent_and_the_judge_refuses_late_submissions() {
    require_docker!();
    let case = case(LOOPING);
    let started = Instant::now();
    let mut running = case.spawn(case.command(
        &[TEXT_UTILS],
        &["--timeout", "20", "--grace", "20", "--eval-interval", "0"],
    ));
    let stop = Arc::new(AtomicBool::new(false));
    let watcher = sample_processes(
        format!("sforge.run.{TEXT_UTILS}.{}", case.run_id),
        Arc::clone(&stop),
    );
    let run = running.wait(RUN_LIMIT);
    let wall = started.elapsed();
    stop.store(true, Ordering::SeqCst);
    let samples = watcher.join().expect("the sampler thread");
    run.expect_code(0);

    let result = case.json(TEXT_UTILS, "final_result.json");
    assert_eq!(result["timed_out"], true, "{result:#}");
    assert_eq!(result["interrupted"], false, "{result:#}");
    let agent_phase = result["phase_seconds"]["agent"].as_f64().unwrap();
    assert!(
        (TIMEOUT + GRACE - 0.5..=TIMEOUT + GRACE + 4.0).contains(&agent_phase),
        "the agent ignores TERM, so its phase ends with the KILL after the grace period: \
         {agent_phase}\n{run}"
    );
    let agent_start = started_epoch(&case, TEXT_UTILS);
    assert!(
        wall < Duration::from_secs(90),
        "the whole run ends soon after the timeout: {wall:?}\n{run}"
    );

    let output = case.text(TEXT_UTILS, "agent_output.txt");
    let uid = output
        .lines()
        .find_map(|line| line.strip_prefix("agent uid="))
        .unwrap_or_else(|| panic!("the agent prints its uid:\n{output}"))
        .trim();
    assert_agent_processes_gone(&samples, uid, agent_start, agent_phase);

    // The early submission is graded, the one within the grace period is refused, the later one
    // never happens.
    assert!(output.contains("Run deadline has passed"), "{output}");
    assert!(output.contains("late submit exit=1"), "{output}");
    assert!(!output.contains("survivor woke up"), "{output}");
    let history = case.json(TEXT_UTILS, "run_history.json");
    let agent_rounds: Vec<String> = rounds(&history)
        .into_iter()
        .filter(|round| round.starts_with("agent-"))
        .collect();
    assert_eq!(
        agent_rounds,
        ["agent-1"],
        "no agent round after the deadline"
    );
    assert_eq!(result["agent_submissions"], 1);
    // The heartbeat child stopped: its last beat is before the end of the grace period.
    let beat: f64 = file_in_archive(
        &case.task_dir(TEXT_UTILS).join("final_archive.tar.gz"),
        "heartbeat.txt",
    )
    .expect("the final archive holds the heartbeat")
    .trim()
    .parse()
    .expect("epoch seconds");
    assert!(
        // A loaded machine may deliver the KILL a few seconds late.
        beat <= agent_start + TIMEOUT + GRACE + 4.0,
        "the heartbeat went on {:.1} s after the agent started",
        beat - agent_start
    );
    case.assert_no_containers();
}

#[test]
fn crashing_agent_fails_the_run_and_results_are_still_written() {
    require_docker!();
    let case = case("echo 'about to crash'\nexit 3\n");
    let run = case.run(&[TEXT_UTILS], &["--eval-interval", "0", "--timeout", "120"]);
    run.expect_code(1);
    let result = case.json(TEXT_UTILS, "final_result.json");
    let error = result["error"].as_str().unwrap_or_default();
    assert!(
        !error.is_empty(),
        "final_result.json has an error: {result:#}"
    );
    assert_eq!(result["timed_out"], false);
    assert_eq!(result["interrupted"], false);
    assert_eq!(
        result["resume_count"], 0,
        "the crash guard stops resuming an agent that dies within a second"
    );
    assert!(
        error.contains("exit code 3") && error.contains("systematic failure"),
        "{error}"
    );
    assert!(case
        .text(TEXT_UTILS, "agent_output.txt")
        .contains("about to crash"));
    // The final round still grades the (untouched) skeleton.
    let history = case.json(TEXT_UTILS, "run_history.json");
    assert_eq!(rounds(&history), ["auto-1"]);
    assert!(case.task_dir(TEXT_UTILS).join("run_config.json").is_file());
    assert!(case
        .task_dir(TEXT_UTILS)
        .join("final_archive.tar.gz")
        .is_file());
    case.assert_no_containers();
}

/// `sforge run` gets `signal` while the agent runs: it exits 130 within 10 s, reports the run as
/// interrupted, and leaves no container.
fn interrupt_with(signal: &str) {
    let case = case("echo agent-started\nwhile true; do sleep 1; done\n");
    let mut running =
        case.spawn(case.command(&[TEXT_UTILS], &["--timeout", "120", "--eval-interval", "0"]));
    case.wait_for_agent_output(TEXT_UTILS, "agent-started", &mut running);
    let sent = Instant::now();
    running.signal(signal);
    let run = running.wait(Duration::from_secs(30));
    let took = sent.elapsed();
    run.expect_code(130);
    assert!(
        took <= Duration::from_secs(10),
        "sforge run took {took:?} to exit after SIG{signal}\n{run}"
    );
    let result = case.json(TEXT_UTILS, "final_result.json");
    assert_eq!(result["interrupted"], true, "{result:#}");
    assert_eq!(result["timed_out"], false, "{result:#}");
    case.assert_no_containers();
}

#[test]
fn sigint_interrupts_the_run_and_removes_its_containers() {
    require_docker!();
    interrupt_with("INT");
}

#[test]
fn sigterm_interrupts_the_run_and_removes_its_containers() {
    require_docker!();
    interrupt_with("TERM");
}

#[test]
fn api_key_is_in_no_argv_log_or_container_command_line() {
    require_docker!();
    let key = support::unique_name("sk-test-secret");
    // The agent gets the key in its environment (shown here as <present>, so that the files
    // checked below would reveal any other way it leaks).
    let case = case(
        "env | sort | sed 's/^SFORGE_AGENT_API_KEY=.*/SFORGE_AGENT_API_KEY=<present>/'\necho agent-started\nsleep 6\n",
    );
    let mut cmd = case.command(&[TEXT_UTILS], &["--eval-interval", "3", "--timeout", "120"]);
    cmd.env("SFORGE_AGENT_API_KEY", &key);
    let mut running = case.spawn(cmd);
    let container = format!("sforge.run.{TEXT_UTILS}.{}", case.run_id);
    let mut argv_samples = 0;
    let mut inspected = false;
    while running.exited().is_none() {
        let ps = support::run_ok(Command::new("ps").args(["-eo", "args"]), None);
        let args = String::from_utf8_lossy(&ps.stdout);
        assert!(
            !args.contains(&key),
            "the API key is in a process argv:\n{args}"
        );
        argv_samples += 1;
        let inspect = support::run(
            support::docker().args([
                "inspect",
                "--format",
                "{{json .Path}} {{json .Args}} {{json .Config.Cmd}} {{json .Config.Entrypoint}}",
                &container,
            ]),
            None,
        );
        if inspect.status.success() {
            inspected = true;
            let text = String::from_utf8_lossy(&inspect.stdout);
            assert!(
                !text.contains(&key),
                "the API key is in docker inspect: {text}"
            );
        }
        thread::sleep(Duration::from_millis(150));
    }
    let run = running.wait(Duration::from_secs(5));
    run.expect_code(0);
    assert!(argv_samples >= 5, "ps sampled {argv_samples} times only");
    assert!(inspected, "the work container was never inspected");
    assert!(!run.stdout.contains(&key) && !run.stderr.contains(&key));
    let output = case.text(TEXT_UTILS, "agent_output.txt");
    assert!(
        output.contains("SFORGE_TOKEN=") && output.contains("SFORGE_AGENT_API_KEY=<present>"),
        "the agent printed its env:\n{output}"
    );
    let files = support::files_under(&case.log_dir());
    assert!(files.len() > 10, "the run wrote its files: {files:?}");
    for file in &files {
        let bytes = std::fs::read(file).unwrap();
        assert!(
            !String::from_utf8_lossy(&bytes).contains(&key),
            "the API key is in {}",
            file.display()
        );
    }
    // The settings carry the key, shown redacted.
    let unified = read_json(&case.run_dir().join("run_config.json"));
    assert_eq!(
        unified["tasks"][TEXT_UTILS]["settings"]["agent_api_key"]["value"], "***",
        "{unified:#}"
    );
    case.assert_no_containers();
}

#[test]
fn stagger_spreads_the_task_starts_and_summarises_every_task() {
    require_docker!();
    let tasks = [TEXT_UTILS, COIN_CHANGE, TOUR_PLANNER];
    let case = case("echo \"agent in $PWD\"\nexit 0\n");
    // The launches, measured by the engine: when each Work container was created (what follows
    // the stagger wait directly; an agent's start also includes its install, which a loaded
    // machine stretches unevenly).
    let events = support::KillOnDrop(
        support::docker()
            .args(["events", "--filter", "event=create", "--filter"])
            .arg(format!("label=sforge.run-id={}", case.run_id))
            .args(["--format", "{{.Actor.Attributes.name}} {{.TimeNano}}"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start docker events"),
    );
    // `docker events` reports only what happens after it has connected.
    thread::sleep(Duration::from_millis(500));
    let run = case.run(
        &tasks,
        &[
            "--stagger",
            "6",
            "--parallel",
            "3",
            "--eval-interval",
            "0",
            "--timeout",
            "120",
        ],
    );
    run.expect_code(0)
        .expect_stdout("(staggered over 6s, 2.0s apart)")
        .expect_stdout("=== Multi-task summary (3 tasks) ===");
    let starts = creation_times(events, &case, &tasks);
    for (i, start) in starts.iter().enumerate() {
        // Task i starts i·S/n = 2i seconds after the first.
        let offset = start - starts[0];
        #[allow(clippy::cast_precision_loss, reason = "i < 3")]
        let want = 2.0 * i as f64;
        assert!(
            (offset - want).abs() <= 1.5,
            "{} started {offset:.2} s after the first, want {want} ± 1.5 s (starts {starts:?})",
            tasks[i]
        );
    }
    let summary = read_json(&case.run_dir().join("summary.json"));
    assert_eq!(summary["run_id"], case.run_id.as_str());
    let entries = summary["tasks"].as_array().expect("summary.tasks");
    assert_eq!(entries.len(), 3, "{summary:#}");
    for task in tasks {
        let entry = entries
            .iter()
            .find(|entry| entry["task"] == task)
            .unwrap_or_else(|| panic!("no {task} in {summary:#}"));
        assert!(entry.get("error").is_none(), "{task}: {entry:#}");
        assert_eq!(
            entry["total_rounds"], 1,
            "{task}: the final round: {entry:#}"
        );
        assert_eq!(*entry, case.json(task, "final_result.json"));
    }
    let unified = read_json(&case.run_dir().join("run_config.json"));
    assert_eq!(unified["stagger"], 6);
    case.assert_no_containers();
}

/// `sforge gc` with the case's log directory and `args`; its stdout.
fn gc(case: &Case, args: &[&str]) -> String {
    let out = support::run_ok(
        case.fixture
            .bench
            .sforge_process(&case.log_dir())
            .arg("gc")
            .args(args),
        None,
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn iptables_rules() -> String {
    let out = support::run_ok(Command::new("iptables").args(["-w", "-S"]), None);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_killed_run_leaves_a_container_that_ends_itself_and_gc_removes_the_rest() {
    require_docker!();
    let case = case("echo agent-started\nwhile true; do sleep 1; done\n");
    // A budget over three renewal periods: the lease then ends exactly at deadline plus grace.
    let (budget, grace) = (40.0, 2.0);
    let mut cmd = case.command(
        &[TEXT_UTILS],
        &[
            "--timeout",
            "40",
            "--grace",
            "2",
            "--eval-interval",
            "0",
            "--disable-internet",
        ],
    );
    // An API address that needs no name resolution.
    cmd.env("SFORGE_AGENT_API_BASE_URL", "http://10.9.8.7:9090");
    let mut running = case.spawn(cmd);
    case.wait_for_agent_output(TEXT_UTILS, "agent-started", &mut running);
    let pid = running.pid();
    running.signal("KILL");
    let _ = running.wait(Duration::from_secs(10));
    let deadline = started_epoch(&case, TEXT_UTILS) + budget;
    let containers = case.work_containers();
    assert_eq!(
        containers.len(),
        1,
        "the Work container outlives sforge: {containers:?}"
    );
    let name = &containers[0];
    let id = support::run_ok(
        Command::new("docker").args(["inspect", "-f", "{{.Id}}", name]),
        None,
    );
    let chain = format!("SFORGE_{}", &String::from_utf8_lossy(&id.stdout)[..12]);
    assert!(
        iptables_rules().contains(&format!("-N {chain}")),
        "no chain {chain}"
    );

    // gc sees both as garbage (their sforge is gone) and, in a dry run, leaves them.
    let listed = gc(&case, &["--dry-run"]);
    assert!(
        listed.contains(&format!(
            "would remove container {name} (its sforge process {pid} is gone)"
        )),
        "{listed}"
    );
    assert!(
        listed.contains(&format!(
            "would remove chain {chain} (its container is gone)"
        )),
        "{listed}"
    );
    assert_eq!(
        case.work_containers().len(),
        1,
        "a dry run removed the container"
    );

    // The container ends itself at the agent's deadline plus grace, with nothing renewing it.
    while !case.work_containers().is_empty() {
        assert!(
            epoch() < deadline + grace + 8.0,
            "the container of a killed run still runs {:.1}s after its deadline",
            epoch() - deadline
        );
        thread::sleep(Duration::from_millis(500));
    }
    assert!(
        epoch() >= deadline + grace - 1.0,
        "the container ended {:.1}s before the deadline plus grace",
        deadline + grace - epoch()
    );
    // Its chain stays until a run or gc sweeps it.
    assert!(
        iptables_rules().contains(&format!("-N {chain}")),
        "{chain} vanished"
    );
    let removed = gc(&case, &[]);
    assert!(
        removed.contains(&format!("removed chain {chain} (its container is gone)")),
        "{removed}"
    );
    assert!(!iptables_rules().contains(&chain), "gc left {chain}");
    // The warm judge container of the killed run goes too (its sforge is gone).
    case.assert_no_containers();
}

#[test]
fn a_terminal_shows_a_live_table_and_events_go_to_a_file() {
    require_docker!();
    let case = case("echo agent-started\nsleep 4\nsforge-submit\nsleep 6\n");
    let events = case.dir.join("events.jsonl");
    let mut cmd = case.command(
        &[TEXT_UTILS, COIN_CHANGE],
        &["--timeout", "60", "--eval-interval", "0", "--events"],
    );
    cmd.arg(&events);
    let session = support::Tmux::start(&cmd, &case.dir);
    // While the agents run, the table shows both tasks in their phase, in place.
    let mut saw_agent_phase = false;
    let pane = session.wait(Duration::from_secs(240), |pane| {
        saw_agent_phase |= pane
            .lines()
            .any(|l| l.starts_with(TEXT_UTILS) && l.contains(" agent ") && l.contains(" / 1:00"));
    });
    assert!(saw_agent_phase, "no live row in the agent phase:\n{pane}");
    // Redrawn in place: one header however many seconds passed, the last state kept.
    assert_eq!(
        pane.matches("TASK").count(),
        2,
        "one live header and one summary header:\n{pane}"
    );
    let last_row = |task: &str| {
        pane.lines()
            .find(|l| l.starts_with(task) && l.contains(" done "))
            .unwrap_or_else(|| panic!("no final row of {task}:\n{pane}"))
            .to_owned()
    };
    for task in [TEXT_UTILS, COIN_CHANGE] {
        let row = last_row(task);
        let rounds: u32 = row
            .split_whitespace()
            .nth(5) // task, phase, elapsed, "/", budget, rounds
            .and_then(|r| r.parse().ok())
            .unwrap_or(0);
        assert!(rounds >= 2, "agent and final rounds in {row:?}");
    }
    assert!(
        pane.contains("=== Multi-task summary (2 tasks) ==="),
        "{pane}"
    );
    assert!(
        pane.contains("PASS RATE    SCORE  ROUNDS  DURATION"),
        "{pane}"
    );
    // The events file has each task's phases and graded rounds.
    let text = std::fs::read_to_string(&events).expect("events file");
    let events: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    for task in [TEXT_UTILS, COIN_CHANGE] {
        let of = |kind: &str| {
            events
                .iter()
                .filter(|e| e["task"] == task && e["event"] == kind)
                .count()
        };
        assert!(
            of("phase") >= 4 && of("round") >= 2 && of("finished") == 1,
            "{task}: {text}"
        );
    }
    case.assert_no_containers();
}

#[test]
fn without_a_terminal_progress_comes_as_lines() {
    require_docker!();
    let case = case("sleep 2\nsforge-submit\n");
    case.run(
        &[TEXT_UTILS, COIN_CHANGE],
        &["--timeout", "60", "--eval-interval", "0"],
    )
    .expect_code(0)
    .expect_stdout("[text_utils] agent\n")
    .expect_stdout("[coin_change] agent-1: ")
    .expect_stdout("[coin_change] done\n");
}

#[test]
fn one_task_on_a_terminal_keeps_its_status_under_the_agent_output() {
    require_docker!();
    let case = case("for i in 1 2 3 4 5 6; do echo agent-line-$i; sleep 1; done\nsleep 3\n");
    let cmd = case.command(&[TEXT_UTILS], &["--timeout", "60", "--eval-interval", "0"]);
    let session = support::Tmux::start(&cmd, &case.dir);
    let mut saw_footer = false;
    let pane = session.wait(Duration::from_secs(240), |pane| {
        let last = pane
            .lines()
            .rfind(|l| !l.trim().is_empty())
            .unwrap_or_default();
        saw_footer |= last.starts_with("[text_utils] agent ") && last.contains(" / 1:00");
    });
    assert!(saw_footer, "no status footer while the agent ran:\n{pane}");
    // The agent's lines are whole and each there once; the footer is gone.
    for i in 1..=6 {
        let want = format!("agent-line-{i}");
        assert_eq!(
            pane.lines().filter(|l| l.trim_end() == want).count(),
            1,
            "{want}:\n{pane}"
        );
    }
    assert!(
        !pane.contains("[text_utils] agent "),
        "the footer stayed:\n{pane}"
    );
    assert!(pane.contains("Best pass rate:"), "{pane}");
}
