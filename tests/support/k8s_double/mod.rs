//! TEST DOUBLE of the Kubernetes API server, for end-to-end tests that drive the REAL `kubectl`
//! (1.30 to 1.33). It is test code, not product code: an HTTP server on 127.0.0.1 that stores
//! objects in memory and runs pods as containers of the local Docker engine.
//!
//! What it serves (and what a client must do to use it):
//! - Plain HTTP, no authentication: point kubectl at [`K8sDouble::kubeconfig_path`]. Set
//!   `KUBECACHEDIR` (or `--cache-dir`) to a temporary directory, or kubectl caches discovery under
//!   `~/.kube/cache` ([`K8sDouble::kubectl`] does both).
//! - Discovery in the legacy format only (kubectl falls back from aggregated discovery); core `v1`
//!   pods (+ `exec`, `log`), secrets, events, services (always empty, for `kubectl cluster-info`),
//!   namespaces; `networking.k8s.io/v1` networkpolicies; `authorization.k8s.io/v1`
//!   selfsubjectaccessreviews (always allowed, for `kubectl auth can-i`).
//! - `OpenAPI`: only a minimal `/openapi/v3` (see `discovery.rs`) that declares server-side field
//!   validation, so every `kubectl apply --validate=...` setting works (kubectl then sends
//!   `fieldValidation=Strict` and skips client-side schema checks). The double does NOT validate
//!   fields: manifests are checked against the official schemas elsewhere. `/openapi/v2` is 404.
//! - Objects: create (POST), get, list and watch (`?watch=true`, label and field selectors,
//!   `resourceVersion` replay), delete (pods get a `deletionTimestamp` and disappear once their
//!   container is removed, honouring the grace period), merge-patch (PATCH is applied as an RFC 7386
//!   JSON merge patch whatever its content type: enough for re-applying annotations and labels).
//! - Pods: one node ([`Options::node_name`], labels `kubernetes.io/hostname`, `kubernetes.io/os`,
//!   `kubernetes.io/arch` plus [`Options::node_labels`]); a nodeSelector that does not match keeps
//!   the pod Pending/Unschedulable with a `FailedScheduling` event. The single container runs with
//!   `docker run` (see `docker.rs` for the honoured fields); an image missing locally (also after
//!   dropping the registry host) gives `ErrImagePull` then `ImagePullBackOff` and `Failed` events.
//!   Secret values reach the container through the docker client's environment, never its argv.
//! - Exec over WebSocket only (`v5.channel.k8s.io`, `v4.channel.k8s.io`), which kubectl 1.30+ use by
//!   default; kubectl 1.29 needs `KUBECTL_REMOTE_COMMAND_WEBSOCKETS=true`; SPDY-only clients
//!   (1.27, 1.28) are refused with a 400 Status. kubectl exits with the command's exit code; a
//!   program that cannot start gives docker's 126 and its message on stdout. A client that leaves
//!   early stops the `docker exec` client, not necessarily the process in the container.
//! - kubectl 1.27 and 1.28 validate against `/openapi/v2` (not served): they need
//!   `--validate=false` for `apply`. 1.29 to 1.33 work with every `--validate` setting.
//! - Network policies are stored and returned but NOT enforced: a pod can reach anything the Docker
//!   bridge reaches. The product's egress self-check must notice this.
//! - Every request is logged to stderr when `K8S_DOUBLE_LOG=1`.
//!
//! A test binary includes it beside `support` (whose docker helpers it uses):
//! `mod support; #[path = "support/k8s_double/mod.rs"] mod k8s_double;`.

#![allow(clippy::disallowed_methods)] // the double starts docker itself; it is not product code
#![allow(dead_code)] // each test binary uses part of it

mod api;
mod discovery;
mod docker;
mod exec;
mod http;
mod pod_status;
mod pods;
mod selector;
mod server;
mod store;
mod watch;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

pub use store::Kind;

/// Docker label on every container the double starts; its value is the double's instance id.
pub const CONTAINER_LABEL: &str = "sforge-k8s-double";

/// How a double is set up.
#[derive(Debug, Clone)]
pub struct Options {
    /// The one node's name (also its `kubernetes.io/hostname` label).
    pub node_name: String,
    /// Extra node labels, e.g. a pool label a test's nodeSelector asks for.
    pub node_labels: BTreeMap<String, String>,
    /// Namespaces that exist; empty means every namespace exists.
    pub namespaces: Vec<String>,
    /// The kubeconfig context's default namespace.
    pub default_namespace: String,
    /// The docker client (default: the tests' client, `SFORGE_DOCKER` or `docker`).
    pub docker: String,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            node_name: "sforge-double-node".to_owned(),
            node_labels: BTreeMap::new(),
            namespaces: Vec::new(),
            default_namespace: "default".to_owned(),
            docker: crate::support::docker_bin(),
        }
    }
}

