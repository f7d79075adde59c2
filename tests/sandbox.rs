//! The Docker sandbox against the real engine: start, exec with streaming output and a deadline,
//! copy in and out, prompt and idempotent removal.

#![allow(clippy::disallowed_methods)] // tests observe the system directly, independent of the product's gateway

mod support;

use std::io::Read;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sforge::process::RealRunner;
use sforge::sandbox::{labels, ContainerSpec, DockerSandbox, ExecSpec, Role, Sandbox};

/// Removes the container when the test ends, however it ends.
struct Cleanup<'a>(&'a DockerSandbox, String);

impl Drop for Cleanup<'_> {
    fn drop(&mut self) {
        let _ = self.0.remove(&self.1);
    }
}

fn sandbox() -> DockerSandbox {
    DockerSandbox::new(Arc::new(RealRunner::new()), support::docker_bin())
}

fn busybox(name: &str) -> ContainerSpec {
    let mut labels = labels("test-run", "sandbox", Role::Judge, "tests");
    labels.insert("sforge.test".into(), "1".into());
    ContainerSpec {
        name: name.into(),
        image: "sforge-test/busybox:latest".into(),
        labels,
        env: vec![("GREETING".into(), "hello from env".into())],
        pids_limit: Some(64),
        ..ContainerSpec::default()
    }
}

fn tar_with(path: &str, text: &str) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_size(text.len() as u64);
    header.set_mode(0o644);
    header.set_cksum();
    builder
        .append_data(&mut header, path, text.as_bytes())
        .unwrap();
    builder.into_inner().unwrap()
}

#[test]
fn start_exec_copy_and_remove() {
    require_docker!();
    let sb = sandbox();
    let name = support::unique_name("sforge-test-sandbox");
    let _cleanup = Cleanup(&sb, name.clone());
    sb.start(&busybox(&name)).unwrap();

    let mut lines = Vec::new();
    let exec = ExecSpec {
        argv: vec![
            "sh".into(),
            "-c".into(),
            "echo \"$GREETING\"; echo \"$EXTRA\" >&2; cat".into(),
        ],
        env: vec![("EXTRA".into(), "per-exec".into())],
        stdin: Some(b"from stdin\n".to_vec()),
        ..ExecSpec::default()
    };
    let result = sb
        .exec(&name, &exec, &mut |l| lines.push(l.to_owned()))
        .unwrap();
    assert!(result.output.success() && !result.timed_out);
    for expected in ["hello from env", "per-exec", "from stdin"] {
        assert!(
            lines.iter().any(|l| l == expected),
            "{expected} not in {lines:?}"
        );
    }

    sb.copy_in(&name, "/tmp", tar_with("dir/file.txt", "payload\n"))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.tar");
    sb.copy_out(&name, "/tmp/dir/file.txt", &out, 1 << 20)
        .unwrap();
    let tar = std::fs::read(&out).unwrap();
    let mut archive = tar::Archive::new(tar.as_slice());
    let mut entry = archive.entries().unwrap().next().unwrap().unwrap();
    let mut text = String::new();
    entry.read_to_string(&mut text).unwrap();
    assert_eq!(text, "payload\n");
    let err = sb
        .copy_out(&name, "/tmp/dir/file.txt", &out, 1000)
        .expect_err("a tar stream over 1000 bytes");
    assert!(
        matches!(
            err,
            sforge::sandbox::SandboxError::TooLarge { max: 1000, .. }
        ),
        "{err}"
    );
    assert!(std::fs::metadata(&out).unwrap().len() <= 1000);
    let file = dir.path().join("in.tar");
    std::fs::write(&file, tar_with("from-file.txt", "streamed\n")).unwrap();
    sb.copy_in_file(&name, "/tmp", &file).unwrap();
    sb.copy_out(&name, "/tmp/from-file.txt", &out, 1 << 20)
        .unwrap();
    assert!(std::fs::read(&out)
        .unwrap()
        .windows(9)
        .any(|w| w == b"streamed\n"));

    assert_eq!(sb.logs(&name).unwrap(), "", "the keep-alive prints nothing");

    let started = Instant::now();
    sb.remove(&name).unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "removal must not wait for a stop timeout"
    );
    sb.remove(&name).unwrap();
}

#[test]
fn the_deadline_kills_everything_and_keeps_partial_output() {
    require_docker!();
    let sb = sandbox();
    let name = support::unique_name("sforge-test-sandbox");
    let _cleanup = Cleanup(&sb, name.clone());
    sb.start(&busybox(&name)).unwrap();
    let exec = ExecSpec {
        // A child that ignores the parent's death and keeps the output pipe open.
        argv: vec![
            "sh".into(),
            "-c".into(),
            "echo started; (sleep 300) & sleep 300".into(),
        ],
        timeout: Some(Duration::from_secs(2)),
        ..ExecSpec::default()
    };
    let mut lines = Vec::new();
    let result = sb
        .exec(&name, &exec, &mut |l| lines.push(l.to_owned()))
        .unwrap();
    assert!(result.timed_out);
    assert!(result.elapsed < Duration::from_secs(60));
    assert_eq!(lines, ["started"]);
}
