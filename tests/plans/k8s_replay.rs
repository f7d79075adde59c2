//! A Kubernetes plan replayed by `sh` against the Kubernetes API test double applies the same
//! Secret, Pod and `NetworkPolicy` as a real run (what kubectl read, compared field by field with
//! the run-specific names and the per-run token aside), with the API key from the environment.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use base64::Engine as _;
use serde_json::{Map, Value};

use crate::k8s_double::{K8sDouble, Options};
use crate::require_docker;
use crate::support;
use crate::KEY;

const TASK: &str = "coin_change";

/// The real kubectl: a versioned one when installed, else `kubectl`.
fn kubectl() -> String {
    for v in ["1.33", "1.30"] {
        let sdk = Path::new("/usr/lib/google-cloud-sdk/bin").join(format!("kubectl.{v}"));
        if sdk.exists() {
            return sdk.display().to_string();
        }
    }
    "kubectl".to_owned()
}

/// A kubectl wrapper that keeps every YAML `apply` reads under `dir` (a test double around the
/// real kubectl, as in `tests/k8s_e2e.rs`).
fn recorder(dir: &Path, real: &str) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let wrapper = dir.join("kubectl-recorder");
    let script = format!(
        "#!/bin/bash\nfor a in \"$@\"; do\n  if [ \"$a\" = apply ]; then\n    tee \"{dir}/apply-$(date +%s%N).yaml\" | '{real}' \"$@\"\n    exit\n  fi\ndone\nexec '{real}' \"$@\"\n",
        dir = dir.display(),
    );
    std::fs::write(&wrapper, script).unwrap();
    support::make_executable(&wrapper);
    wrapper
}

fn to_json(yaml: &yaml_rust2::Yaml) -> Value {
    use yaml_rust2::Yaml;
    match yaml {
        Yaml::Hash(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.as_str().unwrap_or_default().to_owned(), to_json(v)))
                .collect::<Map<_, _>>(),
        ),
        Yaml::Array(items) => Value::Array(items.iter().map(to_json).collect()),
        Yaml::String(s) | Yaml::Real(s) => Value::String(s.clone()),
        Yaml::Integer(n) => Value::from(*n),
        Yaml::Boolean(b) => Value::Bool(*b),
        _ => Value::Null,
    }
}

/// The objects kubectl applied (in order), with names made run-independent, lease labels
/// dropped, Secret `data` decoded into `stringData` and the per-run token's value hidden.
fn applied(dir: &Path) -> Vec<Value> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    let docs: Vec<Value> = files
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap())
        .map(|t| to_json(&yaml_rust2::YamlLoader::load_from_str(&t).unwrap()[0]))
        .collect();
    let pod = docs
        .iter()
        .find(|d| d["kind"] == "Pod")
        .and_then(|d| d["metadata"]["name"].as_str())
        .expect("a pod was applied")
        .to_owned();
    let run = docs[0]["metadata"]["labels"]["sforge.run-id"]
        .as_str()
        .unwrap()
        .to_owned();
    docs.into_iter()
        .map(|mut doc| {
            if let Some(labels) = doc["metadata"]["labels"].as_object_mut() {
                labels.retain(|k, _| {
                    !["sforge.expires", "sforge.host", "sforge.pid"].contains(&k.as_str())
                });
            }
            if let Some(data) = doc.as_object_mut().and_then(|d| d.remove("data")) {
                let decoded: Map<String, Value> = data
                    .as_object()
                    .unwrap()
                    .iter()
                    .map(|(k, v)| {
                        let bytes = base64::engine::general_purpose::STANDARD
                            .decode(v.as_str().unwrap())
                            .unwrap();
                        (k.clone(), Value::String(String::from_utf8(bytes).unwrap()))
                    })
                    .collect();
                doc["stringData"] = Value::Object(decoded);
            }
            if let Some(token) = doc
                .get_mut("stringData")
                .and_then(|d| d.get_mut("SFORGE_TOKEN"))
            {
                *token = Value::String("<token>".into());
            }
            // PID 1 of a real run's pod ends when sforge stops renewing its lease; a replayed
            // plan has no sforge, so its pod keeps itself alive until the plan removes it.
            if let Some(containers) = doc["spec"].get_mut("containers") {
                for c in containers.as_array_mut().unwrap() {
                    c.as_object_mut().unwrap().remove("command");
                }
            }
            let text = doc
                .to_string()
                .replace(&pod, "<pod>")
                .replace(&run, "<run>");
            serde_json::from_str(&text).unwrap()
        })
        .collect()
}

