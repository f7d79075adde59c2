//! TEST DOUBLE: how the Kubernetes API double runs a pod's container on the local Docker engine.
//! Honoured pod fields: `hostAliases` (`--add-host`), the `work` container's `image`, `command`
//! (`--entrypoint` + arguments) and `args`, `env`/`envFrom` (literal values in argv, values from
//! Secrets only through the docker client's environment: `-e NAME`), `workingDir`,
//! `resources.limits` cpu/memory, `securityContext.capabilities` add/drop,
//! `allowPrivilegeEscalation: false` (`--security-opt no-new-privileges`) and `runAsUser`.
//! Network policies are stored but not enforced (as by a CNI that ignores them).

use std::io::Read;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

use super::CONTAINER_LABEL;

/// The container name of pod `ns/name` of double `id`.
#[must_use]
pub fn container_name(id: &str, ns: &str, name: &str) -> String {
    format!("{id}-{ns}-{name}")
}

/// Runs `docker args...` to completion with no input.
pub fn run(docker: &str, args: &[&str]) -> Output {
    Command::new(docker)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|err| panic!("the k8s double cannot start `{docker}`: {err}"))
}

/// The local image a pod's `image` stands for: the reference itself, else (for tests) the
/// reference without its registry host. `None` when neither exists locally.
#[must_use]
pub fn resolve_image(docker: &str, image: &str) -> Option<String> {
    let exists = |reference: &str| {
        run(
            docker,
            &["image", "inspect", "--format", "{{.Id}}", reference],
        )
        .status
        .success()
    };
    if exists(image) {
        return Some(image.to_owned());
    }
    let (host, rest) = image.split_once('/')?;
    let is_registry = host.contains('.') || host.contains(':') || host == "localhost";
    (is_registry && exists(rest)).then(|| rest.to_owned())
}

/// A container to start: the `docker run` argv and the secret environment it reads.
pub struct RunPlan {
    pub args: Vec<String>,
    /// Variables the docker client passes on by name (`-e NAME`); never in `args`.
    pub secret_env: Vec<(String, String)>,
}

/// Plans `docker run -d` for the pod's first container, with `env` already resolved into
/// literal values and secret values.
#[must_use]
pub fn plan_run(id: &str, pod: &Value, image: &str, env: &[(String, String, bool)]) -> RunPlan {
    let meta = &pod["metadata"];
    let ns = meta["namespace"].as_str().unwrap_or_default();
    let name = meta["name"].as_str().unwrap_or_default();
    let container = &pod["spec"]["containers"][0];
    let mut args: Vec<String> = ["run", "-d", "--name"].map(str::to_owned).to_vec();
    args.push(container_name(id, ns, name));
    for label in [
        format!("{CONTAINER_LABEL}={id}"),
        crate::support::TEST_LABEL.to_owned(),
        format!("k8s-double.pod={ns}.{name}"),
    ] {
        args.extend(["--label".to_owned(), label]);
    }
    args.extend(["--hostname".to_owned(), name.chars().take(63).collect()]);
    for alias in pod["spec"]["hostAliases"].as_array().into_iter().flatten() {
        let ip = alias["ip"].as_str().unwrap_or_default();
        for host in alias["hostnames"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            args.push(format!("--add-host={host}:{ip}"));
        }
    }
    let mut secret_env = Vec::new();
    for (key, value, secret) in env {
        if *secret {
            args.extend(["-e".to_owned(), key.clone()]);
            secret_env.push((key.clone(), value.clone()));
        } else {
            args.extend(["-e".to_owned(), format!("{key}={value}")]);
        }
    }
    if let Some(dir) = container["workingDir"].as_str() {
        args.extend(["-w".to_owned(), dir.to_owned()]);
    }
    args.extend(resource_args(&container["resources"]["limits"]));
    args.extend(security_args(
        &container["securityContext"],
        &pod["spec"]["securityContext"],
    ));
    let strings = |value: &Value| -> Vec<String> {
        value
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect()
    };
    let command = strings(&container["command"]);
    if let Some((entry, rest)) = command.split_first() {
        args.extend(["--entrypoint".to_owned(), entry.clone(), image.to_owned()]);
        args.extend(rest.iter().cloned());
    } else {
        args.push(image.to_owned());
    }
    args.extend(strings(&container["args"]));
    RunPlan { args, secret_env }
}

