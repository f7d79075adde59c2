//! The example benchmark in `tasks/` does what it claims, checked without sforge itself: every task
//! file is well-formed, the work setup never leaves the hidden tests behind, and in a judge-like
//! container the skeleton, the partial and the full solution grade as documented.

// Tests observe the system directly, independent of the product's process gateway.
#![allow(clippy::disallowed_methods)]

mod support;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;
use support::TestContainer;

/// The local test image (made by `scripts/setup.sh`); it already has python3 and pytest, which the
/// benchmark's base image adds as `extra_packages`.
const TEST_IMAGE: &str = "debian:bookworm-slim";
/// The tasks the Docker-backed tests below check; a new task needs a check here too.
const CHECKED_TASKS: [&str; 3] = ["coin_change", "text_utils", "tour_planner"];
const PARSERS: [&str; 3] = ["pytest_v", "score_sum", "structured_json"];
const SELECTIONS: [&str; 3] = ["pass_rate_first", "score_first", "valid_then_score"];

fn tasks_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tasks")
}

fn task_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(tasks_dir())
        .expect("tasks/ is readable")
        .map(|entry| entry.expect("tasks/ entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    files
}

fn load_task(task_id: &str) -> Value {
    let path = tasks_dir().join(format!("{task_id}.json"));
    let text = fs::read_to_string(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

fn text<'a>(task: &'a Value, pointer: &str) -> &'a str {
    task.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("task field {pointer} is missing or not a string"))
}

fn setup_cmds<'a>(task: &'a Value, role: &str) -> Vec<&'a str> {
    task.pointer(&format!("/{role}/setup_cmds"))
        .and_then(Value::as_array)
        .unwrap_or_else(|| panic!("task field /{role}/setup_cmds is missing"))
        .iter()
        .map(|cmd| cmd.as_str().expect("setup_cmds entries are strings"))
        .collect()
}

/// The base keys of `BENCHMARK.yaml`: the two-space-indented keys under `base_images:` (enough
/// for this file; the product has the real YAML loader).
fn benchmark_base_keys(yaml: &str) -> BTreeSet<String> {
    let mut keys = BTreeSet::new();
    let mut in_base_images = false;
    for line in yaml.lines() {
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        if !line.starts_with(' ') {
            in_base_images = line.trim_end() == "base_images:";
        } else if in_base_images && !line.starts_with("   ") {
            if let Some(key) = line.trim().strip_suffix(':') {
                keys.insert(key.to_owned());
            }
        }
    }
    keys
}

#[test]
fn task_files_are_well_formed_and_name_a_known_base() {
    let yaml = fs::read_to_string(tasks_dir().join("BENCHMARK.yaml")).expect("BENCHMARK.yaml");
    let name = yaml
        .lines()
        .find_map(|line| line.strip_prefix("name:"))
        .map(str::trim)
        .expect("BENCHMARK.yaml has a top-level name");
    assert!(
        name.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_.".contains(c)),
        "benchmark name {name:?} must be valid in a docker image name"
    );
    let base_keys = benchmark_base_keys(&yaml);
    assert!(
        !base_keys.is_empty(),
        "BENCHMARK.yaml defines no base_images"
    );

    let mut ids = BTreeSet::new();
    for path in task_files() {
        let shown = path.display().to_string();
        let task: Value = serde_json::from_str(&fs::read_to_string(&path).expect("readable"))
            .unwrap_or_else(|err| panic!("{shown}: {err}"));
        let id = text(&task, "/task_id");
        assert_eq!(
            Some(id),
            path.file_stem().and_then(|stem| stem.to_str()),
            "{shown}: task_id must match the file name (CLI and judge key tasks differently)"
        );
        let base = text(&task, "/base_image");
        assert!(
            base_keys.contains(base),
            "{shown}: base_image {base:?} is not in BENCHMARK.yaml {base_keys:?}"
        );
        for field in ["/name", "/platform", "/judge/eval_cmd"] {
            assert!(!text(&task, field).is_empty(), "{shown}: {field} is empty");
        }
        assert!(
            text(&task, "/cwd").starts_with('/'),
            "{shown}: cwd must be absolute"
        );
        assert!(task["submit_paths"].is_array(), "{shown}: submit_paths");
        assert!(
            PARSERS.contains(&text(&task, "/judge/parser")),
            "{shown}: parser"
        );
        assert!(
            SELECTIONS.contains(&text(&task, "/judge/selection")),
            "{shown}: selection"
        );
        assert!(task["internet"].is_boolean(), "{shown}: internet");
        // The work setup script stays readable in the work image: it must not carry the tests.
        for cmd in setup_cmds(&task, "work") {
            assert!(
                !cmd.contains("tests/"),
                "{shown}: work setup writes tests: {cmd}"
            );
        }
        assert!(setup_cmds(&task, "judge")
            .iter()
            .any(|cmd| cmd.contains("tests/")));
        for kind in ["full", "partial"] {
            let dir = tasks_dir().join("solutions").join(id).join(kind);
            assert!(dir.is_dir(), "{shown}: missing solution {}", dir.display());
        }
        ids.insert(id.to_owned());
    }
    let checked: BTreeSet<String> = CHECKED_TASKS.iter().map(ToString::to_string).collect();
    assert_eq!(
        ids, checked,
        "every task needs a Docker-backed check in this file"
    );
}

