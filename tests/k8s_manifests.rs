//! The Kubernetes objects the k8s backend generates: golden files (`UPDATE_GOLDEN=1` rewrites
//! them) and validation of every one against the official schemas of Kubernetes 1.27 and 1.33
//! with `kubernetes-validate` (installed by `scripts/setup.sh`).

// Tests run the validator directly, independent of the product's process gateway.
#![allow(clippy::disallowed_methods)]

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::Command;

use sforge::sandbox::k8s::{
    isolation_policy, objects, pod_labels, pod_name, walls_policy, yaml_of, K8sConfig,
};
use sforge::sandbox::{labels, ContainerSpec, Network, Role};

/// Kubernetes versions every manifest must be valid for (oldest and newest supported).
const VERSIONS: [&str; 2] = ["1.27.0", "1.33.0"];

fn golden_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden/k8s")
        .join(name)
}

fn assert_golden(name: &str, actual: &str) {
    let path = golden_path(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("{} is missing: run with UPDATE_GOLDEN=1", path.display()));
    assert_eq!(
        actual, expected,
        "{name} differs from its golden file (UPDATE_GOLDEN=1 to accept)"
    );
}

fn work_spec() -> ContainerSpec {
    ContainerSpec {
        name: "sforge.run.schemathesis_config_modernization.edgebench-001".to_owned(),
        image: "sforge-work-schemathesis_config_modernization:3f2a9c1e".to_owned(),
        labels: labels(
            "edgebench-001",
            "schemathesis_config_modernization",
            Role::Work,
            "alice",
        ),
        env: vec![
            (
                "SFORGE_JUDGE_URL".to_owned(),
                "http://10.0.0.12:8080".to_owned(),
            ),
            (
                "ANTHROPIC_API_KEY".to_owned(),
                "sk-ant-very-secret".to_owned(),
            ),
            (
                "HTTPS_PROXY".to_owned(),
                "http://bob:hunter2@proxy:3128".to_owned(),
            ),
            (
                "SFORGE_TOKEN".to_owned(),
                "0123456789abcdef0123456789abcdef".to_owned(),
            ),
        ],
        ..ContainerSpec::default()
    }
}

fn full_config() -> K8sConfig {
    let mut config = K8sConfig::example();
    "sforge-runs".clone_into(&mut config.namespace);
    "registry.example.com/sforge/".clone_into(&mut config.image_registry);
    config.node_selector = [("pool", "sforge"), ("kubernetes.io/arch", "amd64")]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    config
}

fn judge_spec() -> ContainerSpec {
    ContainerSpec {
        name: "edgebench.judge.order_addition_permutation_optimization.abcdef123456".to_owned(),
        image: "sforge-judge-order_addition_permutation_optimization:77aa01bb".to_owned(),
        labels: labels(
            "run-7",
            "order_addition_permutation_optimization",
            Role::Judge,
            "bob",
        ),
        env: vec![(
            "SFORGE_JUDGE_URL".to_owned(),
            "http://10.0.0.12:8080".to_owned(),
        )],
        user: Some("root".to_owned()),
        workdir: Some("/testbed".to_owned()),
        cpu_limit: Some(4),
        mem_limit: Some("8g".to_owned()),
        pids_limit: Some(4096),
        add_hosts: vec![
            "host.docker.internal:host-gateway".to_owned(),
            "api.anthropic.com:160.79.104.10".to_owned(),
            "git.internal:10.1.2.3".to_owned(),
            "git-mirror.internal:10.1.2.3".to_owned(),
        ],
        cap_drop: vec!["ALL".to_owned()],
        cap_add: ["CHOWN", "DAC_OVERRIDE", "SETGID", "SETUID"]
            .map(str::to_owned)
            .to_vec(),
        no_new_privileges: true,
        network: Network::None,
        sysctls: vec![("net.ipv4.ping_group_range".to_owned(), "1 0".to_owned())],
        lifetime: Some(std::time::Duration::from_secs(120)),
    }
}

/// Every manifest: (golden file name, YAML).
fn manifests() -> Vec<(&'static str, String)> {
    let plain = objects(&work_spec(), &K8sConfig::example()).unwrap();
    let full = objects(&judge_spec(), &full_config()).unwrap();
    let secret = plain
        .secret
        .clone()
        .expect("secret env values make a Secret");
    let pod = pod_name(&work_spec().name);
    let policy = isolation_policy(
        &pod,
        &pod_labels(&work_spec().labels, &pod),
        &[
            (Ipv4Addr::new(10, 0, 0, 12), 8080),
            (Ipv4Addr::new(160, 79, 104, 10), 443),
            (Ipv4Addr::new(160, 79, 104, 11), 443),
        ],
        &K8sConfig::example(),
    );
    let judge_pod = pod_name(&judge_spec().name);
    let judge_labels = pod_labels(&judge_spec().labels, &judge_pod);
    let judge_online = walls_policy(
        &judge_pod,
        &judge_labels,
        Network::NoIngress,
        &K8sConfig::example(),
    )
    .unwrap();
    vec![
        ("pod-plain.yaml", yaml_of(&plain.pod)),
        ("pod-full.yaml", yaml_of(&full.pod)),
        (
            "judge-policy-offline.yaml",
            yaml_of(&full.policy.expect("a walled judge has a policy")),
        ),
        ("judge-policy-online.yaml", yaml_of(&judge_online)),
        ("secret-redacted.yaml", yaml_of(&secret.redacted())),
        ("policy.yaml", yaml_of(&policy)),
    ]
}

