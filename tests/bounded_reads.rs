//! Bounded reads of agent-controlled data (docs/security.md#bounded-reads), each attack performed
//! for real on the Docker engine: graded code that floods its output (`sforge eval` with a real
//! judge container), and an agent that leaves an oversized state file or more code than a
//! snapshot may hold, or code that takes too long to pack (`sforge run` with the script agent).
//! Sizes are above the limits but small (limits are lowered through settings where they are
//! settings); `scripts/bench-memory.sh` replays the attacks at full size and measures memory.

// Tests observe the system directly, independent of the product's process gateway.
#![allow(clippy::disallowed_methods)]

mod support;

use std::sync::{Arc, Mutex, Weak};

use serde_json::{json, Value};
use support::run_case::{read_json, Case, RUN_LIMIT};
use support::{BenchFixture, SforgeRun, TestBenchmark};

/// A task whose evaluation prints `TOTAL_SCORE 7`, a million `CASE` lines (about 25 MB), then
/// `TOTAL_SCORE 99`.
const FLOOD: &str = "flood";
const CASES: u64 = 1_000_000;
/// The bounds of `src/judge/grading/bounds.rs`.
const OUTPUT_HEAD_BYTES: u64 = 1 << 20;
const OUTPUT_TAIL_BYTES: u64 = 1 << 20;
const MAX_TEST_RECORDS: usize = 10_000;
const MIB: u64 = 1 << 20;

static FIXTURE: Mutex<Weak<BenchFixture>> = Mutex::new(Weak::new());

fn fixture() -> Arc<BenchFixture> {
    support::shared_fixture(&FIXTURE, || {
        let bench = TestBenchmark::new("sforge-test-bounds");
        bench.write_task(&flood_task());
        SforgeRun::of(bench.sforge().args(["--silent", "build", "--task", FLOOD])).expect_code(0);
        BenchFixture { bench }
    })
}

fn flood_task() -> Value {
    let cwd = format!("/home/workspace/{FLOOD}");
    json!({
        "task_id": FLOOD,
        "name": "Output flood",
        "base_image": "python",
        "platform": "linux/amd64",
        "cwd": cwd,
        "submit_paths": ["."],
        "submit_exclude": ["tests/"],
        "internet": true,
        "work": {
            "setup_cmds": [format!("mkdir -p {cwd}")],
            "agent_query": "Nothing to do: this task exercises the harness.",
        },
        "judge": {
            "setup_cmds": [format!("mkdir -p {cwd}")],
            "eval_cmd": format!(
                "echo 'TOTAL_SCORE 7'; seq 1 {CASES} | sed 's/.*/CASE & OK score=1/'; echo 'TOTAL_SCORE 99'"
            ),
            "eval_timeout": 120,
            "parser": "score_sum",
            "score_direction": "maximize",
            "selection": "score_first",
        },
    })
}

/// Graded code floods its output: the report and `test_output.txt` keep a head and a tail and
/// say how much was cut, the console echoes the head only; the parser still takes the first `TOTAL_SCORE` (in the head) and the
/// report lists at most `MAX_TEST_RECORDS` tests while counting all it saw.
#[test]
fn an_output_flood_is_cut_to_its_head_and_tail() {
    require_docker!();
    let fixture = fixture();
    let bench = &fixture.bench;
    let run_id = support::unique_name("flood");
    let archive = bench.root().join(format!("{run_id}.tar.gz"));
    std::fs::write(&archive, b"").expect("write an empty archive");
    let run = SforgeRun::of(
        bench
            .sforge()
            .args(["eval", "--json", "--task", FLOOD])
            .args(["--run-id", &run_id])
            .arg("--archive")
            .arg(&archive),
    );
    run.expect_code(0);
    let report: Value = serde_json::from_str(&run.stdout).expect("the JSON report");
    let cut = report["output_bytes_cut"].as_u64().unwrap_or(0);
    assert!(cut > 16 * MIB, "output_bytes_cut {cut}\n{run}");
    assert_eq!(report["score"], 7.0, "the first TOTAL_SCORE wins\n{run}");
    let details = report["test_details"].as_array().expect("test_details");
    assert_eq!(details.len(), MAX_TEST_RECORDS, "{run}");
    let passed = report["passed"].as_u64().unwrap_or(0);
    let records_cut = report["records_cut"].as_u64().unwrap_or(0);
    assert_eq!(
        passed,
        MAX_TEST_RECORDS as u64 + records_cut,
        "counts cover every record kept in the output\n{run}"
    );
    assert!(passed > 50_000 && passed < CASES, "{passed}");

    // The console gets the head of the output and a pointer to the file.
    assert!(
        run.stderr
            .contains("[sforge: more output follows; see test_output.txt]")
            && (run.stderr.len() as u64) < OUTPUT_HEAD_BYTES + 64 * 1024,
        "stderr is {} bytes",
        run.stderr.len()
    );

    let dir = bench.submission_dir(&run_id, FLOOD, "manual-1");
    let output_path = dir.join("test_output.txt");
    let size = std::fs::metadata(&output_path)
        .expect("test_output.txt")
        .len();
    assert!(
        size <= OUTPUT_HEAD_BYTES + OUTPUT_TAIL_BYTES + 1024,
        "test_output.txt is {size} bytes"
    );
    let output = std::fs::read_to_string(&output_path).expect("read test_output.txt");
    assert!(
        output.contains(&format!("[sforge: {cut} bytes of output cut here")),
        "test_output.txt does not say it was cut"
    );
    assert!(output.contains("TOTAL_SCORE 7") && output.contains("TOTAL_SCORE 99"));
    let on_disk = read_json(&dir.join("report.json"));
    assert_eq!(on_disk["output_bytes_cut"], cut);
    let left = support::containers_matching(&[&format!("label=sforge.run-id={run_id}")]);
    assert!(left.is_empty(), "judge containers left behind: {left:?}");
}

