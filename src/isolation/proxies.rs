//! Proxies and isolation: a proxy configured for sforge (`SFORGE_HTTP(S)_PROXY`, an experiment, a
//! flag) cannot work in an isolated container and is an error; a plain `HTTP(S)_PROXY` merely
//! inherited from the shell is left out of the container instead (SForge 1.0 refused to run).

use super::IsolationError;
use crate::config::{Settings, Source};

/// Is this proxy value only inherited from a plain `HTTP(S)_PROXY` variable of the shell?
#[must_use]
pub fn is_inherited_proxy(source: &Source) -> bool {
    matches!(source, Source::Env(name) if !name.starts_with("SFORGE_"))
}

/// Check the proxies of `settings` for an isolated run: the inherited proxies that will be left
/// out of the Work container (for a warning), or the conflict.
pub fn check_proxies(settings: &Settings) -> Result<Vec<String>, IsolationError> {
    let mut inherited = Vec::new();
    let mut explicit = Vec::new();
    for value in [&settings.http_proxy, &settings.https_proxy] {
        if value.value.is_none() {
            continue;
        }
        if is_inherited_proxy(&value.source) {
            inherited.push(value.source.to_string());
        } else {
            explicit.push(value.source.to_string());
        }
    }
    if explicit.is_empty() {
        Ok(inherited)
    } else {
        Err(IsolationError::ProxyConflict {
            vars: explicit.join(", "),
        })
    }
}
