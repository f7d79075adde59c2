//! Argv of the Docker sandbox (pure), and the real thing when an engine answers.

use super::*;
use crate::process::RecordingRunner;
use crate::sandbox::{labels, Role};

fn spec() -> ContainerSpec {
    ContainerSpec {
        name: "b.judge.t.abc".into(),
        image: "b.judge.t:123".into(),
        labels: labels("run1", "t", Role::Judge, "alice"),
        env: vec![("SFORGE_JUDGE_API_KEY".into(), "sk-secret".into())],
        user: Some("root".into()),
        cpu_limit: Some(2),
        mem_limit: Some("1g".into()),
        pids_limit: Some(512),
        add_hosts: vec!["host.docker.internal:host-gateway".into()],
        ..ContainerSpec::default()
    }
}

#[test]
fn run_command_keeps_env_values_off_the_command_line() {
    let sandbox = DockerSandbox::new(Arc::new(RecordingRunner::new()), "docker");
    let cmd = sandbox.run_cmd(&spec());
    assert!(!cmd.to_script_line().contains("sk-secret"));
    let line = cmd.get_args().join(" ");
    assert!(!line.contains("sk-secret"), "{line}");
    assert_eq!(cmd.env_value("SFORGE_JUDGE_API_KEY"), Some("sk-secret"));
    for needle in [
        "--label app=sforge",
        "--label sforge.role=judge",
        "--label sforge.run-id=run1",
        "-e SFORGE_JUDGE_API_KEY",
        "--cpus 2",
        "--memory 1g",
        "--pids-limit 512",
        "--add-host host.docker.internal:host-gateway",
    ] {
        assert!(line.contains(needle), "{needle} missing: {line}");
    }
}

#[test]
fn walls_become_docker_flags() {
    let sandbox = DockerSandbox::new(Arc::new(RecordingRunner::new()), "docker");
    let mut walled = spec();
    walled.cap_drop = vec!["ALL".into()];
    walled.cap_add = vec!["SETUID".into()];
    walled.no_new_privileges = true;
    walled.network = Network::None;
    let line = sandbox.run_cmd(&walled).get_args().join(" ");
    for needle in [
        "--network none",
        "--cap-drop ALL",
        "--cap-add SETUID",
        "--security-opt no-new-privileges",
    ] {
        assert!(line.contains(needle), "{needle} missing: {line}");
    }
    assert!(!line.contains("--add-host"), "{line}");
    walled.network = Network::NoIngress;
    let line = sandbox.run_cmd(&walled).get_args().join(" ");
    assert!(line.contains("--network sforge-walled"), "{line}");
    assert!(
        line.contains("--add-host host.docker.internal:host-gateway"),
        "{line}"
    );
}

#[test]
fn removing_a_missing_container_is_fine() {
    let runner = RecordingRunner::new().on_output(
        &["docker", "rm"],
        crate::process::Output::failed(1, "Error: No such container: x\n"),
    );
    let sandbox = DockerSandbox::new(Arc::new(runner), "docker");
    assert!(sandbox.remove("x").is_ok());
}

#[test]
fn exec_command_shape() {
    let sandbox = DockerSandbox::new(Arc::new(RecordingRunner::new()), "docker");
    let exec = ExecSpec {
        argv: vec!["bash".into(), "/tmp/eval.sh".into()],
        user: Some("root".into()),
        workdir: Some("/w".into()),
        stdin: Some(b"x".to_vec()),
        ..ExecSpec::default()
    };
    assert_eq!(
        sandbox.exec_cmd("c1", &exec).to_script_line(),
        "docker exec -i --user root --workdir /w c1 bash /tmp/eval.sh"
    );
}

#[test]
fn a_walled_container_uses_one_network_by_id_even_when_a_race_made_two() {
    let listing = |text: &str| crate::process::Output::with_stdout(text);
    let runner = Arc::new(
        RecordingRunner::new()
            .on_outputs(
                &["docker", "network", "ls"],
                vec![
                    listing(""),
                    // Another process created one at the same time.
                    listing("bbb sforge-walled\naaa sforge-walled\nccc sforge-walled-x\n"),
                    listing("aaa sforge-walled\n"),
                ],
            )
            .on_output(
                &["docker", "network", "create"],
                crate::process::Output::empty(),
            )
            .on_output(
                &["docker", "network", "rm"],
                crate::process::Output::empty(),
            )
            .on_outputs(
                &["docker", "run"],
                vec![
                    crate::process::Output::empty(),
                    crate::process::Output::empty(),
                ],
            ),
    );
    let sandbox = DockerSandbox::new(runner.clone(), "docker");
    let mut walled = spec();
    walled.network = Network::NoIngress;
    sandbox.start(&walled).unwrap();
    sandbox.start(&walled).unwrap();
    let lines: Vec<String> = runner
        .commands()
        .iter()
        .map(|c| c.get_args().join(" "))
        .collect();
    let count = |prefix: &str| lines.iter().filter(|l| l.starts_with(prefix)).count();
    assert_eq!(count("network create"), 1, "{lines:#?}");
    assert!(lines
        .iter()
        .any(|l| l.contains("com.docker.network.bridge.enable_icc=false")));
    assert!(lines.contains(&"network rm bbb".to_owned()), "{lines:#?}");
    let runs: Vec<&String> = lines.iter().filter(|l| l.starts_with("run ")).collect();
    assert!(
        runs.iter().all(|l| l.contains("--network aaa ")),
        "{runs:#?}"
    );
}
