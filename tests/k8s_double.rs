//! The Kubernetes API test double (`tests/support/k8s_double/`) driven by the real kubectl 1.33
//! and 1.30: apply, wait, get, exec over WebSocket, logs, events, delete, failure states, and
//! cleanup of its Docker containers.

#![allow(clippy::disallowed_methods)] // tests observe the system directly, independent of the product's gateway

#[path = "support/k8s_double/mod.rs"]
mod k8s_double;
mod support;

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use k8s_double::{K8sDouble, Kind, Options};
use serde_json::Value;
use support::{containers_matching, run, unique_name, BUSYBOX_IMAGE};

/// An image with bash and GNU tar.
const DEBIAN_IMAGE: &str = "debian:bookworm-slim";

/// The kubectl versions every test drives the double with.
const KUBECTL_VERSIONS: [&str; 2] = ["1.33", "1.30"];

/// `kubectl.<version>` from the Cloud SDK directory or `PATH`.
fn kubectl_bin(version: &str) -> Option<String> {
    let name = format!("kubectl.{version}");
    let sdk = Path::new("/usr/lib/google-cloud-sdk/bin").join(&name);
    if sdk.exists() {
        return Some(sdk.to_string_lossy().into_owned());
    }
    which::which(&name)
        .ok()
        .map(|path| path.to_string_lossy().into_owned())
}

/// Runs `test` once per kubectl version that is installed (skipping loudly when none is).
fn for_each_kubectl(test: impl Fn(&str)) {
    let found: Vec<String> = KUBECTL_VERSIONS
        .iter()
        .filter_map(|version| kubectl_bin(version))
        .collect();
    if found.is_empty() {
        support::skip(
            "no kubectl.1.33 or kubectl.1.30 (google-cloud-sdk) is installed",
            false,
        );
        return;
    }
    for bin in found {
        test(&bin);
    }
}

/// One double, one namespace, one kubectl.
struct Cluster {
    double: K8sDouble,
    ns: String,
    kubectl: String,
}

impl Cluster {
    fn start(kubectl: &str, opts: Options) -> Self {
        let ns = unique_name("ns");
        let opts = Options {
            namespaces: vec![ns.clone()],
            ..opts
        };
        Self {
            double: K8sDouble::start(opts),
            ns,
            kubectl: kubectl.to_owned(),
        }
    }

    fn kubectl(&self, args: &[&str], stdin: Option<&[u8]>) -> Output {
        let mut cmd = self.double.kubectl(&self.kubectl);
        cmd.args(["-n", &self.ns]).args(args);
        run(&mut cmd, stdin)
    }

