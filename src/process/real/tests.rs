//! Tests of `RealRunner` and the streaming reader against real `sh`, `cat` and `sleep`.

use std::time::Duration;

use super::*;

fn sh(script: &str) -> Cmd {
    Cmd::new("sh").args(["-c", script])
}

fn run(cmd: &Cmd) -> Result<Output, ProcessError> {
    RealRunner::new().run(cmd)
}

fn stream(cmd: &Cmd) -> (Result<Output, ProcessError>, Vec<(Stream, String)>) {
    let mut lines = Vec::new();
    let result = RealRunner::new().run_streaming(cmd, &mut |s, l| lines.push((s, l.to_string())));
    (result, lines)
}

/// Writes 1 MiB of `x` to stderr, then `done` to stdout.
const BIG_STDERR: &str = "head -c 1048576 /dev/zero | tr '\\000' x >&2; echo done";

#[test]
fn success_captures_stdout_and_stderr() {
    let out = run(&sh("echo out; echo err >&2")).expect("exit 0");
    assert_eq!(out.stdout, b"out\n");
    assert_eq!(out.stderr_str(), "err");
    assert!(out.success());
}

#[test]
fn non_zero_exit_names_command_status_and_stderr() {
    let cmd = sh("echo oops >&2; exit 3");
    let err = run(&cmd).expect_err("exit 3");
    assert_eq!(err.exit_code(), Some(3));
    assert_eq!(
        err.to_string(),
        "process didn't exit successfully: `sh -c 'echo oops >&2; exit 3'` (exit status: 3)\n\
         --- stderr\noops"
    );
    let out = RealRunner::new().run_unchecked(&cmd).expect("unchecked");
    assert_eq!(out.status.code, Some(3));
    assert_eq!(out.stderr, b"oops\n");
}

#[test]
fn killed_by_signal_names_the_signal() {
    let err = run(&sh("kill -9 $$")).expect_err("killed");
    assert_eq!(err.signal(), Some(9));
    assert!(
        err.to_string()
            .ends_with("(signal: 9, SIGKILL: killed — out of memory?)"),
        "{err}"
    );
}

#[test]
fn missing_program_says_not_found_on_path() {
    let cmd = Cmd::new("sforge-test-no-such-program").arg("ps");
    let err = run(&cmd).expect_err("missing");
    assert!(err.is_not_found(), "{err:?}");
    assert!(err
        .to_string()
        .starts_with("sforge-test-no-such-program not found on PATH: install it"));
    let (result, _) = stream(&cmd);
    assert!(result.expect_err("missing").is_not_found());
}

#[test]
fn missing_cwd_is_not_reported_as_missing_program() {
    let err = run(&Cmd::new("true").cwd("/sforge/no/such/dir")).expect_err("bad cwd");
    assert!(matches!(err, ProcessError::Io { .. }), "{err:?}");
}

#[test]
fn timeout_kills_the_process() {
    let cmd = Cmd::new("sleep")
        .arg("5")
        .timeout(Duration::from_millis(200));
    let err = run(&cmd).expect_err("timed out");
    assert!(err.is_timeout(), "{err:?}");
    assert_eq!(
        err.to_string(),
        "process timed out after 200ms and was killed: `sleep 5`"
    );
    let (result, _) = stream(&cmd);
    assert!(result.expect_err("timed out").is_timeout());
}

#[test]
fn a_generous_timeout_does_not_disturb_a_quick_command() {
    let cmd = sh("echo hi; exit 4").timeout(Duration::from_secs(30));
    let err = run(&cmd).expect_err("exit 4");
    assert_eq!(err.exit_code(), Some(4));
    assert_eq!(err.stdout(), b"hi\n");
    let (result, lines) = stream(&cmd);
    assert_eq!(result.expect_err("exit 4").exit_code(), Some(4));
    assert_eq!(lines, [(Stream::Stdout, "hi".to_string())]);
}

#[test]
fn large_stderr_does_not_deadlock() {
    let out = run(&sh(BIG_STDERR)).expect("exit 0");
    assert_eq!(out.stderr.len(), 1 << 20);
    assert_eq!(out.stdout_str(), "done");
    let (result, lines) = stream(&sh(BIG_STDERR));
    let out = result.expect("exit 0");
    assert_eq!(out.stderr.len(), 1 << 20);
    let streamed: usize = lines
        .iter()
        .filter(|(s, _)| *s == Stream::Stderr)
        .map(|(_, l)| l.len())
        .sum();
    assert_eq!(
        streamed,
        1 << 20,
        "a line without newline arrives in pieces"
    );
    assert!(lines.contains(&(Stream::Stdout, "done".to_string())));
}

#[test]
fn stdin_is_passed_and_defaults_to_empty() {
    let big: Vec<u8> = (0..(1 << 20))
        .map(|i: u32| b"abc\n"[i as usize % 4])
        .collect();
    let cmd = Cmd::new("cat").stdin_bytes(big.clone());
    assert_eq!(run(&cmd).expect("cat").stdout, big);
    let (result, lines) = stream(&cmd);
    assert_eq!(result.expect("cat").stdout, big);
    assert_eq!(lines.len(), 1 << 18);
    assert!(run(&Cmd::new("cat")).expect("cat").stdout.is_empty());
    assert!(stream(&Cmd::new("cat")).0.expect("cat").stdout.is_empty());
}