/// The secret variables a plan reads (`${NAME:?…}`), each set as a user replaying it would.
fn secret_env(plan: &str) -> Vec<(String, String)> {
    let mut names: Vec<String> = plan
        .split("${")
        .skip(1)
        .filter_map(|rest| rest.split_once(":?").map(|(name, _)| name.to_owned()))
        .filter(|name| support_is_name(name))
        .collect();
    names.sort();
    names.dedup();
    names
        .into_iter()
        .map(|n| {
            let value = if n == "SFORGE_TOKEN" {
                "replayed-token"
            } else {
                KEY
            };
            (n, value.to_owned())
        })
        .collect()
}

fn support_is_name(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c == '_' || c.is_ascii_alphanumeric())
}

#[test]
fn a_replayed_k8s_plan_applies_what_the_real_run_applies() {
    require_docker!();
    let fixture = crate::fixture();
    let double = K8sDouble::start(Options::default());
    let real_kubectl = kubectl();
    let root = fixture.bench.root().join(support::unique_name("k8s-plan"));
    let agent = root.join("agent.sh");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(&agent, "echo hi\n").unwrap();
    let gateway = support::bridge_gateway().0;
    let port = support::registry::free_port();
    let sforge = |dir: &Path, run_id: &str| {
        let mut cmd = fixture.bench.sforge_process(&dir.join("logs"));
        cmd.env("SFORGE_K8S_KUBECONFIG", double.kubeconfig_path())
            .env("SFORGE_KUBECTL", recorder(dir, &real_kubectl))
            .env("KUBECACHEDIR", double.cache_dir())
            .env("SFORGE_AGENT_API_KEY", KEY)
            .env("SFORGE_AGENT_API_BASE_URL", "http://localhost:9")
            .args([
                "run",
                "--backend",
                "k8s",
                "--agent",
                "script",
                "--task",
                TASK,
            ])
            .args(["--disable-internet", "--run-id", run_id, "--judge-url"])
            .arg(format!("http://{gateway}:{port}"))
            .arg("--agent-script")
            .arg(&agent);
        cmd
    };
    // The real run applies everything, then fails closed: the double ignores NetworkPolicy.
    let real_dir = root.join("real");
    let out = sforge(&real_dir, "k8sreal").output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let plan_dir = root.join("plan");
    let mut cmd = sforge(&plan_dir, "k8splan");
    cmd.arg("--dry-run")
        .env("SFORGE_TEST_PLAN_UNRESOLVED_HOSTS", "localhost");
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let plan = String::from_utf8(out.stdout).unwrap();
    assert!(!plan.contains(KEY), "the key is in the plan");
    let script = root.join("plan.sh");
    std::fs::write(&script, &plan).unwrap();
    let mut replay = Command::new("sh");
    replay
        .arg(&script)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("KUBECACHEDIR", double.cache_dir())
        .envs(secret_env(&plan))
        .stdin(Stdio::null());
    let replayed = support::run(&mut replay, None);
    assert!(
        replayed.status.success(),
        "the replayed plan failed: {}\n{plan}",
        String::from_utf8_lossy(&replayed.stderr)
    );

    let (from_run, from_plan) = (applied(&real_dir), applied(&plan_dir));
    assert_eq!(
        from_plan, from_run,
        "the replayed plan (left) applied other objects than the real run (right)"
    );
    let secret = from_plan
        .iter()
        .find(|d| d["kind"] == "Secret")
        .expect("a Secret");
    assert!(
        secret.to_string().contains(KEY),
        "the key did not reach the Secret"
    );
    let left = support::run_ok(
        double
            .kubectl(&real_kubectl)
            .args(["get", "pods,secrets,networkpolicies", "-o", "name"]),
        None,
    );
    assert!(
        left.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&left.stdout)
    );
}