/// A setup script as sforge writes it (docs/compatibility.md#dockerfiles-and-setup-scripts).
fn setup_script(cmds: &[&str]) -> String {
    format!("#!/bin/bash\nset -euxo pipefail\n{}\n", cmds.join("\n"))
}

/// Starts a fresh, network-less container and runs `role`'s setup commands in it.
fn prepared_container(task: &Value, role: &str) -> TestContainer {
    let container =
        TestContainer::start(TEST_IMAGE, &["--network", "none"], &["sleep", "infinity"]);
    let probe = container.exec(&["python3", "-c", "import pytest"]);
    assert!(
        probe.status.success(),
        "{TEST_IMAGE} has no python3/pytest, so it is not the local test image: remove it \
         (docker rmi {TEST_IMAGE}) and run scripts/setup.sh to make it"
    );
    let output = container.exec_script(None, &setup_script(&setup_cmds(task, role)));
    assert!(
        output.status.success(),
        "{role} setup of {} failed:\n{}",
        text(task, "/task_id"),
        String::from_utf8_lossy(&output.stderr)
    );
    container
}

/// Grades like the judge: fresh container, judge setup, the solution (if any) copied into cwd,
/// then `eval_cmd` wrapped in the start/end markers. Returns the test section of the output.
fn grade(task: &Value, solution: Option<&str>) -> String {
    let container = prepared_container(task, "judge");
    let cwd = text(task, "/cwd");
    if let Some(kind) = solution {
        let dir = tasks_dir()
            .join("solutions")
            .join(text(task, "/task_id"))
            .join(kind);
        container.copy_dir_in(&dir, cwd);
    }
    let eval = format!(
        "exec 2>&1\nset -uxo pipefail\necho '>>>>> Start Test Output'\n{} 2>&1\nrc=$?\n\
         echo '>>>>> End Test Output'\necho \"Exit code: $rc\"\nexit 0\n",
        text(task, "/judge/eval_cmd")
    );
    let output = container.exec_script(Some(cwd), &eval);
    let output = String::from_utf8_lossy(&output.stdout).into_owned();
    test_section(&output)
}

/// The text between the markers (docs/compatibility.md#grading), or everything when they are
/// missing.
fn test_section(output: &str) -> String {
    const START: &str = ">>>>> Start Test Output";
    const END: &str = "\n>>>>> End Test Output";
    let start = if output.starts_with(START) {
        Some(START.len())
    } else {
        output
            .find(&format!("\n{START}"))
            .map(|at| at + 1 + START.len())
    };
    match (start, output.rfind(END)) {
        (Some(start), Some(end)) if end >= start => output[start..end].trim().to_owned(),
        _ => output.trim().to_owned(),
    }
}

