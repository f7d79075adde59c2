//! `K8sSandbox` against the `RecordingRunner` test double (no cluster runs here): the exact
//! kubectl commands, fail-fast starts, secrets kept off every argv and out of dry-run output.

use std::io::Write;
use std::net::Ipv4Addr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::*;
use crate::process::{Cmd, DryRunRunner, Output, RecordingRunner};
use crate::sandbox::{labels, ContainerSpec, ExecSpec, Role, Sandbox};

const SECRET: &str = "sk-ant-top-secret";

fn config() -> K8sConfig {
    let mut config = K8sConfig::example();
    config.kubeconfig = Some("/etc/kube/config".to_owned());
    config.namespace = "runs".to_owned();
    config.poll_interval = Duration::ZERO;
    config
}

fn spec() -> ContainerSpec {
    ContainerSpec {
        name: "sforge.run.task_1.r1".to_owned(),
        image: "sforge-work-task_1:abc".to_owned(),
        labels: labels("r1", "task_1", Role::Work, "me"),
        env: vec![
            ("ANTHROPIC_API_KEY".to_owned(), SECRET.to_owned()),
            ("MODE".to_owned(), "fast".to_owned()),
        ],
        ..ContainerSpec::default()
    }
}

fn pod_json(status: &serde_json::Value) -> Output {
    let pod = serde_json::json!({"spec": {"containers": [{"image": "sforge-work-task_1:abc"}]}, "status": status});
    Output::with_stdout(pod.to_string())
}

const BASE: [&str; 5] = ["kubectl", "--kubeconfig", "/etc/kube/config", "-n", "runs"];