#[test]
fn manifests_match_their_golden_files() {
    for (name, yaml) in manifests() {
        assert_golden(name, &yaml);
    }
}

#[test]
fn no_secret_value_is_in_any_printable_manifest() {
    for (name, yaml) in manifests() {
        for secret in [
            "sk-ant-very-secret",
            "hunter2",
            "0123456789abcdef0123456789abcdef",
        ] {
            assert!(!yaml.contains(secret), "{name} shows a secret:\n{yaml}");
        }
    }
}

fn validator() -> Option<String> {
    let found = Command::new("kubernetes-validate")
        .arg("--version")
        .output();
    match found {
        Ok(out) if out.status.success() => Some(String::from_utf8_lossy(&out.stdout).into_owned()),
        _ => None,
    }
}

#[test]
fn manifests_are_valid_for_kubernetes_1_27_and_1_33() {
    if validator().is_none() {
        let in_ci = std::env::var_os("CI").is_some()
            || std::env::var("SFORGE_TEST_REQUIRE_DOCKER").is_ok_and(|v| v == "1");
        assert!(
            !in_ci,
            "kubernetes-validate is missing: run scripts/setup.sh"
        );
        eprintln!("\n!!!!! SKIPPED manifest validation: kubernetes-validate is missing (pip install kubernetes-validate, or scripts/setup.sh)\n");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for (name, yaml) in manifests() {
        let path = dir.path().join(name);
        std::fs::write(&path, yaml).unwrap();
        files.push(path);
    }
    for version in VERSIONS {
        let out = Command::new("kubernetes-validate")
            .args(["--strict", "--kubernetes-version", version])
            .args(&files)
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.status.success(),
            "invalid for Kubernetes {version}:\n{text}"
        );
        assert!(
            !text.contains("WARN") && !text.contains("ERROR"),
            "{version}: {text}"
        );
    }
}

#[test]
fn the_validator_refuses_unknown_fields() {
    // Proves the strict validation above can fail: a misspelt field is refused.
    if validator().is_none() {
        eprintln!("\n!!!!! SKIPPED: kubernetes-validate is missing\n");
        return;
    }
    let full = objects(&judge_spec(), &full_config()).unwrap();
    let good = yaml_of(&full.pod);
    let bad = good.replace("restartPolicy:", "restartPolicyy:");
    assert_ne!(bad, good);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.yaml");
    std::fs::write(&path, bad).unwrap();
    let out = Command::new("kubernetes-validate")
        .args(["--strict", "--kubernetes-version", VERSIONS[1]])
        .arg(&path)
        .output()
        .unwrap();
    assert!(!out.status.success(), "an unknown field must be refused");
}

#[test]
fn render_with_the_k8s_backend_writes_valid_objects() {
    let out = tempfile::tempdir().unwrap();
    let tasks = Path::new(env!("CARGO_MANIFEST_DIR")).join("tasks");
    let status = assert_cmd::Command::cargo_bin("sforge")
        .unwrap()
        .env("SFORGE_K8S_IMAGE_REGISTRY", "registry.example.com/sforge")
        .arg("--tasks-dir")
        .arg(&tasks)
        .args(["render", "--task", "coin_change", "--backend", "k8s", "-o"])
        .arg(out.path())
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let dir = out.path().join("k8s");
    let pod = std::fs::read_to_string(dir.join("work-pod.yaml")).unwrap();
    assert!(
        pod.contains("image: \"registry.example.com/sforge/sforge-demo.work.coin_change:"),
        "{pod}"
    );
    let secret = std::fs::read_to_string(dir.join("work-secret.yaml")).unwrap();
    assert!(secret.contains("SFORGE_TOKEN: \"***\""), "{secret}");
    assert!(dir.join("judge-pod.yaml").is_file());
    // coin_change has internet on: its judge pods keep egress and accept no connections.
    let walls = std::fs::read_to_string(dir.join("judge-policy.yaml")).unwrap();
    assert!(
        walls.contains("policyTypes:\n  - Ingress\n") && !walls.contains("Egress"),
        "{walls}"
    );
    if validator().is_some() {
        let check = Command::new("kubernetes-validate")
            .args(["--strict", "--kubernetes-version", VERSIONS[0]])
            .args([
                dir.join("work-pod.yaml"),
                dir.join("judge-pod.yaml"),
                dir.join("work-secret.yaml"),
                dir.join("judge-policy.yaml"),
            ])
            .output()
            .unwrap();
        assert!(
            check.status.success(),
            "{}",
            String::from_utf8_lossy(&check.stdout)
        );
    }
}