    fn kubectl_ok(&self, args: &[&str], stdin: Option<&[u8]>) -> Output {
        let output = self.kubectl(args, stdin);
        assert!(
            output.status.success(),
            "{} {args:?} failed ({})\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.kubectl,
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr),
        );
        output
    }

    fn get_json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.extend(["-o", "json"]);
        let output = self.kubectl_ok(&all, None);
        serde_json::from_slice(&output.stdout).expect("kubectl -o json prints JSON")
    }

    fn apply(&self, yaml: &str) {
        self.kubectl_ok(
            &["apply", "--validate=false", "-f", "-"],
            Some(yaml.as_bytes()),
        );
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A pod of the shape the k8s backend generates.
fn pod_yaml(name: &str, image: &str, extra_spec: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  labels:\n    app: sforge\n    sforge-pod: {name}\n    sforge.run-id: run1\n\
         spec:\n  restartPolicy: Never\n  terminationGracePeriodSeconds: 1\n  automountServiceAccountToken: false\n  enableServiceLinks: false\n{extra_spec}\
         \n  containers:\n  - name: work\n    image: {image}\n    command: [\"sh\", \"-c\"]\n    args: [\"echo started; echo oops >&2; exec sleep 3600\"]\n"
    )
}

/// Polls `check` every 100 ms until it returns `Some` or `timeout` passes (then panics with `what`).
fn wait_until<T>(what: &str, timeout: Duration, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Applies a `sleep` pod running `image` and waits until kubectl reports it Ready.
fn ready_pod(cluster: &Cluster, name: &str, image: &str) {
    cluster.apply(&pod_yaml(name, image, ""));
    cluster.kubectl_ok(
        &[
            "wait",
            "--for=condition=Ready",
            &format!("pod/{name}"),
            "--timeout=60s",
        ],
        None,
    );
}

/// What the double passed to `docker run` for pod `name`: the secret in the environment but not
/// in the command, limits and dropped capabilities.
fn assert_docker_config(cluster: &Cluster, name: &str, secret: &str) {
    let container = cluster.double.container_name(&cluster.ns, name);
    let inspect = |format: &str| {
        text(
            &support::run_ok(
                support::docker().args(["inspect", "--format", format, &container]),
                None,
            )
            .stdout,
        )
    };
    assert!(inspect("{{json .Config.Env}}").contains(&format!("API_KEY={secret}")));
    assert!(
        !inspect("{{json .Args}} {{json .Config.Cmd}}").contains(secret),
        "the secret is in the container's command"
    );
    assert_eq!(
        inspect("{{.HostConfig.Memory}} {{.HostConfig.NanoCpus}} {{json .HostConfig.CapDrop}}")
            .trim(),
        "67108864 500000000 [\"NET_RAW\"]"
    );
}

#[test]
fn apply_wait_get_exec_and_delete_a_pod_with_secret_env() {
    require_docker!();
    for_each_kubectl(|kubectl| {
        let cluster = Cluster::start(kubectl, Options::default());
        let secret = unique_name("s3cr3t");
        cluster.apply(&format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: keys\n  labels:\n    sforge.run-id: run1\n\
             type: Opaque\nstringData:\n  API_KEY: {secret}\n  OTHER: two\n"
        ));
        let spec = "  nodeSelector:\n    kubernetes.io/os: linux\n  hostAliases:\n  - ip: 10.1.2.3\n    hostnames: [judge.sforge]\n";
        let mut pod = pod_yaml("p1", BUSYBOX_IMAGE, spec);
        pod.push_str(
            "    env:\n    - name: LITERAL\n      value: plain\n    - name: API_KEY\n      valueFrom:\n        secretKeyRef: {name: keys, key: API_KEY}\n\
             \x20   envFrom:\n    - secretRef: {name: keys}\n    workingDir: /tmp\n\
             \x20   resources:\n      limits: {cpu: 500m, memory: 64Mi}\n      requests: {cpu: 100m, memory: 32Mi}\n\
             \x20   securityContext:\n      capabilities: {drop: [NET_RAW]}\n      runAsUser: 1234\n",
        );
        cluster.apply(&pod);
        cluster.apply(
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: p1-egress\n  labels:\n    sforge.run-id: run1\n\
             spec:\n  podSelector:\n    matchLabels: {sforge-pod: p1}\n  policyTypes: [Egress]\n  egress: []\n",
        );
        cluster.kubectl_ok(
            &["wait", "--for=condition=Ready", "pod/p1", "--timeout=60s"],
            None,
        );
        let pod = cluster.get_json(&["get", "pod", "p1"]);
        assert_eq!(pod["status"]["phase"], "Running", "{pod:#}");
        assert!(
            pod["status"]["podIP"]
                .as_str()
                .is_some_and(|ip| !ip.is_empty()),
            "{pod:#}"
        );
        assert_eq!(pod["spec"]["nodeName"], "sforge-double-node");
        let shell = |script: &str| {
            text(
                &cluster
                    .kubectl_ok(
                        &["exec", "p1", "-c", "work", "--", "sh", "-c", script],
                        None,
                    )
                    .stdout,
            )
        };
        assert_eq!(
            shell("printf '%s %s %s %s' \"$API_KEY\" \"$OTHER\" \"$LITERAL\" \"$PWD\""),
            format!("{secret} two plain /tmp")
        );
        assert!(shell("cat /etc/hosts").contains("10.1.2.3\tjudge.sforge"));
        assert_eq!(shell("id -u").trim(), "1234");
        assert_docker_config(&cluster, "p1", &secret);
        let policy = cluster.get_json(&["get", "networkpolicy", "p1-egress"]);
        assert_eq!(policy["spec"]["policyTypes"][0], "Egress", "{policy:#}");
        let secret_object = cluster.get_json(&["get", "secret", "keys"]);
        assert_eq!(
            secret_object["data"]["OTHER"], "dHdv",
            "stringData is stored base64-encoded"
        );

        cluster.kubectl_ok(
            &[
                "delete",
                "pods,secrets,networkpolicies",
                "-l",
                "sforge.run-id=run1",
                "--ignore-not-found",
                "--wait=true",
            ],
            None,
        );
        assert!(
            containers_matching(&[&cluster.double.container_filter()]).is_empty(),
            "the pod's container is removed"
        );
        for kind in ["pods", "secrets", "networkpolicies"] {
            let list = cluster.get_json(&["get", kind, "-l", "sforge.run-id=run1"]);
            assert_eq!(
                list["items"].as_array().map(Vec::len),
                Some(0),
                "{kind}: {list:#}"
            );
        }
        cluster.kubectl_ok(
            &["delete", "pod", "p1", "--ignore-not-found", "--wait=true"],
            None,
        );
    });
}

#[test]
fn exec_passes_stdin_and_separates_stdout_stderr_and_exit_codes() {
    require_docker!();
    for_each_kubectl(|kubectl| {
        let cluster = Cluster::start(kubectl, Options::default());
        ready_pod(&cluster, "p1", BUSYBOX_IMAGE);
        let failing = cluster.kubectl(
            &[
                "exec",
                "-i",
                "p1",
                "-c",
                "work",
                "--",
                "sh",
                "-c",
                "cat; echo err >&2; exit 3",
            ],
            Some(b"line one\nline two"),
        );
        assert_eq!(
            failing.status.code(),
            Some(3),
            "kubectl exits with the command's code: {failing:?}"
        );
        assert_eq!(text(&failing.stdout), "line one\nline two");
        assert!(
            text(&failing.stderr).starts_with("err\n"),
            "{}",
            text(&failing.stderr)
        );
        let passing = cluster.kubectl(
            &["exec", "-i", "p1", "-c", "work", "--", "sh", "-c", "wc -c"],
            Some(b"12345"),
        );
        assert_eq!(passing.status.code(), Some(0), "{passing:?}");
        assert_eq!(text(&passing.stdout).trim(), "5");
        let without_stdin = cluster.kubectl(
            &[
                "exec",
                "p1",
                "-c",
                "work",
                "--",
                "sh",
                "-c",
                "echo out; echo more >&2",
            ],
            None,
        );
        assert_eq!(without_stdin.status.code(), Some(0), "{without_stdin:?}");
        assert_eq!(text(&without_stdin.stdout), "out\n");
        assert_eq!(text(&without_stdin.stderr), "more\n");
        let missing = cluster.kubectl(&["exec", "p1", "-c", "work", "--", "no-such-program"], None);
        // docker exec's code for a program it cannot start.
        assert_eq!(missing.status.code(), Some(126), "{missing:?}");
        let started = Instant::now();
        cluster.kubectl_ok(
            &["delete", "pod", "p1", "--grace-period=1", "--wait=true"],
            None,
        );
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "delete took {:?}",
            started.elapsed()
        );
        assert!(containers_matching(&[&cluster.double.container_filter()]).is_empty());
    });
}