/// `(passed, failed)` from pytest's final summary line, e.g. `=== 2 failed, 5 passed in 0.1s ===`.
fn pytest_summary(section: &str) -> (u32, u32) {
    let line = section
        .lines()
        .rev()
        .find(|line| line.starts_with('=') && line.contains(" in "))
        .unwrap_or_else(|| panic!("no pytest summary line in:\n{section}"));
    let words: Vec<&str> = line
        .split(|c: char| c.is_whitespace() || c == ',')
        .collect();
    let count = |label: &str| {
        words
            .windows(2)
            .find(|pair| pair[1] == label)
            .map_or(0, |pair| pair[0].parse().expect("a count"))
    };
    (count("passed"), count("failed"))
}

/// Named pytest result lines (`path::test STATUS`) with the given status.
fn pytest_named(section: &str, status: &str) -> usize {
    section
        .lines()
        .filter(|line| line.contains("::") && line.split_whitespace().nth(1) == Some(status))
        .count()
}

#[test]
fn text_utils_grades_as_claimed() {
    require_docker!();
    let task = load_task("text_utils");

    let section = grade(&task, None);
    assert_eq!(pytest_summary(&section), (0, 7), "skeleton:\n{section}");

    let section = grade(&task, Some("partial"));
    assert_eq!(pytest_summary(&section), (5, 2), "partial:\n{section}");
    assert_eq!(pytest_named(&section, "PASSED"), 5, "partial:\n{section}");
    assert_eq!(pytest_named(&section, "FAILED"), 2, "partial:\n{section}");

    let section = grade(&task, Some("full"));
    assert_eq!(pytest_summary(&section), (7, 0), "full:\n{section}");
    assert_eq!(pytest_named(&section, "PASSED"), 7, "full:\n{section}");
}

/// Case statuses (`CASE <id> <STATUS> score=<n>`) and the `TOTAL_SCORE`.
fn score_lines(section: &str) -> (Vec<String>, f64) {
    let statuses = section
        .lines()
        .filter_map(|line| line.strip_prefix("CASE "))
        .map(|rest| rest.split_whitespace().nth(1).expect("a status").to_owned())
        .collect();
    let total = section
        .lines()
        .find_map(|line| line.strip_prefix("TOTAL_SCORE "))
        .unwrap_or_else(|| panic!("no TOTAL_SCORE in:\n{section}"))
        .trim()
        .parse()
        .expect("a number");
    (statuses, total)
}

fn count(statuses: &[String], wanted: &str) -> usize {
    statuses.iter().filter(|status| *status == wanted).count()
}

fn assert_close(actual: f64, expected: f64, what: &str) {
    assert!(
        (actual - expected).abs() < 1e-6,
        "{what}: expected {expected}, got {actual}"
    );
}

#[test]
fn coin_change_grades_as_claimed() {
    require_docker!();
    let task = load_task("coin_change");

    let section = grade(&task, None);
    let (statuses, total) = score_lines(&section);
    assert_eq!(count(&statuses, "RE"), 10, "skeleton:\n{section}");
    assert_close(total, 0.0, "skeleton total");

    let section = grade(&task, Some("partial"));
    let (statuses, total) = score_lines(&section);
    assert_eq!(statuses.len(), 10, "partial:\n{section}");
    assert_eq!(count(&statuses, "OK"), 8, "partial:\n{section}");
    assert_eq!(count(&statuses, "WA"), 2, "partial:\n{section}");
    assert_close(total, 61.67, "partial total");

    let section = grade(&task, Some("full"));
    let (statuses, total) = score_lines(&section);
    assert_eq!(count(&statuses, "OK"), 10, "full:\n{section}");
    assert_close(total, 100.0, "full total");
}

