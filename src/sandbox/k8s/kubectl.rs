//! The kubectl commands of the backend as plain [`Cmd`]s: every one carries `--kubeconfig`
//! (when configured) and `-n <namespace>`, and only the operations of the k8s contract are used.

use std::time::Duration;

use super::config::K8sConfig;
use crate::process::Cmd;

/// The container every sforge pod runs.
pub const CONTAINER: &str = "work";

/// Builds kubectl commands for one cluster and namespace.
#[derive(Debug, Clone)]
pub struct Kubectl {
    config: K8sConfig,
}

impl Kubectl {
    #[must_use]
    pub fn new(config: K8sConfig) -> Self {
        Kubectl { config }
    }

    #[must_use]
    pub fn config(&self) -> &K8sConfig {
        &self.config
    }

    /// `kubectl [--kubeconfig P] -n NS`.
    #[must_use]
    pub fn base(&self) -> Cmd {
        let mut cmd = Cmd::new(&self.config.kubectl);
        if let Some(path) = &self.config.kubeconfig {
            cmd = cmd.args(["--kubeconfig", path]);
        }
        cmd.args(["-n", &self.config.namespace])
    }

    /// `cluster-info` (a query with a short deadline).
    #[must_use]
    pub fn cluster_info(&self) -> Cmd {
        self.base()
            .arg("cluster-info")
            .read_only()
            .timeout(Duration::from_secs(20))
    }

    /// `auth can-i create pods`: prints `yes` or `no`.
    #[must_use]
    pub fn can_create_pods(&self) -> Cmd {
        self.base()
            .args(["auth", "can-i", "create", "pods"])
            .read_only()
            .timeout(Duration::from_secs(20))
    }

    /// `apply -f - -o name` with `yaml` on stdin. With `secret`, the stdin is never shown.
    #[must_use]
    pub fn apply(&self, yaml: &str, secret: bool) -> Cmd {
        let cmd = self
            .base()
            .args(["apply", "-f", "-", "-o", "name"])
            .timeout(Duration::from_secs(60));
        if secret {
            cmd.secret_stdin_bytes(yaml)
        } else {
            cmd.stdin_bytes(yaml)
        }
    }

    /// `get pod NAME -o json`.
    #[must_use]
    pub fn get_pod(&self, pod: &str) -> Cmd {
        self.base()
            .args(["get", "pod", pod, "-o", "json"])
            .read_only()
            .timeout(Duration::from_secs(30))
    }

    /// `get events --field-selector involvedObject.name=NAME -o json`.
    #[must_use]
    pub fn events(&self, pod: &str) -> Cmd {
        self.base()
            .args(["get", "events", "--field-selector"])
            .arg(format!("involvedObject.name={pod}"))
            .args(["-o", "json"])
            .read_only()
            .timeout(Duration::from_secs(30))
    }

    /// `wait --for=condition=Ready pod/NAME --timeout=Ns` (what a dry-run plan prints in place
    /// of the status polling, which needs a live pod).
    #[must_use]
    pub fn wait_ready(&self, pod: &str, timeout: Duration) -> Cmd {
        self.base()
            .args(["wait", "--for=condition=Ready"])
            .arg(format!("pod/{pod}"))
            .arg(format!("--timeout={}s", timeout.as_secs()))
    }

    /// `exec [-i] NAME -c work -- ARGV…`.
    #[must_use]
    pub fn exec<I, S>(&self, pod: &str, stdin: bool, argv: I) -> Cmd
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut cmd = self.base().arg("exec");
        if stdin {
            cmd = cmd.arg("-i");
        }
        cmd.args([pod, "-c", CONTAINER, "--"]).args(argv)
    }

    /// `logs NAME -c work`.
    #[must_use]
    pub fn logs(&self, pod: &str) -> Cmd {
        self.base()
            .args(["logs", pod, "-c", CONTAINER])
            .read_only()
            .timeout(Duration::from_secs(60))
    }

    /// `delete KIND NAME --ignore-not-found --wait=true`: returns once the object is gone, so
    /// the name can be used again at once.
    #[must_use]
    pub fn delete(&self, kind: &str, name: &str) -> Cmd {
        self.base()
            .args(["delete", kind, name, "--ignore-not-found", "--wait=true"])
            .timeout(Duration::from_secs(120))
    }

    /// Deletes every pod, secret and policy of a run.
    #[must_use]
    pub fn delete_run(&self, run_id: &str) -> Cmd {
        self.delete_selected(&format!("sforge.run-id={run_id}"))
    }

    /// Deletes every pod, secret and policy matching the label `selector` (`key=value`).
    #[must_use]
    pub fn delete_selected(&self, selector: &str) -> Cmd {
        self.base()
            .args(["delete", "pods,secrets,networkpolicies", "-l", selector])
            .args(["--ignore-not-found", "--wait=true"])
            .timeout(Duration::from_secs(300))
    }

    /// `get pods -l sforge.run-id=ID -o json`.
    #[must_use]
    pub fn list_run_pods(&self, run_id: &str) -> Cmd {
        self.base()
            .args(["get", "pods", "-l"])
            .arg(format!("sforge.run-id={run_id}"))
            .args(["-o", "json"])
            .read_only()
            .timeout(Duration::from_secs(30))
    }
}