fn resource_args(limits: &Value) -> Vec<String> {
    let mut args = Vec::new();
    if let Some(cpu) = limits["cpu"]
        .as_str()
        .map(str::to_owned)
        .or_else(|| limits["cpu"].as_f64().map(|n| n.to_string()))
    {
        if let Some(cores) = parse_cpu(&cpu) {
            let available = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
            #[allow(clippy::cast_precision_loss)]
            let cores = cores.min(available as f64);
            args.push(format!("--cpus={cores}"));
        }
    }
    if let Some(bytes) = limits["memory"].as_str().and_then(parse_memory) {
        args.push(format!("--memory={bytes}"));
    }
    args
}

fn security_args(container: &Value, pod: &Value) -> Vec<String> {
    let mut args = Vec::new();
    for (field, flag) in [("drop", "--cap-drop"), ("add", "--cap-add")] {
        for cap in container["capabilities"][field]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            args.push(format!("{flag}={cap}"));
        }
    }
    if container["allowPrivilegeEscalation"] == Value::Bool(false) {
        args.push("--security-opt=no-new-privileges".to_owned());
    }
    if let Some(user) = container["runAsUser"]
        .as_u64()
        .or_else(|| pod["runAsUser"].as_u64())
    {
        args.push(format!("--user={user}"));
    }
    args
}

/// Kubernetes CPU quantity (`2`, `1.5`, `500m`) in cores.
#[must_use]
pub fn parse_cpu(text: &str) -> Option<f64> {
    match text.strip_suffix('m') {
        Some(milli) => milli.parse::<f64>().ok().map(|m| m / 1000.0),
        None => text.parse().ok(),
    }
}

/// Kubernetes memory quantity (`8Gi`, `512Mi`, `1G`, `1000`) in bytes.
#[must_use]
pub fn parse_memory(text: &str) -> Option<u64> {
    const UNITS: [(&str, u64); 12] = [
        ("Ki", 1 << 10),
        ("Mi", 1 << 20),
        ("Gi", 1 << 30),
        ("Ti", 1 << 40),
        ("Pi", 1 << 50),
        ("Ei", 1 << 60),
        ("k", 1_000),
        ("M", 1_000_000),
        ("G", 1_000_000_000),
        ("T", 1_000_000_000_000),
        ("P", 1_000_000_000_000_000),
        ("E", 1_000_000_000_000_000_000),
    ];
    for (suffix, factor) in UNITS {
        if let Some(number) = text.strip_suffix(suffix) {
            return number.parse::<u64>().ok().map(|n| n * factor);
        }
    }
    text.parse().ok()
}

/// Starts the planned container; `Err` carries docker's stderr.
pub fn start(docker: &str, plan: &RunPlan) -> Result<String, String> {
    let output = Command::new(docker)
        .args(&plan.args)
        .envs(plan.secret_env.iter().map(|(key, value)| (key, value)))
        .stdin(Stdio::null())
        .output()
        .map_err(|err| format!("cannot start {docker}: {err}"))?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).trim().to_owned())
    }
}

/// The container's IP address and its network's gateway (the "node" address).
#[must_use]
pub fn addresses(docker: &str, container: &str) -> (String, String) {
    let format = "{{range .NetworkSettings.Networks}}{{.IPAddress}} {{.Gateway}}\n{{end}}";
    let output = run(docker, &["inspect", "--format", format, container]);
    let text = String::from_utf8_lossy(&output.stdout);
    let mut words = text.lines().next().unwrap_or_default().split_whitespace();
    let ip = words.next().unwrap_or_default().to_owned();
    let gateway = words.next().unwrap_or("127.0.0.1").to_owned();
    (ip, gateway)
}

