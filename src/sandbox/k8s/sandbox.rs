//! [`K8sSandbox`]: the [`Sandbox`] trait over kubectl. Names are mapped with [`pod_name`], so
//! callers keep using sforge's container names.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::build::{isolation_policy, objects, PodObjects};
use super::config::K8sConfig;
use super::exec::{
    env_file, env_path, kill_all_argv, run_argv, tar_argv, untar_argv, write_env_argv,
};
use super::kubectl::Kubectl;
use super::manifest::yaml_of;
use super::names::{pod_name, policy_name, secret_name};
use super::status::{assess, PodState};
use crate::process::{Cmd, ProcessError, Runner};
use crate::sandbox::watchdog::exec_with_deadline;
use crate::sandbox::{copy_out_error, ContainerSpec, ExecResult, ExecSpec, Sandbox, SandboxError};

/// Checks that an image reference can be pulled; the error says why not.
pub type ImageCheck = Arc<dyn Fn(&str) -> Result<(), ImageUnavailable> + Send + Sync>;

/// Why a pod's image cannot be used, as the check said it.
pub type ImageUnavailable = Box<dyn std::error::Error + Send + Sync>;

/// Extra time a kubectl exec gets beyond the command's own deadline before it is abandoned.
const EXEC_SLACK: Duration = Duration::from_secs(60);

pub struct K8sSandbox {
    runner: Arc<dyn Runner>,
    kubectl: Kubectl,
    image_check: Option<ImageCheck>,
}

fn failed(name: &str, message: impl Into<String>) -> SandboxError {
    SandboxError::Failed {
        name: name.to_owned(),
        message: message.into(),
    }
}

fn fail<'a>(action: &'static str, name: &'a str) -> impl FnOnce(ProcessError) -> SandboxError + 'a {
    move |source| SandboxError::Command {
        action,
        name: name.to_owned(),
        source,
    }
}

/// How long a plan waits for the cluster to answer before it prints a warning instead.
const PLAN_CHECK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// `text` as `#` comment lines (for dry-run notes).
fn commented(title: &str, text: &str) -> String {
    let body: Vec<String> = text.lines().map(|l| format!("#   {l}")).collect();
    format!("{title}\n{}", body.join("\n"))
}

impl K8sSandbox {
    #[must_use]
    pub fn new(runner: Arc<dyn Runner>, config: K8sConfig) -> Self {
        K8sSandbox {
            runner,
            kubectl: Kubectl::new(config),
            image_check: None,
        }
    }

    /// Checks every pod image with `check` before anything is created.
    #[must_use]
    pub fn with_image_check(mut self, check: ImageCheck) -> Self {
        self.image_check = Some(check);
        self
    }

    #[must_use]
    pub fn kubectl(&self) -> &Kubectl {
        &self.kubectl
    }

    fn config(&self) -> &K8sConfig {
        self.kubectl.config()
    }

    /// Whether kubectl reaches the cluster; the error lists the usual causes and fixes.
    pub fn preflight(&self) -> Result<(), SandboxError> {
        let ns = &self.config().namespace;
        let kubeconfig = self
            .config()
            .kubeconfig
            .as_deref()
            .unwrap_or("kubectl's default (~/.kube/config or KUBECONFIG)");
        let mut cmd = self.kubectl.cluster_info();
        if self.runner.is_plan() {
            cmd = cmd.timeout(PLAN_CHECK_TIMEOUT);
        }
        self.runner.run(&cmd).map(drop).map_err(|e| {
            failed(
                "cluster",
                format!(
                    "kubectl cannot reach the cluster: {e}\nCheck: kubectl -n {ns} cluster-info. \
                     Likely causes: a wrong kubeconfig (using {kubeconfig}; set \
                     SFORGE_K8S_KUBECONFIG), an unreachable API server, or a wrong namespace \
                     context (set SFORGE_K8S_NAMESPACE; the namespace must exist and your \
                     account must be allowed to create, query and delete pods, secrets and \
                     networkpolicies there: kubectl -n {ns} auth can-i create pods)."
                ),
            )
        })
    }

    /// Applies the egress policy of the pod of `container`: TCP to `endpoints`, DNS to the
    /// cluster DNS only. `labels` are the container's ownership labels.
    pub fn apply_policy(
        &self,
        container: &str,
        labels: &BTreeMap<String, String>,
        endpoints: &[(Ipv4Addr, u16)],
    ) -> Result<(), SandboxError> {
        let pod = pod_name(container);
        let labels = super::build::pod_labels(labels, &pod);
        let policy = isolation_policy(&pod, &labels, endpoints, self.config());
        let cmd = self
            .kubectl
            .apply(&yaml_of(&policy), false)
            .note(format!("egress isolation of pod {pod}"));
        self.runner
            .run(&cmd)
            .map(drop)
            .map_err(fail("isolate", container))
    }

