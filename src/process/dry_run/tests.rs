//! Tests of `DryRunRunner`: what runs, what is printed, and that the print is a working script.

use std::path::Path;

use super::*;
use crate::process::{RealRunner, RecordingRunner};

type Buffer = Arc<Mutex<Vec<u8>>>;

fn dry_run(inner: impl Runner + 'static) -> (DryRunRunner, Buffer) {
    let buffer: Buffer = Arc::default();
    (DryRunRunner::new(inner, buffer.clone()), buffer)
}

fn printed(buffer: &Buffer) -> String {
    String::from_utf8(buffer.lock().expect("buffer").clone()).expect("utf-8 script")
}

fn path_arg(path: &Path) -> String {
    path.display().to_string()
}

#[test]
fn read_only_commands_run_and_mutating_ones_are_printed_under_one_header() {
    let dir = tempfile::tempdir().expect("tempdir");
    let made = dir.path().join("made");
    let (runner, buffer) = dry_run(RealRunner::new());
    let query = Cmd::new("sh").args(["-c", "echo hi"]).read_only();
    assert_eq!(runner.run(&query).expect("query").stdout_str(), "hi");
    let touch = Cmd::new("touch").arg(path_arg(&made));
    assert_eq!(runner.run(&touch).expect("printed"), Output::empty());
    let login = Cmd::new("docker")
        .arg("login")
        .secret_env("TOKEN", "hunter2");
    runner.run(&login).expect("printed");
    assert!(!made.exists(), "a mutating command ran during dry run");
    assert_eq!(
        printed(&buffer),
        format!(
            "#!/bin/sh\nset -eu\ntouch {}\nTOKEN=\"{}\" docker login\n",
            crate::shell::quote(&path_arg(&made)),
            crate::process::replay::secret_ref("TOKEN")
        )
    );
}

#[test]
fn nothing_is_printed_when_nothing_mutates() {
    let (runner, buffer) =
        dry_run(RecordingRunner::new().on_output(&["docker", "ps"], Output::empty()));
    runner
        .run(&Cmd::new("docker").arg("ps").read_only())
        .expect("query");
    assert!(printed(&buffer).is_empty());
}

#[test]
fn streaming_prints_mutations_and_streams_queries() {
    let inner = Arc::new(RecordingRunner::new().on_output(&["q"], Output::with_stdout("line\n")));
    let (runner, buffer) = dry_run(inner.clone());
    let mut lines = Vec::new();
    let mut on_line = |_: Stream, l: &str| lines.push(l.to_string());
    runner
        .run_streaming(&Cmd::new("q").read_only(), &mut on_line)
        .expect("query");
    runner
        .run_streaming(&Cmd::new("build"), &mut on_line)
        .expect("printed");
    assert_eq!(lines, ["line"]);
    assert_eq!(inner.command_lines(), ["q"]);
    assert_eq!(printed(&buffer), format!("{SCRIPT_HEADER}build\n"));
}

#[test]
fn text_stdin_becomes_a_quoted_heredoc() {
    let cmd = Cmd::new("kubectl")
        .args(["apply", "-f", "-"])
        .stdin_bytes("kind: Pod\n");
    assert_eq!(
        script_text(&cmd),
        "kubectl apply -f - <<'SFORGE_STDIN'\nkind: Pod\nSFORGE_STDIN\n"
    );
    let tricky = Cmd::new("cat").stdin_bytes("SFORGE_STDIN\nno newline");
    assert_eq!(
        script_text(&tricky),
        "# the here-document below adds a final newline\n\
         cat <<'SFORGE_STDIN_1'\nSFORGE_STDIN\nno newline\nSFORGE_STDIN_1\n"
    );
}

#[test]
fn secret_and_binary_stdin_are_not_shown() {
    let login = Cmd::new("docker")
        .args(["login", "--password-stdin"])
        .secret_stdin_bytes("hunter2");
    assert_eq!(
        script_text(&login),
        "# the next command reads 7 bytes on stdin (secret, not shown)\n\
         docker login --password-stdin\n"
    );
    let load = Cmd::new("docker")
        .arg("load")
        .stdin_bytes(vec![0x1f, 0x8b, 0, 0xff]);
    assert!(script_text(&load).starts_with("# the next command reads 4 bytes on stdin (binary"));
}

/// The printed script, run by `sh`, does what the commands would have done.
#[test]
fn the_printed_script_runs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (runner, buffer) = dry_run(RecordingRunner::new());
    let write_stdin = |name: &str, text: &str| {
        Cmd::new("sh")
            .args(["-c", "cat > \"$1\"", "sh", name])
            .cwd(dir.path())
            .stdin_bytes(text)
    };
    let tricky = "it's $HOME and `x`\nSFORGE_STDIN\n";
    runner.run(&write_stdin("tricky", tricky)).expect("printed");
    runner
        .run(&write_stdin("unterminated", "no newline"))
        .expect("printed");
    let env_cmd = Cmd::new("sh")
        .args(["-c", "printf %s \"$V\" > env"])
        .env("V", "a b$c")
        .cwd(dir.path());
    runner.run(&env_cmd).expect("printed");
    let script = dir.path().join("script.sh");
    std::fs::write(&script, printed(&buffer)).expect("write script");
    RealRunner::new()
        .run(&Cmd::new("sh").arg(path_arg(&script)))
        .expect("script runs");
    let read = |name: &str| std::fs::read_to_string(dir.path().join(name)).expect("file");
    assert_eq!(read("tricky"), tricky);
    assert_eq!(read("unterminated"), "no newline\n");
    assert_eq!(read("env"), "a b$c");
}

#[test]
fn a_failing_writer_is_an_error_naming_the_command() {
    struct Broken;
    impl Write for Broken {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::ErrorKind::BrokenPipe.into())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    let runner = DryRunRunner::new(RecordingRunner::new(), Arc::new(Mutex::new(Broken)));
    let err = runner
        .run(&Cmd::new("rm").arg("x"))
        .expect_err("broken pipe");
    assert_eq!(
        err.to_string(),
        "could not write the dry-run line for `rm x`"
    );
}