/// State shared by the server threads.
pub(crate) struct Shared {
    pub id: String,
    pub opts: Options,
    pub address: String,
    pub store: store::Store,
    pub stop: AtomicBool,
    /// Per pod uid: the lock that orders starting and removing its container.
    pub runtimes: Mutex<HashMap<String, Arc<Mutex<pods::Runtime>>>>,
    pub log: bool,
}

impl Shared {
    pub fn stopping(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }
}

/// A running double; dropping it stops the server and removes every container it started.
pub struct K8sDouble {
    shared: Arc<Shared>,
    dir: tempfile::TempDir,
    kubeconfig: PathBuf,
    acceptor: Option<JoinHandle<()>>,
}

impl K8sDouble {
    /// Starts the server on `127.0.0.1:<free port>` and writes its kubeconfig.
    #[must_use]
    pub fn start(opts: Options) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let address = listener.local_addr().expect("local address").to_string();
        let id = crate::support::unique_name("k8sd");
        let shared = Arc::new(Shared {
            id,
            opts,
            address,
            store: store::Store::default(),
            stop: AtomicBool::new(false),
            runtimes: Mutex::new(HashMap::new()),
            log: std::env::var("K8S_DOUBLE_LOG").is_ok_and(|value| value == "1"),
        });
        let dir = tempfile::Builder::new()
            .prefix("sforge-k8s-double-")
            .tempdir()
            .expect("create a temporary directory");
        let kubeconfig = dir.path().join("kubeconfig");
        std::fs::write(&kubeconfig, kubeconfig_text(&shared)).expect("write the kubeconfig");
        let acceptor = server::spawn(listener, Arc::clone(&shared));
        Self {
            shared,
            dir,
            kubeconfig,
            acceptor: Some(acceptor),
        }
    }

    /// The kubeconfig (server, context and default namespace) for `kubectl --kubeconfig`.
    #[must_use]
    pub fn kubeconfig_path(&self) -> &Path {
        &self.kubeconfig
    }

    /// A directory for kubectl's discovery cache (`KUBECACHEDIR`), removed with the double.
    #[must_use]
    pub fn cache_dir(&self) -> PathBuf {
        self.dir.path().join("kube-cache")
    }

    /// `http://127.0.0.1:<port>`.
    #[must_use]
    pub fn server_url(&self) -> String {
        format!("http://{}", self.shared.address)
    }

    /// The instance id, the value of the [`CONTAINER_LABEL`] of its containers.
    #[must_use]
    pub fn id(&self) -> &str {
        &self.shared.id
    }

    /// The `docker ps --filter` argument selecting this double's containers.
    #[must_use]
    pub fn container_filter(&self) -> String {
        format!("label={CONTAINER_LABEL}={}", self.shared.id)
    }

    /// The docker container that runs pod `name` of `namespace` (it may not exist).
    #[must_use]
    pub fn container_name(&self, namespace: &str, name: &str) -> String {
        docker::container_name(&self.shared.id, namespace, name)
    }

    /// A stored object as JSON, straight from the store.
    #[must_use]
    pub fn object(&self, kind: Kind, namespace: &str, name: &str) -> Option<serde_json::Value> {
        self.shared.store.get(kind, namespace, name)
    }

    /// `kubectl` (program `bin`) with this double's kubeconfig and a private discovery cache.
    #[must_use]
    pub fn kubectl(&self, bin: &str) -> Command {
        let mut cmd = Command::new(bin);
        cmd.env("KUBECACHEDIR", self.cache_dir())
            .arg("--kubeconfig")
            .arg(&self.kubeconfig);
        cmd
    }
}

impl Drop for K8sDouble {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wake the acceptor so it sees the stop flag.
        let _ = std::net::TcpStream::connect(&self.shared.address);
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
        // Wait for container starts in flight; afterwards no pod starts a container.
        let runtimes: Vec<_> = self
            .shared
            .runtimes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .values()
            .cloned()
            .collect();
        for runtime in runtimes {
            drop(
                runtime
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner),
            );
        }
        docker::remove_all(&self.shared.opts.docker, &self.shared.id);
    }
}

fn kubeconfig_text(shared: &Shared) -> String {
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: sforge-double\n  cluster:\n    server: http://{}\n\
         contexts:\n- name: sforge-double\n  context:\n    cluster: sforge-double\n    user: sforge-double\n    namespace: {}\n\
         current-context: sforge-double\nusers:\n- name: sforge-double\n  user: {{}}\n",
        shared.address, shared.opts.default_namespace
    )
}