    /// Removes the egress policy of the pod of `container` (fine if it does not exist).
    pub fn remove_policy(&self, container: &str) -> Result<(), SandboxError> {
        let name = policy_name(&pod_name(container));
        self.runner
            .run(&self.kubectl.delete("networkpolicy", &name))
            .map(drop)
            .map_err(fail("remove the policy of", container))
    }

    /// Deletes every pod, secret and policy labelled with `run_id`.
    pub fn remove_run(&self, run_id: &str) -> Result<(), SandboxError> {
        self.runner
            .run(&self.kubectl.delete_run(run_id))
            .map(drop)
            .map_err(fail("remove the pods of run", run_id))
    }

    /// Applies the walls policy, the Secret (stdin only, shown redacted) and the Pod. Returns
    /// whether kubectl named the created pod: a dry-run plan creates nothing and answers with
    /// nothing.
    fn create(&self, objects: &PodObjects, name: &str) -> Result<bool, SandboxError> {
        if let Some(policy) = &objects.policy {
            let cmd = self
                .kubectl
                .apply(&yaml_of(policy), false)
                .note(format!("the network walls of container {name}"));
            self.runner.run(&cmd).map_err(fail("wall in", name))?;
        }
        if let Some(secret) = &objects.secret {
            let note = commented(
                "the Secret below (values shown as ***) is read from stdin:",
                &yaml_of(&secret.redacted()),
            );
            let cmd = self
                .kubectl
                .apply(&yaml_of(secret), true)
                .replay_stdin(super::replay::secret_replay(secret, &objects.pod))
                .note(note);
            self.runner
                .run(&cmd)
                .map_err(fail("create the secret of", name))?;
        }
        let cmd = self
            .kubectl
            .apply(&yaml_of(&objects.pod), false)
            .note(format!("the pod of container {name}"));
        let out = self.runner.run(&cmd).map_err(fail("create", name))?;
        Ok(!out.stdout_str().is_empty())
    }

    /// Polls the pod until it runs; fails fast when it cannot start, or at the deadline.
    fn wait_running(&self, pod: &str, name: &str) -> Result<(), SandboxError> {
        let config = self.config();
        let deadline = Instant::now() + config.start_timeout;
        let describe = format!("kubectl -n {} describe pod {pod}", config.namespace);
        loop {
            let out = self
                .runner
                .run(&self.kubectl.get_pod(pod))
                .map_err(fail("read the status of", name))?;
            let json: Value = serde_json::from_slice(&out.stdout)
                .map_err(|e| failed(name, format!("kubectl printed no pod JSON for {pod}: {e}")))?;
            let mut state = assess(&json, &Value::Null, &config.node_selector);
            if matches!(state, PodState::Starting(_)) {
                let events = self
                    .runner
                    .run(&self.kubectl.events(pod))
                    .ok()
                    .and_then(|o| serde_json::from_slice(&o.stdout).ok())
                    .unwrap_or(Value::Null);
                state = assess(&json, &events, &config.node_selector);
            }
            match state {
                PodState::Running => return Ok(()),
                PodState::Failed(why) => {
                    return Err(failed(
                        name,
                        format!("pod {pod}: {why} (details: {describe})"),
                    ))
                }
                PodState::Starting(now) if Instant::now() >= deadline => {
                    return Err(failed(
                        name,
                        format!(
                            "pod {pod} is not running after {}s ({now}); details: {describe}",
                            config.start_timeout.as_secs()
                        ),
                    ))
                }
                PodState::Starting(_) => std::thread::sleep(config.poll_interval),
            }
        }
    }

    /// Writes `exec`'s environment to a private file in the pod; returns its path.
    fn ship_env(
        &self,
        pod: &str,
        name: &str,
        exec: &ExecSpec,
    ) -> Result<Option<String>, SandboxError> {
        if exec.env.is_empty() {
            return Ok(None);
        }
        let path =
            env_path().map_err(|e| failed(name, format!("cannot pick an env file name: {e}")))?;
        let cmd = self
            .kubectl
            .exec(pod, true, write_env_argv(&path))
            .secret_stdin_bytes(env_file(&exec.env))
            .replay_stdin(super::replay::env_file_replay(&exec.env))
            .note("the command's environment goes to a private file in the pod, through stdin");
        self.runner
            .run(&cmd)
            .map_err(fail("pass the environment to", name))?;
        Ok(Some(path))
    }
}

