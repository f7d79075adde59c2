//! Registry credentials from Docker's client configuration (`<dir>/config.json`, `auths`
//! entries). Credential helpers (`credsStore`, `credHelpers`) are only detected, not run.

use std::fmt;
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::Value;

use super::reference::DOCKER_HUB;

/// Why Docker's `config.json` cannot give credentials.
#[derive(Debug, thiserror::Error)]
pub enum CredentialsError {
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} is not valid JSON: {source}", path.display())]
    Json {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("the auths entry {key:?} in {}: {problem}", path.display())]
    Entry {
        key: String,
        path: PathBuf,
        problem: AuthProblem,
    },
}

/// What is wrong with an `auth` value.
#[derive(Debug, thiserror::Error)]
pub enum AuthProblem {
    #[error("its `auth` value is not base64 ({0})")]
    NotBase64(base64::DecodeError),
    #[error("its `auth` value is not UTF-8")]
    NotUtf8,
    #[error("its `auth` value does not decode to user:password")]
    NoColon,
}

/// A user name and password for one registry. `Debug` never shows the password.
#[derive(Clone)]
pub struct Credentials {
    pub user: String,
    password: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("user", &self.user)
            .field("password", &"<redacted>")
            .finish()
    }
}

impl Credentials {
    /// The value of a `Basic` `Authorization` header.
    #[must_use]
    pub fn basic_header(&self) -> String {
        let pair = format!("{}:{}", self.user, self.password);
        format!("Basic {}", STANDARD.encode(pair))
    }
}

/// What the configuration holds for a registry.
#[derive(Debug)]
pub enum Found {
    Credentials(Credentials),
    /// No usable `auths` entry, but this credential helper (`docker-credential-<name>`) is
    /// configured for the registry.
    Helper(String),
    Nothing,
}

/// Docker's configuration directory: `$DOCKER_CONFIG`, else `$HOME/.docker`.
#[must_use]
pub fn default_docker_config_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("DOCKER_CONFIG").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(|home| PathBuf::from(home).join(".docker"))
}

/// The key of an `auths` entry reduced to `host[:port]` (scheme and path dropped), with Docker
/// Hub's aliases mapped to its registry host.
fn normalise(key: &str) -> String {
    let key = key
        .trim()
        .trim_start_matches("https://")
        .trim_start_matches("http://");
    let host = key.split('/').next().unwrap_or(key).to_ascii_lowercase();
    match host.as_str() {
        "docker.io" | "index.docker.io" => DOCKER_HUB.to_owned(),
        _ => host,
    }
}

fn decode(entry: &Value) -> Result<Option<Credentials>, AuthProblem> {
    if let Some(auth) = entry
        .get("auth")
        .and_then(Value::as_str)
        .filter(|a| !a.is_empty())
    {
        let bytes = STANDARD
            .decode(auth.trim())
            .map_err(AuthProblem::NotBase64)?;
        let text = String::from_utf8(bytes).map_err(|_| AuthProblem::NotUtf8)?;
        let (user, password) = text.split_once(':').ok_or(AuthProblem::NoColon)?;
        return Ok(Some(Credentials {
            user: user.to_owned(),
            password: password.to_owned(),
        }));
    }
    let field = |name: &str| {
        entry
            .get(name)
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty())
    };
    Ok(field("username")
        .zip(field("password"))
        .map(|(u, p)| Credentials {
            user: u.to_owned(),
            password: p.to_owned(),
        }))
}

/// What `<dir>/config.json` holds for `registry` (`host[:port]`). A missing file holds nothing;
/// an unreadable or malformed one is an error naming the file and what is wrong.
pub fn lookup(dir: &Path, registry: &str) -> Result<Found, CredentialsError> {
    let path = dir.join("config.json");
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Found::Nothing),
        Err(source) => return Err(CredentialsError::Read { path, source }),
    };
    let config: Value = match serde_json::from_str(&text) {
        Ok(config) => config,
        Err(source) => return Err(CredentialsError::Json { path, source }),
    };
    let wanted = normalise(registry);
    if let Some(auths) = config.get("auths").and_then(Value::as_object) {
        for (key, entry) in auths {
            if normalise(key) == wanted {
                let found = decode(entry).map_err(|problem| CredentialsError::Entry {
                    key: key.clone(),
                    path: path.clone(),
                    problem,
                })?;
                if let Some(credentials) = found {
                    return Ok(Found::Credentials(credentials));
                }
            }
        }
    }
    let helper = config
        .get("credHelpers")
        .and_then(Value::as_object)
        .and_then(|helpers| {
            helpers
                .iter()
                .find(|(key, _)| normalise(key) == wanted)
                .and_then(|(_, name)| name.as_str())
        })
        .or_else(|| config.get("credsStore").and_then(Value::as_str))
        .filter(|name| !name.is_empty());
    Ok(helper.map_or(Found::Nothing, |name| Found::Helper(name.to_owned())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(json: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("config.json"), json).unwrap();
        dir
    }

    #[test]
    fn auths_entries_match_by_host_whatever_the_key_spelling() {
        let auth = STANDARD.encode("alice:s3cr:et");
        let dir = config(&format!(
            r#"{{"auths": {{"https://reg.example.com:8443/v2/": {{"auth": "{auth}"}},
                 "https://index.docker.io/v1/": {{"username": "bob", "password": "pw"}}}}}}"#
        ));
        let Found::Credentials(c) = lookup(dir.path(), "reg.example.com:8443").unwrap() else {
            panic!("expected credentials");
        };
        assert_eq!(c.user, "alice");
        assert_eq!(c.basic_header(), format!("Basic {auth}"));
        assert!(!format!("{c:?}").contains("s3cr"), "{c:?}");
        let Found::Credentials(hub) = lookup(dir.path(), DOCKER_HUB).unwrap() else {
            panic!("expected hub credentials");
        };
        assert_eq!(hub.user, "bob");
        assert!(matches!(
            lookup(dir.path(), "reg.example.com").unwrap(),
            Found::Nothing
        ));
    }

    #[test]
    fn helpers_are_reported_when_no_entry_has_credentials() {
        let dir = config(
            r#"{"auths": {"reg.io": {}}, "credsStore": "desktop",
                "credHelpers": {"gcr.io": "gcloud"}}"#,
        );
        assert!(matches!(lookup(dir.path(), "gcr.io").unwrap(), Found::Helper(h) if h == "gcloud"));
        assert!(
            matches!(lookup(dir.path(), "reg.io").unwrap(), Found::Helper(h) if h == "desktop")
        );
    }

    #[test]
    fn missing_files_hold_nothing_and_broken_ones_are_named() {
        let empty = tempfile::tempdir().unwrap();
        assert!(matches!(
            lookup(empty.path(), "reg.io").unwrap(),
            Found::Nothing
        ));
        let broken = config("{not json");
        let err = lookup(broken.path(), "reg.io").unwrap_err().to_string();
        assert!(err.contains("config.json is not valid JSON"), "{err}");
        let bad = config(r#"{"auths": {"reg.io": {"auth": "!!!"}}}"#);
        let err = lookup(bad.path(), "reg.io").unwrap_err().to_string();
        assert!(
            err.contains("\"reg.io\"") && err.contains("not base64"),
            "{err}"
        );
    }
}
