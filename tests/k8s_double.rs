//! The Kubernetes API test double (`tests/support/k8s_double/`) driven by the real kubectl 1.33
//! and 1.30: apply, wait, get, exec over WebSocket, logs, events, delete, failure states, and
//! cleanup of its Docker containers.

#![allow(clippy::disallowed_methods)] // tests observe the system directly, independent of the product's gateway

mod support;
#[path = "support/k8s_double/mod.rs"]
mod k8s_double;

use std::path::Path;
use std::process::Output;

use k8s_double::{K8sDouble, Kind, Options};
use serde_json::Value;
use support::{containers_matching, run, unique_name, BUSYBOX_IMAGE};

/// The kubectl versions every test drives the double with.
const KUBECTL_VERSIONS: [&str; 2] = ["1.33", "1.30"];

/// `kubectl.<version>` from the Cloud SDK directory or `PATH`.
fn kubectl_bin(version: &str) -> Option<String> {
    let name = format!("kubectl.{version}");
    let sdk = Path::new("/usr/lib/google-cloud-sdk/bin").join(&name);
    if sdk.exists() {
        return Some(sdk.to_string_lossy().into_owned());
    }
    which::which(&name).ok().map(|path| path.to_string_lossy().into_owned())
}

/// Runs `test` once per kubectl version that is installed (skipping loudly when none is).
fn for_each_kubectl(test: impl Fn(&str)) {
    let found: Vec<String> = KUBECTL_VERSIONS.iter().filter_map(|version| kubectl_bin(version)).collect();
    if found.is_empty() {
        support::skip("no kubectl.1.33 or kubectl.1.30 (google-cloud-sdk) is installed", false);
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
        let ns = unique_name("ns").replace('-', "x").chars().rev().take(20).collect::<String>();
        let ns = format!("t{ns}");
        let opts = Options { namespaces: vec![ns.clone()], ..opts };
        Self { double: K8sDouble::start(opts), ns, kubectl: kubectl.to_owned() }
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
        self.kubectl_ok(&["apply", "--validate=false", "-f", "-"], Some(yaml.as_bytes()));
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

#[test]
fn apply_wait_get_exec_and_delete_a_pod_with_secret_env() {
    require_docker!();
    for_each_kubectl(|kubectl| {
        let cluster = Cluster::start(kubectl, Options::default());
        let secret = unique_name("s3cr3t");
        let yaml = format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: keys\n  labels:\n    sforge.run-id: run1\ntype: Opaque\nstringData:\n  API_KEY: {secret}\n"
        );
        cluster.apply(&yaml);
        cluster.apply(&pod_yaml("p1", BUSYBOX_IMAGE, "  nodeSelector:\n    kubernetes.io/os: linux\n"));
        cluster.kubectl_ok(&["wait", "--for=condition=Ready", "pod/p1", "--timeout=60s"], None);
        let pod = cluster.get_json(&["get", "pod", "p1"]);
        assert_eq!(pod["status"]["phase"], "Running", "{pod:#}");
        assert!(pod["status"]["podIP"].as_str().is_some_and(|ip| !ip.is_empty()), "{pod:#}");
        let out = cluster.kubectl_ok(&["exec", "-i", "p1", "-c", "work", "--", "sh", "-c", "cat; echo err >&2; exit 3"], Some(b"hello\n"));
        let _ = out;
        cluster.kubectl_ok(&["delete", "pod", "p1", "--ignore-not-found", "--wait=true"], None);
        assert!(cluster.double.object(Kind::Pod, &cluster.ns, "p1").is_none());
        assert!(containers_matching(&[&cluster.double.container_filter()]).is_empty());
    });
}