impl Sandbox for K8sSandbox {
    fn start(&self, spec: &ContainerSpec) -> Result<(), SandboxError> {
        let objects =
            objects(spec, self.config()).map_err(|e| failed(&spec.name, e.to_string()))?;
        let pod = objects.pod.metadata.name.clone();
        if let Some(check) = &self.image_check {
            let image = &objects.pod.spec.containers[0].image;
            match check(image) {
                Ok(()) => {}
                // A plan is printed whole even where the registry cannot be reached.
                Err(why) if self.runner.is_plan() => self
                    .runner
                    .plan_warning(&format!("{why} (the plan creates the pod anyway)")),
                Err(why) => return Err(failed(&spec.name, why.to_string())),
            }
        }
        let result = self.create(&objects, &spec.name).and_then(|created| {
            if created {
                self.wait_running(&pod, &spec.name)
            } else {
                let wait = self.kubectl.wait_ready(&pod, self.config().start_timeout);
                self.runner
                    .run(&wait)
                    .map(drop)
                    .map_err(fail("start", &spec.name))
            }
        });
        if result.is_err() {
            if let Err(e) = self.remove(&spec.name) {
                log::warn!("{e}");
            }
        }
        result
    }

    fn exec(
        &self,
        name: &str,
        exec: &ExecSpec,
        on_line: &mut dyn FnMut(&str),
    ) -> Result<ExecResult, SandboxError> {
        let pod = pod_name(name);
        let env = self.ship_env(&pod, name, exec)?;
        let mut cmd = self.kubectl.exec(
            &pod,
            exec.stdin.is_some() || exec.stdin_file.is_some(),
            run_argv(exec, env.as_deref()),
        );
        if let Some(bytes) = &exec.stdin {
            cmd = cmd.stdin_bytes(bytes.clone());
        } else if let Some(file) = &exec.stdin_file {
            cmd = cmd.stdin_file(file);
        }
        if let Some(limit) = exec.timeout {
            cmd = cmd.timeout(limit + EXEC_SLACK);
        }
        // Everything but PID 1 dies, so the exec (and kubectl) returns.
        let kill = self.kubectl.exec(&pod, false, kill_all_argv());
        exec_with_deadline(
            &self.runner,
            &cmd,
            exec.timeout,
            kill,
            on_line,
            fail("exec in", name),
        )
    }

    fn copy_in(&self, name: &str, dir: &str, tar: Vec<u8>) -> Result<(), SandboxError> {
        let cmd = self
            .kubectl
            .exec(&pod_name(name), true, untar_argv(dir))
            .stdin_bytes(tar);
        self.runner
            .run(&cmd)
            .map(drop)
            .map_err(fail("copy into", name))
    }

    fn copy_in_file(&self, name: &str, dir: &str, tar: &Path) -> Result<(), SandboxError> {
        let cmd = self
            .kubectl
            .exec(&pod_name(name), true, untar_argv(dir))
            .stdin_file(tar);
        self.runner
            .run(&cmd)
            .map(drop)
            .map_err(fail("copy into", name))
    }

    fn copy_out(
        &self,
        name: &str,
        path: &str,
        dest: &Path,
        max_bytes: u64,
    ) -> Result<(), SandboxError> {
        let cmd = self
            .kubectl
            .exec(&pod_name(name), false, tar_argv(path))
            .stdout_file(dest, max_bytes)
            .read_only();
        self.runner.run(&cmd).map(drop).map_err(copy_out_error(
            name,
            path,
            fail("copy out of", name),
        ))
    }

    fn logs(&self, name: &str) -> Result<String, SandboxError> {
        let out = self
            .runner
            .run(&self.kubectl.logs(&pod_name(name)))
            .map_err(fail("read the logs of", name))?;
        Ok(format!("{}{}", out.stdout_str(), out.stderr_str()))
    }

    /// Deletes the pod, its Secret and its policy, each waiting until it is gone.
    fn remove(&self, name: &str) -> Result<(), SandboxError> {
        let pod = pod_name(name);
        let objects = [
            ("pod", pod.clone()),
            ("secret", secret_name(&pod)),
            ("networkpolicy", policy_name(&pod)),
        ];
        let mut first_error = None;
        for (kind, object) in objects {
            let cmd: Cmd = self.kubectl.delete(kind, &object);
            if let Err(e) = self.runner.run(&cmd) {
                first_error.get_or_insert(fail("remove", name)(e));
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}