#[test]
fn exec_streams_output_before_the_command_ends() {
    require_docker!();
    for_each_kubectl(|kubectl| {
        let cluster = Cluster::start(kubectl, Options::default());
        ready_pod(&cluster, "p1", BUSYBOX_IMAGE);
        let started = Instant::now();
        let mut child = cluster
            .double
            .kubectl(kubectl)
            .args([
                "-n",
                &cluster.ns,
                "exec",
                "p1",
                "-c",
                "work",
                "--",
                "sh",
                "-c",
                "echo first; sleep 4; echo last",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start kubectl");
        let mut reader = BufReader::new(child.stdout.take().expect("piped"));
        let mut line = String::new();
        reader.read_line(&mut line).expect("read the first line");
        assert_eq!(line, "first\n");
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "the first line came only after {:?}",
            started.elapsed()
        );
        assert!(
            child.try_wait().expect("poll kubectl").is_none(),
            "kubectl ended before the command did"
        );
        let mut rest = String::new();
        reader.read_to_string(&mut rest).expect("read the rest");
        assert_eq!(rest, "last\n");
        assert!(child.wait().expect("wait for kubectl").success());
    });
}

#[test]
fn exec_round_trips_a_large_tar_stream_byte_exact() {
    require_docker!();
    for_each_kubectl(|kubectl| {
        let cluster = Cluster::start(kubectl, Options::default());
        ready_pod(&cluster, "p1", DEBIAN_IMAGE);
        // 5 MiB that do not compress: a simple generator, different for every byte position.
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let payload: Vec<u8> = (0..5 << 20)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state.to_le_bytes()[0]
            })
            .collect();
        let mut archive = tar::Builder::new(Vec::new());
        let mut header = tar::Header::new_gnu();
        header.set_size(payload.len() as u64);
        header.set_mode(0o644);
        archive
            .append_data(&mut header, "data.bin", payload.as_slice())
            .expect("pack");
        let archive = archive.into_inner().expect("finish the archive");
        cluster.kubectl_ok(
            &[
                "exec",
                "-i",
                "p1",
                "-c",
                "work",
                "--",
                "sh",
                "-c",
                "mkdir -p /tmp/in && tar -x -C /tmp/in",
            ],
            Some(&archive),
        );
        let out = cluster.kubectl_ok(
            &[
                "exec", "p1", "-c", "work", "--", "tar", "-c", "-C", "/tmp/in", "data.bin",
            ],
            None,
        );
        let mut unpacked = tar::Archive::new(out.stdout.as_slice());
        let mut entry = unpacked
            .entries()
            .expect("a tar stream")
            .next()
            .expect("one entry")
            .expect("an entry");
        let mut copy = Vec::new();
        entry.read_to_end(&mut copy).expect("read the entry");
        assert!(
            copy == payload,
            "the file came back different ({} of {} bytes)",
            copy.len(),
            payload.len()
        );
    });
}