fn prefix(rest: &[&'static str]) -> Vec<&'static str> {
    BASE.iter().chain(rest).copied().collect()
}

/// No recorded argv (nor displayed line) contains a secret value.
fn assert_no_secret_on_argv(runner: &RecordingRunner) {
    for cmd in runner.commands() {
        assert!(!cmd.argv().any(|a| a.contains(SECRET)), "{cmd}");
    }
    assert!(!runner.command_lines().join("\n").contains(SECRET));
}

/// The argv joined with spaces (unquoted, unlike the displayed line).
fn argv_line(cmd: &Cmd) -> String {
    cmd.argv().collect::<Vec<_>>().join(" ")
}

fn argv_lines(runner: &RecordingRunner) -> Vec<String> {
    runner.commands().iter().map(argv_line).collect()
}

fn stdin_text(cmd: &Cmd) -> String {
    String::from_utf8_lossy(cmd.get_stdin().unwrap_or_default()).into_owned()
}

#[test]
fn start_applies_secret_then_pod_and_polls_until_running() {
    let runner = Arc::new(
        RecordingRunner::new()
            .on_output(&prefix(&["apply"]), Output::with_stdout("pod/x\n"))
            .on_outputs(
                &prefix(&["get", "pod"]),
                vec![
                    pod_json(&serde_json::json!({"phase": "Pending"})),
                    pod_json(&serde_json::json!({"phase": "Running"})),
                ],
            )
            .on_output(
                &prefix(&["get", "events"]),
                Output::with_stdout(r#"{"items": []}"#),
            ),
    );
    let sandbox = K8sSandbox::new(runner.clone(), config());
    sandbox.start(&spec()).expect("starts");
    let pod = pod_name("sforge.run.task_1.r1");
    let lines = argv_lines(&runner);
    let base = BASE.join(" ");
    assert_eq!(
        lines,
        [
            format!("{base} apply -f - -o name"),
            format!("{base} apply -f - -o name"),
            format!("{base} get pod {pod} -o json"),
            format!("{base} get events --field-selector involvedObject.name={pod} -o json"),
            format!("{base} get pod {pod} -o json"),
        ]
    );
    let commands = runner.commands();
    assert!(commands[0].is_stdin_secret());
    assert!(
        stdin_text(&commands[0]).contains("kind: Secret")
            && stdin_text(&commands[0]).contains(SECRET)
    );
    let pod_yaml = stdin_text(&commands[1]);
    assert!(
        pod_yaml.contains("kind: Pod") && !pod_yaml.contains(SECRET),
        "{pod_yaml}"
    );
    assert!(
        pod_yaml.contains("secretKeyRef") && pod_yaml.contains("value: fast"),
        "{pod_yaml}"
    );
    assert_no_secret_on_argv(&runner);
}

#[test]
fn a_walled_pod_gets_its_policy_before_it_exists() {
    let runner = Arc::new(
        RecordingRunner::new()
            .on_output(&prefix(&["apply"]), Output::with_stdout("x\n"))
            .on_output(
                &prefix(&["get", "pod"]),
                pod_json(&serde_json::json!({"phase": "Running"})),
            ),
    );
    let sandbox = K8sSandbox::new(runner.clone(), config());
    let mut walled = spec();
    walled.network = crate::sandbox::Network::None;
    walled.no_new_privileges = true;
    sandbox.start(&walled).expect("starts");
    let applied: Vec<String> = runner
        .commands()
        .iter()
        .filter(|c| argv_line(c).contains(" apply "))
        .map(stdin_text)
        .collect();
    assert_eq!(applied.len(), 3, "policy, secret, pod");
    let policy = &applied[0];
    assert!(
        policy.contains("kind: NetworkPolicy")
            && policy.contains("- Ingress\n  - Egress")
            && !policy.contains("egress:"),
        "{policy}"
    );
    assert!(applied[2].contains("kind: Pod"));
    assert!(applied[2].contains("allowPrivilegeEscalation: false"));
}

#[test]
fn image_pull_failures_fail_fast_and_clean_up() {
    let waiting = serde_json::json!({"phase": "Pending", "containerStatuses": [{"state": {"waiting":
        {"reason": "ErrImagePull", "message": "manifest unknown"}}}]});
    let runner = Arc::new(
        RecordingRunner::new()
            .on_output(&prefix(&["apply"]), Output::with_stdout("pod/x\n"))
            .on_output(&prefix(&["get", "pod"]), pod_json(&waiting))
            .on_output(&prefix(&["delete"]), Output::empty()),
    );
    let sandbox = K8sSandbox::new(runner.clone(), config());
    let err = sandbox.start(&spec()).expect_err("cannot pull").to_string();
    assert!(
        err.contains("ErrImagePull") && err.contains("manifest unknown"),
        "{err}"
    );
    assert!(
        err.contains("sforge-work-task_1:abc") && err.contains("describe pod"),
        "{err}"
    );
    let pod = pod_name("sforge.run.task_1.r1");
    let deletes: Vec<String> = argv_lines(&runner)
        .into_iter()
        .filter(|l| l.contains(" delete "))
        .collect();
    let base = BASE.join(" ");
    assert_eq!(
        deletes,
        [
            format!("{base} delete pod {pod} --ignore-not-found --wait=true"),
            format!("{base} delete secret {pod}-env --ignore-not-found --wait=true"),
            format!("{base} delete networkpolicy sforge-iso-{pod} --ignore-not-found --wait=true"),
        ]
    );
}

#[test]
fn a_start_deadline_gives_up_with_the_last_state() {
    let mut config = config();
    config.start_timeout = Duration::ZERO;
    let runner = Arc::new(
        RecordingRunner::new()
            .on_output(&prefix(&["apply"]), Output::with_stdout("pod/x\n"))
            .on_output(
                &prefix(&["get", "pod"]),
                pod_json(&serde_json::json!({"phase": "Pending"})),
            )
            .on_output(&prefix(&["get", "events"]), Output::empty())
            .on_output(&prefix(&["delete"]), Output::empty()),
    );
    let err = K8sSandbox::new(runner, config)
        .start(&spec())
        .expect_err("deadline")
        .to_string();
    assert!(
        err.contains("not running after 0s") && err.contains("phase Pending"),
        "{err}"
    );
}

#[test]
fn a_missing_image_stops_before_anything_is_created() {
    let runner = Arc::new(RecordingRunner::new());
    let check: ImageCheck =
        Arc::new(|image: &str| Err(format!("image {image} is not in the registry").into()));
    let sandbox = K8sSandbox::new(runner.clone(), config()).with_image_check(check);
    let err = sandbox
        .start(&spec())
        .expect_err("missing image")
        .to_string();
    assert!(
        err.contains("image sforge-work-task_1:abc is not in the registry"),
        "{err}"
    );
    assert!(runner.commands().is_empty());
}

#[test]
fn dry_run_prints_yaml_heredocs_and_hides_secrets() {
    let out: Arc<Mutex<Vec<u8>>> = Arc::new(Mutex::new(Vec::new()));
    let writer: Arc<Mutex<dyn Write + Send>> = out.clone();
    let runner = Arc::new(DryRunRunner::new(RecordingRunner::new(), writer));
    let sandbox = K8sSandbox::new(runner, config());
    sandbox.start(&spec()).expect("a plan starts nothing");
    let text = String::from_utf8(out.lock().unwrap().clone()).unwrap();
    assert!(!text.contains(SECRET), "{text}");
    assert!(
        text.contains("#   kind: Secret") && text.contains("ANTHROPIC_API_KEY: \"***\""),
        "{text}"
    );
    assert!(
        text.contains("apply -f - -o name <<'SFORGE_STDIN'\napiVersion: v1\nkind: Pod"),
        "{text}"
    );
    assert!(
        text.contains("wait '--for=condition=Ready' pod/run-task-1-"),
        "{text}"
    );
}

#[test]
fn exec_ships_the_environment_on_stdin_and_streams_output() {
    let runner = Arc::new(RecordingRunner::new().on(&prefix(&["exec"]), |cmd| {
        Ok(if cmd.get_args().iter().any(|a| a == "echo") {
            let mut out = Output::failed(3, "warn\n");
            out.stdout = b"one\ntwo\n".to_vec();
            out
        } else {
            Output::empty()
        })
    }));
    let sandbox = K8sSandbox::new(runner.clone(), config());
    let exec = ExecSpec {
        argv: vec!["echo".into(), "hi".into()],
        env: vec![("OPENAI_API_KEY".into(), SECRET.into())],
        user: Some("agent".into()),
        workdir: Some("/work".into()),
        stdin: Some(b"input".to_vec()),
        stdin_file: None,
        timeout: None,
    };
    let mut lines = Vec::new();
    let result = sandbox
        .exec("sforge.run.task_1.r1", &exec, &mut |l| {
            lines.push(l.to_owned());
        })
        .expect("runs");
    assert_eq!(result.output.status.code, Some(3), "the remote exit code");
    assert!(!result.timed_out);
    assert_eq!(lines, ["one", "two", "warn"]);
    let commands = runner.commands();
    assert_eq!(commands.len(), 2);
    let pod = pod_name("sforge.run.task_1.r1");
    let (ship, run) = (&commands[0], &commands[1]);
    assert!(ship.is_stdin_secret() && stdin_text(ship).contains(SECRET));
    let env_path = ship.get_args().last().unwrap().clone();
    assert!(env_path.starts_with("/tmp/.sforge-env-"), "{env_path}");
    let args = run.get_args();
    let tail = &args[args.len() - 5..];
    assert_eq!(
        tail,
        [env_path.as_str(), "agent", "/work", "echo", "hi"],
        "{run}"
    );
    assert_eq!(&args[4..9], ["exec", "-i", pod.as_str(), "-c", "work"]);
    assert_eq!(stdin_text(run), "input");
    assert_no_secret_on_argv(&runner);
}

#[test]
fn exec_timeout_kills_everything_but_pid_1() {
    let runner = Arc::new(RecordingRunner::new().on(&prefix(&["exec"]), |cmd| {
        if cmd.get_args().iter().any(|a| a.contains("kill -KILL -1")) {
            return Ok(Output::empty());
        }
        std::thread::sleep(Duration::from_millis(400));
        Ok(Output::failed(137, ""))
    }));
    let sandbox = K8sSandbox::new(runner.clone(), config());
    let exec = ExecSpec {
        argv: vec!["sleep".into(), "100".into()],
        timeout: Some(Duration::from_millis(50)),
        ..ExecSpec::default()
    };
    let result = sandbox
        .exec("sforge.run.task_1.r1", &exec, &mut |_| {})
        .expect("runs");
    assert!(result.timed_out);
    let lines = runner.command_lines();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(lines[1].contains("kill -KILL -1"), "{lines:?}");
}

#[test]
fn copies_logs_and_preflight_use_the_contract_commands() {
    let runner = Arc::new(
        RecordingRunner::new()
            .on_output(&prefix(&["exec"]), Output::failed(2, "tar: cannot open"))
            .on_output(
                &prefix(&["cluster-info"]),
                Output::failed(1, "connection refused"),
            )
            .on_output(&prefix(&["logs"]), Output::with_stdout("hello")),
    );
    let sandbox = K8sSandbox::new(runner.clone(), config());
    let name = "sforge.run.task_1.r1";
    let err = sandbox
        .copy_in(name, "/work", b"tar".to_vec())
        .expect_err("tar failed");
    assert!(err.to_string().contains("tar: cannot open"), "{err}");
    let dir = tempfile::tempdir().unwrap();
    assert!(
        sandbox
            .copy_out(name, "/work/out", &dir.path().join("out.tar"), 1 << 20)
            .is_err(),
        "copy errors are not ignored"
    );
    assert_eq!(sandbox.logs(name).unwrap(), "hello");
    let err = sandbox.preflight().expect_err("no cluster").to_string();
    for hint in [
        "connection refused",
        "SFORGE_K8S_KUBECONFIG",
        "SFORGE_K8S_NAMESPACE",
        "auth can-i",
    ] {
        assert!(err.contains(hint), "{hint}: {err}");
    }
    let commands = runner.commands();
    assert_eq!(
        commands[0].get_args().last().map(String::as_str),
        Some("/work")
    );
    assert!(commands[0].get_args().contains(&"-i".to_owned()));
    assert_eq!(
        &commands[1].get_args()[commands[1].get_args().len() - 2..],
        ["/work", "out"]
    );
    assert!(!commands[1].is_mutating());
    let pod = pod_name(name);
    assert_eq!(
        argv_line(&commands[2]),
        format!("{} logs {pod} -c work", BASE.join(" "))
    );
}

#[test]
fn policies_go_through_apply_and_delete() {
    let runner = Arc::new(
        RecordingRunner::new()
            .on_output(&prefix(&["apply"]), Output::empty())
            .on_output(&prefix(&["delete"]), Output::empty()),
    );
    let sandbox = K8sSandbox::new(runner.clone(), config());
    let name = "sforge.run.task_1.r1";
    let endpoints = [(Ipv4Addr::new(10, 0, 0, 12), 8080)];
    sandbox
        .apply_policy(name, &spec().labels, &endpoints)
        .unwrap();
    sandbox.remove_policy(name).unwrap();
    sandbox.remove_run("r1").unwrap();
    let commands = runner.commands();
    assert_eq!(commands.len(), 3, "{:#?}", runner.command_lines());
    let yaml = stdin_text(&commands[0]);
    let pod = pod_name(name);
    assert!(
        yaml.contains(&format!("name: sforge-iso-{pod}")) && yaml.contains("cidr: 10.0.0.12/32"),
        "{yaml}"
    );
    assert!(yaml.contains("sforge.run-id: r1"), "{yaml}");
    let base = BASE.join(" ");
    assert_eq!(
        argv_line(&commands[1]),
        format!("{base} delete networkpolicy sforge-iso-{pod} --ignore-not-found --wait=true")
    );
    assert_eq!(argv_line(&commands[2]), format!("{base} delete pods,secrets,networkpolicies -l sforge.run-id=r1 --ignore-not-found --wait=true"));
}