/// Blocks until the container exits; its exit code (`None` when it is gone).
#[must_use]
pub fn wait(docker: &str, container: &str) -> Option<i64> {
    let output = run(docker, &["wait", container]);
    String::from_utf8_lossy(&output.stdout).trim().parse().ok()
}

/// The container's output, stdout and stderr interleaved as docker recorded them.
#[must_use]
pub fn logs(docker: &str, container: &str) -> Vec<u8> {
    let Ok((mut reader, writer)) = std::io::pipe() else {
        return Vec::new();
    };
    let Ok(err_writer) = writer.try_clone() else {
        return Vec::new();
    };
    let spawned = Command::new(docker)
        .args(["logs", container])
        .stdin(Stdio::null())
        .stdout(writer)
        .stderr(err_writer)
        .spawn();
    let Ok(mut child) = spawned else {
        return Vec::new();
    };
    let mut text = Vec::new();
    let _ = reader.read_to_end(&mut text);
    let _ = child.wait();
    text
}

/// Stops the container within `grace` seconds (SIGTERM, then SIGKILL) and removes it.
pub fn stop_and_remove(docker: &str, container: &str, grace: u64) {
    if grace > 0 {
        let _ = run(docker, &["stop", "--time", &grace.to_string(), container]);
    }
    let _ = run(docker, &["rm", "-f", "-v", container]);
}

/// Removes every container of double `id`.
pub fn remove_all(docker: &str, id: &str) {
    let filter = format!("label={CONTAINER_LABEL}={id}");
    let output = run(docker, &["ps", "-aq", "--filter", &filter]);
    let ids: Vec<String> = String::from_utf8_lossy(&output.stdout)
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    if !ids.is_empty() {
        let mut args = vec!["rm", "-f", "-v"];
        args.extend(ids.iter().map(String::as_str));
        let _ = run(docker, &args);
    }
}

#[cfg(test)]
mod tests {
    use super::{parse_cpu, parse_memory, plan_run};
    use serde_json::json;

    #[test]
    fn secret_values_stay_out_of_the_docker_argv() {
        let pod = json!({
            "metadata": {"namespace": "ns", "name": "p"},
            "spec": {"containers": [{"name": "work", "command": ["sh", "-c"], "args": ["echo hi"]}]}
        });
        let env = [
            ("KEY".to_owned(), "hunter2".to_owned(), true),
            ("MODE".to_owned(), "plain".to_owned(), false),
        ];
        let plan = plan_run("d1", &pod, "img:1", &env);
        assert!(
            !plan.args.iter().any(|arg| arg.contains("hunter2")),
            "{:?}",
            plan.args
        );
        assert_eq!(plan.secret_env, [("KEY".to_owned(), "hunter2".to_owned())]);
        let argv = plan.args.join(" ");
        assert!(argv.contains("-e KEY -e MODE=plain"), "{argv}");
        assert!(argv.ends_with("--entrypoint sh img:1 -c echo hi"), "{argv}");
        assert!(argv.contains("--name d1-ns-p"), "{argv}");
    }

    #[test]
    fn quantities_convert_like_kubernetes() {
        assert_eq!(parse_memory("8Gi"), Some(8 << 30));
        assert_eq!(parse_memory("512Mi"), Some(512 << 20));
        assert_eq!(parse_memory("1G"), Some(1_000_000_000));
        assert_eq!(parse_memory("1000"), Some(1000));
        assert_eq!(parse_memory("lots"), None);
        assert_eq!(parse_cpu("500m"), Some(0.5));
        assert_eq!(parse_cpu("2"), Some(2.0));
    }
}