#[test]
fn logs_and_exit_codes_of_a_finished_pod() {
    require_docker!();
    for_each_kubectl(|kubectl| {
        let cluster = Cluster::start(kubectl, Options::default());
        let pod = pod_yaml("p1", BUSYBOX_IMAGE, "").replace("exec sleep 3600", "exit 3");
        cluster.apply(&pod);
        let ns = cluster.ns.clone();
        wait_until("the pod to fail", Duration::from_secs(30), || {
            cluster
                .double
                .object(Kind::Pod, &ns, "p1")
                .filter(|pod| pod["status"]["phase"] == "Failed")
        });
        let pod = cluster.get_json(&["get", "pod", "p1"]);
        assert_eq!(
            pod["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"], 3,
            "{pod:#}"
        );
        let logs = text(
            &cluster
                .kubectl_ok(&["logs", "p1", "-c", "work"], None)
                .stdout,
        );
        assert!(
            logs.contains("started\n") && logs.contains("oops\n"),
            "{logs:?}"
        );
        let events = cluster.get_json(&[
            "get",
            "events",
            "--field-selector",
            "involvedObject.name=p1",
        ]);
        let reasons: Vec<&str> = events["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| e["reason"].as_str())
            .collect();
        for reason in ["Scheduled", "Pulled", "Created", "Started"] {
            assert!(
                reasons.contains(&reason),
                "{reason} missing from {reasons:?}"
            );
        }
        cluster.kubectl_ok(&["delete", "pod", "p1", "--wait=true"], None);
        assert!(containers_matching(&[&cluster.double.container_filter()]).is_empty());
    });
}

/// The reasons of the events about `name`, through kubectl.
fn event_reasons(cluster: &Cluster, name: &str) -> Vec<(String, String)> {
    let selector = format!("involvedObject.name={name}");
    let events = cluster.get_json(&["get", "events", "--field-selector", &selector]);
    events["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|event| {
            (
                event["reason"].as_str().unwrap_or_default().to_owned(),
                event["message"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

#[test]
fn missing_images_back_off_and_registry_hosts_fall_back_to_local_images() {
    require_docker!();
    for_each_kubectl(|kubectl| {
        let cluster = Cluster::start(kubectl, Options::default());
        cluster.apply(&pod_yaml(
            "missing",
            "registry.sforge.invalid:5000/nope/none:1",
            "",
        ));
        cluster.apply(&pod_yaml(
            "pushed",
            &format!("registry.sforge.invalid:5000/{BUSYBOX_IMAGE}"),
            "",
        ));
        let ns = cluster.ns.clone();
        wait_until("ImagePullBackOff", Duration::from_secs(30), || {
            let pod = cluster.double.object(Kind::Pod, &ns, "missing")?;
            (pod["status"]["containerStatuses"][0]["state"]["waiting"]["reason"]
                == "ImagePullBackOff")
                .then_some(())
        });
        let pod = cluster.get_json(&["get", "pod", "missing"]);
        assert_eq!(pod["status"]["phase"], "Pending", "{pod:#}");
        let events = event_reasons(&cluster, "missing");
        assert!(
            events
                .iter()
                .any(|(reason, message)| reason == "Failed" && message.contains("nope/none:1")),
            "{events:?}"
        );
        assert!(
            events.iter().any(|(reason, _)| reason == "BackOff"),
            "{events:?}"
        );
        assert!(
            !events.iter().any(|(reason, _)| reason == "Started"),
            "{events:?}"
        );
        cluster.kubectl_ok(
            &[
                "wait",
                "--for=condition=Ready",
                "pod/pushed",
                "--timeout=60s",
            ],
            None,
        );
    });
}

#[test]
fn a_node_selector_that_matches_no_node_fails_scheduling() {
    require_docker!();
    for_each_kubectl(|kubectl| {
        let labels = [("sforge.pool".to_owned(), "cpu".to_owned())]
            .into_iter()
            .collect();
        let cluster = Cluster::start(
            kubectl,
            Options {
                node_labels: labels,
                ..Options::default()
            },
        );
        cluster.apply(&pod_yaml(
            "nowhere",
            BUSYBOX_IMAGE,
            "  nodeSelector:\n    sforge.pool: gpu\n",
        ));
        cluster.apply(&pod_yaml(
            "pooled",
            BUSYBOX_IMAGE,
            "  nodeSelector:\n    sforge.pool: cpu\n",
        ));
        cluster.kubectl_ok(
            &[
                "wait",
                "--for=condition=Ready",
                "pod/pooled",
                "--timeout=60s",
            ],
            None,
        );
        let waited = cluster.kubectl(
            &[
                "wait",
                "--for=condition=Ready",
                "pod/nowhere",
                "--timeout=2s",
            ],
            None,
        );
        assert!(
            !waited.status.success(),
            "an unschedulable pod never gets Ready"
        );
        let pod = cluster.get_json(&["get", "pod", "nowhere"]);
        let scheduled = &pod["status"]["conditions"][0];
        assert_eq!(
            (
                scheduled["type"].as_str(),
                scheduled["status"].as_str(),
                scheduled["reason"].as_str()
            ),
            (Some("PodScheduled"), Some("False"), Some("Unschedulable")),
            "{pod:#}"
        );
        let events = event_reasons(&cluster, "nowhere");
        assert!(
            events
                .iter()
                .any(|(reason, message)| reason == "FailedScheduling"
                    && message.contains("node affinity/selector")),
            "{events:?}"
        );
        cluster.kubectl_ok(&["delete", "pod", "nowhere", "--wait=true"], None);
    });
}

#[test]
fn dropping_the_double_removes_its_containers() {
    require_docker!();
    for_each_kubectl(|kubectl| {
        let cluster = Cluster::start(kubectl, Options::default());
        ready_pod(&cluster, "p1", BUSYBOX_IMAGE);
        let filter = cluster.double.container_filter();
        assert_eq!(containers_matching(&[&filter]).len(), 1);
        let kubeconfig = cluster.double.kubeconfig_path().to_owned();
        drop(cluster);
        assert!(
            containers_matching(&[&filter]).is_empty(),
            "containers left after the double stopped"
        );
        assert!(
            !kubeconfig.exists(),
            "the kubeconfig is removed with the double"
        );
    });
}

#[test]
fn unknown_paths_and_objects_answer_kubernetes_status_errors() {
    require_docker!();
    for_each_kubectl(|kubectl| {
        let cluster = Cluster::start(kubectl, Options::default());
        let missing = cluster.kubectl(&["get", "pod", "nope", "-o", "json"], None);
        assert!(!missing.status.success());
        assert!(
            text(&missing.stderr).contains("pods \"nope\" not found"),
            "{}",
            text(&missing.stderr)
        );
        cluster.kubectl_ok(
            &["delete", "pod", "nope", "--ignore-not-found", "--wait=true"],
            None,
        );
        let raw = cluster.kubectl(&["get", "--raw", "/apis/batch/v1/jobs"], None);
        assert!(!raw.status.success(), "{raw:?}");
        let info = cluster.kubectl_ok(&["cluster-info"], None);
        assert!(
            text(&info.stdout).contains(&cluster.double.server_url()),
            "{}",
            text(&info.stdout)
        );
        assert_eq!(
            text(
                &cluster
                    .kubectl_ok(&["auth", "can-i", "create", "pods"], None)
                    .stdout
            )
            .trim(),
            "yes"
        );
    });
}
/// Not a check: serves a double for manual probing with kubectl (`cargo test --test k8s_double
/// -- --ignored --nocapture serve_for_manual_probing`, `K8S_DOUBLE_SERVE_SECS` seconds, default
/// 300); prints the kubeconfig to use.
#[test]
#[ignore = "a tool for manual probing, not a check"]
fn serve_for_manual_probing() {
    require_docker!();
    let double = K8sDouble::start(Options::default());
    let secs = std::env::var("K8S_DOUBLE_SERVE_SECS")
        .ok()
        .and_then(|secs| secs.parse().ok())
        .unwrap_or(300);
    eprintln!(
        "KUBECONFIG={} KUBECACHEDIR={}",
        double.kubeconfig_path().display(),
        double.cache_dir().display()
    );
    std::thread::sleep(std::time::Duration::from_secs(secs));
}

#[test]
fn apply_succeeds_with_every_validation_setting() {
    require_docker!();
    for_each_kubectl(|kubectl| {
        let cluster = Cluster::start(kubectl, Options::default());
        for (index, flag) in [
            "--validate=true",
            "--validate=strict",
            "--validate=warn",
            "--validate=false",
        ]
        .into_iter()
        .enumerate()
        {
            let yaml = format!("apiVersion: v1\nkind: Secret\nmetadata:\n  name: s{index}\nstringData:\n  key: value\n");
            cluster.kubectl_ok(&["apply", flag, "-f", "-"], Some(yaml.as_bytes()));
        }
        let yaml = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: deny\nspec:\n  podSelector: {}\n  policyTypes: [Egress]\n";
        cluster.kubectl_ok(&["apply", "-f", "-"], Some(yaml.as_bytes()));
        cluster.kubectl_ok(
            &["apply", "-f", "-"],
            Some(pod_yaml("p1", BUSYBOX_IMAGE, "").as_bytes()),
        );
        // Applying the same manifest again patches nothing and still succeeds.
        cluster.kubectl_ok(&["apply", "-f", "-"], Some(yaml.as_bytes()));
        let list = cluster.get_json(&["get", "secrets"]);
        assert_eq!(list["items"].as_array().map(Vec::len), Some(4), "{list:#}");
        // A changed manifest is patched in.
        let changed = yaml.replace(
            "  name: deny\n",
            "  name: deny\n  labels:\n    tier: judge\n",
        );
        cluster.kubectl_ok(&["apply", "-f", "-"], Some(changed.as_bytes()));
        let policy = cluster.get_json(&["get", "networkpolicy", "deny"]);
        assert_eq!(policy["metadata"]["labels"]["tier"], "judge", "{policy:#}");
    });
}
