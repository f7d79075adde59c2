//! The judge of a run: the one at `--judge-url` (as seen from the host), or, when nothing answers
//! at a local address, a judge started in this process for the run ([`crate::judge::launch`],
//! the code of `sforge serve`) and stopped after it.

use std::net::SocketAddr;

use super::error::RunError;
use super::judge_client::JudgeClient;
use crate::config::{EnvMap, Settings};
use crate::judge::launch::{default_concurrency, launch, JudgeService, LaunchOptions};
use crate::judge::server::read_admin_secret;
use crate::task::Catalog;

/// The judge used by a run.
pub struct RunJudge {
    pub client: JudgeClient,
    embedded: Option<JudgeService>,
}

impl RunJudge {
    /// Stop the embedded judge, if this run started one.
    pub fn stop(self) {
        if let Some(service) = self.embedded {
            service.stop();
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

/// The judge at the settings' URL, started here when none answers. `per_task`: the settings of
/// the run's tasks (a task on another backend than `settings`'s is graded there).
pub fn ensure_judge(
    settings: &Settings,
    env: &EnvMap,
    catalog: &Catalog,
    per_task: &[(String, Settings)],
) -> Result<RunJudge, RunError> {
    let base = host_url(&settings.judge_url.value);
    let env_secret = env
        .get("SFORGE_JUDGE_ADMIN_SECRET")
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    if JudgeClient::new(&base, "").is_up() {
        let secret = match env_secret {
            Some(s) => s,
            None => admin_secret(settings)?.ok_or_else(|| {
                RunError::Judge(format!("a judge answers at {base} but its admin secret is unknown: set SFORGE_JUDGE_ADMIN_SECRET, or share --log-dir with that judge"))
            })?,
        };
        return Ok(RunJudge {
            client: JudgeClient::new(&base, &secret),
            embedded: None,
        });
    }
    let port = port_of(&base).ok_or_else(|| {
        RunError::Judge(format!(
            "no judge answers at {base}, and it is not a local address sforge can start one on"
        ))
    })?;
    let options = LaunchOptions {
        addr: SocketAddr::from(([0, 0, 0, 0], port)),
        admin_secret: env_secret.clone(),
        concurrency: default_concurrency(),
        pool: crate::judge::launch::pool_size(settings.judge_pool.value),
        max_upload_bytes: None,
        shutdown_grace: std::time::Duration::from_secs(30),
        games: crate::judge::server::games::GameSettings::default(),
    };
    let service = launch(settings, catalog, per_task, &options)?;
    let secret = match env_secret {
        Some(s) => s,
        None => admin_secret(settings)?
            .ok_or_else(|| RunError::Judge("the embedded judge wrote no admin secret".into()))?,
    };
    eprintln!("Started a judge for this run on port {port}");
    Ok(RunJudge {
        client: JudgeClient::new(&base, &secret),
        embedded: Some(service),
    })
}

fn admin_secret(settings: &Settings) -> Result<Option<String>, RunError> {
    let dir = &settings.log_dir.value;
    read_admin_secret(dir).map_err(|e| RunError::io("read the judge admin secret under", dir, e))
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
