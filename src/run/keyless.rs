//! Keyless agents: when `SFORGE_PROXY_ADMIN_SECRET` is set, the Work container gets a per-run
//! token minted by `sforge proxy` (which holds the real API key) instead of the key itself; the
//! token's metered usage is written to `proxy_usage.json` when the task ends.

use std::path::Path;

use super::error::RunError;
use super::outputs::write_json;
use crate::config::{EnvMap, Settings};
use crate::isolation::host_port;
use crate::proxy::{ProxyAdmin, ProxyClientError};

/// The variable holding the proxy's admin secret.
pub const ADMIN_SECRET_VAR: &str = "SFORGE_PROXY_ADMIN_SECRET";

/// The proxy's admin API as sforge reaches it from the host.
#[derive(Clone)]
pub struct Keyless {
    admin: ProxyAdmin,
    /// Containers reach the proxy at `host.docker.internal` and sforge at 127.0.0.1, so it must
    /// listen on both.
    via_loopback: bool,
}

/// The proxy's admin API, when keyless mode is on.
pub fn admin(settings: &Settings, env: &EnvMap) -> Result<Option<Keyless>, RunError> {
    let Some(secret) = env.get(ADMIN_SECRET_VAR).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    let base = settings
        .agent_api_base_url
        .value
        .as_deref()
        .ok_or_else(|| {
            RunError::Keyless(format!(
            "{ADMIN_SECRET_VAR} is set (keyless agents), but SFORGE_AGENT_API_BASE_URL does not \
             point at the sforge proxy; set it to the proxy's address as the container sees it, \
             e.g. http://host.docker.internal:9090"
        ))
        })?;
    let (host, port) = host_port(base)?;
    let via_loopback = host == crate::isolation::HOST_GATEWAY_NAME;
    let host = if via_loopback {
        "127.0.0.1".to_owned()
    } else {
        host
    };
    Ok(Some(Keyless {
        admin: ProxyAdmin::new(&format!("http://{host}:{port}"), secret),
        via_loopback,
    }))
}

/// One task's token.
pub struct RunToken {
    admin: ProxyAdmin,
    pub token: String,
}

impl RunToken {
    pub fn mint(keyless: &Keyless, run_id: &str, task: &str) -> Result<Self, RunError> {
        let token = keyless.admin.mint(run_id, task).map_err(|e| {
            let hint = match &e {
                ProxyClientError::Transport { .. } if keyless.via_loopback => {
                    " (containers reach the proxy at host.docker.internal and sforge at 127.0.0.1 \
                     on the same port: let it listen on 0.0.0.0, its default)"
                }
                _ => "",
            };
            RunError::Keyless(format!(
                "cannot get a run token from the sforge proxy: {e}{hint}"
            ))
        })?;
        Ok(RunToken {
            admin: keyless.admin.clone(),
            token,
        })
    }

    /// Revoke the token and write its usage to `dir/proxy_usage.json`.
    pub fn finish(&self, dir: &Path) -> Result<(), RunError> {
        let usage = self
            .admin
            .revoke(&self.token)
            .map_err(|e: ProxyClientError| {
                RunError::Keyless(format!("cannot revoke the run token: {e}"))
            })?;
        let path = dir.join("proxy_usage.json");
        write_json(&path, &usage).map_err(|e| RunError::io("write", &path, e))
    }
}
