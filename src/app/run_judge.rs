//! The judge of a run: the one at `--judge-url` (as seen from the host), or, when nothing answers
//! at a local address, a judge server started in this process for the run and stopped after it.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;

use crate::config::{EnvMap, Settings};
use crate::judge::server::{read_admin_secret, JudgeServer, RunningServer, ServerConfig};
use crate::judge::{ContainerGrader, Judge, TaskPolicy};
use crate::run::judge_client::JudgeClient;
use crate::task::{Catalog, Task};

/// The judge used by a run.
pub struct JudgeHandle {
    pub client: JudgeClient,
    embedded: Option<RunningServer>,
}

impl JudgeHandle {
    /// Stop the embedded judge, if this run started one.
    pub fn stop(self) {
        if let Some(server) = self.embedded {
            server.shutdown();
        }
    }
}

/// `http://host.docker.internal:P` (the container's view) is `http://127.0.0.1:P` on the host.
#[must_use]
pub fn host_url(judge_url: &str) -> String {
    judge_url
        .replacen("host.docker.internal", "127.0.0.1", 1)
        .trim_end_matches('/')
        .to_owned()
}

/// `per_task`: the settings of the run's tasks (a task on another backend than `settings`'s is
/// graded there).
pub fn ensure_judge(
    settings: &Settings,
    env: &EnvMap,
    catalog: &Catalog,
    per_task: &[(String, Settings)],
) -> anyhow::Result<JudgeHandle> {
    let base = host_url(&settings.judge_url.value);
    let env_secret = env
        .get("SFORGE_JUDGE_ADMIN_SECRET")
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    let probe = JudgeClient::new(&base, "");
    if probe.is_up() {
        let secret = match env_secret {
            Some(s) => s,
            None => read_admin_secret(&settings.log_dir.value)?.with_context(|| {
                format!("a judge answers at {base} but its admin secret is unknown: set SFORGE_JUDGE_ADMIN_SECRET, or share --log-dir with that judge")
            })?,
        };
        return Ok(JudgeHandle {
            client: JudgeClient::new(&base, &secret),
            embedded: None,
        });
    }
    let port = port_of(&base).with_context(|| {
        format!("no judge answers at {base}, and it is not a local address sforge can start one on")
    })?;
    let addr: SocketAddr = ([0, 0, 0, 0], port).into();
    let all: HashMap<String, Task> = catalog
        .all_tasks()?
        .into_iter()
        .map(|t| (t.task_id.clone(), t))
        .collect();
    let mut config = ServerConfig::new(
        addr,
        settings.log_dir.value.clone(),
        all.keys().cloned().collect(),
    );
    config.admin_secret.clone_from(&env_secret);
    config.judge_concurrency = (crate::parallel::default_jobs() / 2).max(1);
    config.shutdown_grace = std::time::Duration::from_secs(30);
    let judge = Judge::from_settings(
        settings,
        &catalog.benchmark.name,
        &crate::owner::current_owner(),
    );
    let per_task = per_task
        .iter()
        .filter(|(_, s)| s.backend.value != settings.backend.value)
        .map(|(id, s)| {
            let judge =
                Judge::from_settings(s, &catalog.benchmark.name, &crate::owner::current_owner());
            (id.clone(), judge)
        })
        .collect();
    let grader = Arc::new(ContainerGrader {
        judge,
        tasks: all.clone(),
        per_task,
    });
    let server = JudgeServer::start(config, grader, Arc::new(TaskPolicy { tasks: all }))
        .with_context(|| {
            format!("no judge answers at {base} and one cannot be started on port {port}")
        })?;
    let secret = match env_secret {
        Some(s) => s,
        None => read_admin_secret(&settings.log_dir.value)?
            .context("the embedded judge wrote no admin secret")?,
    };
    eprintln!("Started a judge for this run on port {port}");
    Ok(JudgeHandle {
        client: JudgeClient::new(&base, &secret),
        embedded: Some(server),
    })
}

/// The port of a URL whose host is this machine (`127.0.0.1`, `localhost`, `[::1]`, or an IP
/// address of one of its interfaces, such as the Docker bridge's, which pods of a local
/// cluster reach); `None` for other hosts.
fn port_of(url: &str) -> Option<u16> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split('/').next()?;
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) => (h, p.parse().ok()?),
        None => (authority, 80),
    };
    let local = matches!(host, "127.0.0.1" | "localhost" | "[::1]")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(crate::isolation::is_host_address);
    local.then_some(port)
}

#[cfg(test)]
mod tests {
    #[test]
    fn urls() {
        assert_eq!(
            super::host_url("http://host.docker.internal:8080/"),
            "http://127.0.0.1:8080"
        );
        assert_eq!(super::port_of("http://127.0.0.1:9000"), Some(9000));
        assert_eq!(super::port_of("http://localhost"), Some(80));
        assert_eq!(super::port_of("http://10.0.0.12:8080"), None);
    }
}