/// `sforge run` of the flood task with the script agent `script` and extra environment.
fn run_with(script: &str, env: &[(&str, &str)]) -> (Case, SforgeRun) {
    let case = Case::new(fixture(), script);
    let mut cmd = case.command(&[FLOOD], &["--eval-interval", "0", "--timeout", "120"]);
    for (key, value) in env {
        cmd.env(key, value);
    }
    let mut cmd = assert_cmd::Command::from_std(cmd);
    cmd.timeout(RUN_LIMIT);
    let run = SforgeRun::of(&mut cmd);
    (case, run)
}

/// A 3 MiB state file and 3 MiB of incompressible code against a 1 MiB snapshot limit: neither is
/// copied to the host, the log says why (the agent's doing), and the run still finishes.
#[test]
fn an_oversized_state_file_and_snapshot_are_refused_not_copied() {
    require_docker!();
    let script = "truncate -s 3M /tmp/sforge_state.json\n\
                  head -c 3145728 /dev/urandom > big.bin\n\
                  echo 'agent done'\n";
    let (case, run) = run_with(script, &[("SFORGE_SNAPSHOT_MAX_MIB", "1")]);
    run.expect_code(0);
    let dir = case.task_dir(FLOOD);
    assert!(
        !dir.join("evolve_state.json").exists(),
        "an oversized state file is not copied"
    );
    let archive = std::fs::metadata(dir.join("final_archive.tar.gz"))
        .expect("final_archive.tar.gz")
        .len();
    assert_eq!(archive, 0, "an oversized snapshot is not kept");
    let log = case.text(FLOOD, "run_agent.log");
    assert!(
        log.contains("/tmp/sforge_state.json in the work container is larger than 1048576 bytes (the agent's doing)"),
        "{log}"
    );
    assert!(
        log.contains("/tmp/sforge-snapshot.tar.gz in the work container is larger than 1048576 bytes (the agent's doing)"),
        "{log}"
    );
    let result = case.json(FLOOD, "final_result.json");
    assert_eq!(result["archive_size_bytes"], 0, "{result:#}");
    assert!(result["error"].is_null(), "{result:#}");
    for leftover in ["final_archive.tar.gz.part", "evolve_state.json.part"] {
        assert!(!dir.join(leftover).exists(), "{leftover} is left behind");
    }
    case.assert_no_containers();
}

/// Code that takes longer to pack than the snapshot time limit: `tar` is killed in the container
/// and the run goes on without a final round.
#[test]
fn a_snapshot_that_takes_too_long_is_abandoned() {
    require_docker!();
    let script = "head -c 268435456 /dev/urandom > big.bin\necho 'agent done'\n";
    let (case, run) = run_with(script, &[("SFORGE_SNAPSHOT_TIMEOUT", "1")]);
    run.expect_code(0);
    let log = case.text(FLOOD, "run_agent.log");
    assert!(
        log.contains("taking the snapshot took longer than 1s (the agent's doing)"),
        "{log}"
    );
    let history = case.json(FLOOD, "run_history.json");
    assert_eq!(history["entries"], json!([]), "no final round: {history:#}");
    case.assert_no_containers();
}
