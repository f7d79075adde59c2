//! How to reach registries: plain-HTTP registries, Docker's credentials, time limits.

use std::path::PathBuf;
use std::time::Duration;

use super::credentials::default_docker_config_dir;

/// How to reach registries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckOptions {
    /// Registries (`host[:port]`, or a host for all its ports) spoken to over plain HTTP, besides
    /// loopback ones (`localhost`, `127.0.0.0/8`, `::1`), which always are.
    pub insecure: Vec<String>,
    /// The directory of Docker's `config.json` (credentials); `None`: anonymous only.
    pub docker_config: Option<PathBuf>,
    pub connect_timeout: Duration,
    /// The limit for one whole request.
    pub timeout: Duration,
}

impl Default for CheckOptions {
    /// Anonymous, no insecure registries, 10 s to connect and 30 s per request.
    fn default() -> Self {
        CheckOptions {
            insecure: Vec::new(),
            docker_config: None,
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(30),
        }
    }
}

impl CheckOptions {
    /// Options with `insecure_list` (comma-separated, the `SFORGE_INSECURE_REGISTRIES` format;
    /// `http://` prefixes and trailing slashes are dropped) and Docker's default configuration
    /// directory ([`default_docker_config_dir`]).
    #[must_use]
    pub fn with_insecure_list(insecure_list: &str) -> Self {
        CheckOptions {
            insecure: parse_insecure_list(insecure_list),
            docker_config: default_docker_config_dir(),
            ..CheckOptions::default()
        }
    }
}

/// The entries of a comma-separated registry list, trimmed, without scheme or trailing `/`.
#[must_use]
pub fn parse_insecure_list(list: &str) -> Vec<String> {
    list.split(',')
        .map(|entry| {
            entry
                .trim()
                .trim_start_matches("http://")
                .trim_start_matches("https://")
                .trim_end_matches('/')
                .to_owned()
        })
        .filter(|entry| !entry.is_empty())
        .collect()
}