/// The JSON between the structured-result markers.
fn structured_result(section: &str) -> Value {
    const START: &str = ">>>>> Start Structured Result";
    const END: &str = ">>>>> End Structured Result";
    let start = section
        .find(START)
        .unwrap_or_else(|| panic!("no structured result in:\n{section}"));
    let end = section.find(END).expect("end of the structured result");
    serde_json::from_str(section[start + START.len()..end].trim()).expect("valid JSON")
}

fn detail_statuses(result: &Value) -> Vec<String> {
    result["details"]
        .as_array()
        .expect("details")
        .iter()
        .map(|detail| detail["status"].as_str().expect("a status").to_owned())
        .collect()
}

#[test]
fn tour_planner_grades_as_claimed() {
    require_docker!();
    let task = load_task("tour_planner");
    assert_eq!(text(&task, "/judge/score_direction"), "minimize");

    let result = structured_result(&grade(&task, None));
    assert_eq!(result["valid"], Value::Bool(false), "skeleton: {result}");
    assert!(result["score"].is_null(), "skeleton: {result}");
    assert_eq!(
        count(&detail_statuses(&result), "FAILED"),
        5,
        "skeleton: {result}"
    );

    let partial = structured_result(&grade(&task, Some("partial")));
    assert_eq!(partial["valid"], Value::Bool(true), "partial: {partial}");
    assert_eq!(
        count(&detail_statuses(&partial), "PASSED"),
        5,
        "partial: {partial}"
    );
    let partial_score = partial["score"].as_f64().expect("partial score");
    assert_close(partial_score, 140.583, "partial score");

    let full = structured_result(&grade(&task, Some("full")));
    assert_eq!(full["valid"], Value::Bool(true), "full: {full}");
    assert_eq!(count(&detail_statuses(&full), "PASSED"), 5, "full: {full}");
    let full_score = full["score"].as_f64().expect("full score");
    assert_close(full_score, 127.799, "full score");

    // The rescale anchors are the full solution's score (expert) and visiting in the given order.
    assert_close(
        task["judge"]["rescale"]["expert"].as_f64().unwrap(),
        full_score,
        "expert",
    );
    assert!(
        partial_score > full_score,
        "lower is better: partial must be worse"
    );
}

/// Hashes of the skeleton files in `cwd` (everything but `tests/`) plus whether `tests/` exists.
fn skeleton_listing(container: &TestContainer, cwd: &str) -> String {
    let script =
        "find . -path ./tests -prune -o -type f -print0 | sort -z | xargs -0 -r sha256sum\n\
                  if [ -e tests ]; then echo 'tests/ present'; fi\n";
    let output = container.exec_script(Some(cwd), script);
    assert!(output.status.success(), "listing {cwd} failed");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn work_setup_hides_the_judge_tests_and_matches_the_judge_skeleton() {
    require_docker!();
    for task_id in CHECKED_TASKS {
        let task = load_task(task_id);
        let cwd = text(&task, "/cwd");
        let work = skeleton_listing(&prepared_container(&task, "work"), cwd);
        let judge = skeleton_listing(&prepared_container(&task, "judge"), cwd);
        assert!(
            !work.contains("tests/ present"),
            "{task_id}: work image has tests/"
        );
        assert!(
            judge.contains("tests/ present"),
            "{task_id}: judge image lacks tests/"
        );
        let hidden = container_find(&task, "work", "test_*.py score_*.py");
        assert!(hidden.is_empty(), "{task_id}: work image holds {hidden}");
        assert_eq!(
            work,
            judge.replace("tests/ present\n", ""),
            "{task_id}: the agent must get the judge's skeleton"
        );
    }
}

/// Files anywhere in a fresh `role` container (after setup) whose names match `patterns`.
fn container_find(task: &Value, role: &str, patterns: &str) -> String {
    let container = prepared_container(task, role);
    let names: Vec<String> = patterns
        .split_whitespace()
        .map(|pattern| format!("-name '{pattern}'"))
        .collect();
    let script = format!(
        "find / -xdev \\( {} \\) -path '/home/*' -print\n",
        names.join(" -o ")
    );
    let output = container.exec_script(None, &script);
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}