#[test]
fn env_and_cwd_are_passed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cmd = sh(r#"printf '%s|%s|' "$PLAIN" "$HIDDEN"; pwd -P"#)
        .env("PLAIN", "a b")
        .secret_env("HIDDEN", "s3cret")
        .cwd(dir.path());
    let expected = format!(
        "a b|s3cret|{}",
        dir.path().canonicalize().expect("canonical").display()
    );
    assert_eq!(run(&cmd).expect("sh").stdout_str(), expected);
    assert_eq!(stream(&cmd).0.expect("sh").stdout_str(), expected);
    let inherited = sh(r#"test -n "$PATH""#).env("EXTRA", "1");
    run(&inherited).expect("added env keeps the inherited PATH");
}

#[test]
fn streaming_keeps_line_order_and_tags_streams() {
    let script = "echo a; echo b; sleep 0.2; echo c >&2; sleep 0.2; printf 'd\\r\\n'; printf e";
    let (result, lines) = stream(&sh(script));
    let out = result.expect("exit 0");
    let expected = [
        (Stream::Stdout, "a"),
        (Stream::Stdout, "b"),
        (Stream::Stderr, "c"),
        (Stream::Stdout, "d"),
        (Stream::Stdout, "e"),
    ];
    assert_eq!(lines, expected.map(|(s, l)| (s, l.to_string())));
    assert_eq!(out.stdout, b"a\nb\nd\r\ne");
    assert_eq!(out.stderr, b"c\n");
}

/// The child waits for a file that only the callback for its first line creates: if lines
/// were delivered only at exit, the child would wait forever and hit its timeout.
#[test]
fn streaming_delivers_lines_while_the_process_runs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let marker = dir.path().join("seen-first-line");
    let script = "echo first; while [ ! -e \"$MARKER\" ]; do sleep 0.02; done; echo second";
    let cmd = sh(script)
        .env("MARKER", marker.display().to_string())
        .timeout(Duration::from_secs(20));
    let mut lines = Vec::new();
    let result = RealRunner::new().run_streaming(&cmd, &mut |_, line| {
        if line == "first" {
            std::fs::write(&marker, b"").expect("create marker");
        }
        lines.push(line.to_string());
    });
    result.expect("child saw the marker before timing out");
    assert_eq!(lines, ["first", "second"]);
}

/// A flood on stdout and stderr: streamed lines see all of it, memory keeps a head and a tail.
#[test]
fn kept_output_is_bounded_and_streaming_sees_every_line() {
    let script = "i=0; while [ $i -lt 2000 ]; do echo line$i; echo err$i >&2; i=$((i+1)); done";
    let cmd = sh(script).keep_output(100, 100);
    let (result, lines) = stream(&cmd);
    let out = result.expect("exit 0");
    assert_eq!(lines.len(), 4000);
    assert!(
        out.stdout.len() <= 200 && out.stderr.len() <= 200,
        "{out:?}"
    );
    assert!(out.stdout.starts_with(b"line0\n"));
    assert!(out.stdout.ends_with(b"line1999\n"));
    assert!(out.stderr.ends_with(b"err1999\n"));
}

#[test]
fn stdout_goes_to_a_file_up_to_its_limit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("out");
    let out = run(&sh("echo hello; echo err >&2").stdout_file(&path, 6)).expect("exit 0");
    assert_eq!(std::fs::read(&path).unwrap(), b"hello\n");
    assert!(out.stdout.is_empty());
    assert_eq!(out.stderr, b"err\n");

    let endless = sh("yes")
        .stdout_file(&path, 1 << 20)
        .timeout(Duration::from_secs(20));
    let err = run(&endless).expect_err("over the limit");
    assert!(
        matches!(err, ProcessError::OutputLimit { limit, .. } if limit == 1 << 20),
        "{err}"
    );
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 1 << 20);
}

#[test]
fn stdin_can_come_from_a_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("in");
    std::fs::write(&path, b"from a file\n").unwrap();
    let out = run(&Cmd::new("cat").stdin_file(&path)).expect("exit 0");
    assert_eq!(out.stdout, b"from a file\n");
}

#[test]
fn a_host_name_cannot_add_lines_to_the_plan() {
    let l = crate::process::replay::ReplayLookup::new(
        "API",
        3,
        "a.invalid\ntouch owned\n",
        "x\ntouch owned2",
    );
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("p.sh");
    let prelude = l.prelude();
    std::fs::write(&script, format!("set -eu\n{prelude}")).unwrap();
    let sh = crate::process::Cmd::new("sh")
        .arg(script.display().to_string())
        .cwd(dir.path());
    let out = crate::process::RealRunner::new()
        .run_unchecked(&sh)
        .unwrap();
    assert!(
        !out.success(),
        "a name that does not resolve stops the plan"
    );
    for file in ["owned", "owned2"] {
        assert!(!dir.path().join(file).exists(), "{prelude}");
    }
}
