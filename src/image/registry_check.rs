//! Whether an image exists in its registry, asked over the registry HTTP API (v2): a `HEAD` of
//! the manifest, HTTPS by default and plain HTTP for loopback and listed insecure registries,
//! with token (`Bearer`) and `Basic` authentication from Docker's `config.json`. The k8s backend
//! runs it before creating a pod ([`pod_image_check`]).

mod challenge;
mod client;
mod credentials;
mod reference;

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

pub use challenge::{parse as parse_challenges, Challenge};
pub use credentials::default_docker_config_dir;
pub use reference::{is_loopback, ImageRef, DOCKER_HUB};

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

/// Why a registry could not say whether an image exists.
#[derive(Debug, thiserror::Error)]
pub enum RegistryCheckError {
    #[error("invalid image reference {reference:?}: {why}")]
    Reference { reference: String, why: String },
    #[error("cannot reach the registry {registry} ({url}): {why}")]
    Unreachable {
        registry: String,
        url: String,
        why: String,
    },
    #[error("the registry {registry} answered HTTP {status} for {url}: {body}")]
    Status {
        registry: String,
        url: String,
        status: u16,
        body: String,
    },
    #[error("the registry {registry} (repository {repository}) {why}")]
    Auth {
        registry: String,
        repository: String,
        why: String,
    },
}

/// Whether the image `reference` (`[host[:port]/]path/name[:tag][@digest]`) is in its registry:
/// `Ok(false)` only when the registry says the manifest or repository is unknown.
pub fn image_exists(reference: &str, opts: &CheckOptions) -> Result<bool, RegistryCheckError> {
    let image = ImageRef::parse(reference).map_err(|why| RegistryCheckError::Reference {
        reference: reference.to_owned(),
        why,
    })?;
    ref_exists(&image, opts)
}

/// [`image_exists`] for a parsed reference.
pub fn ref_exists(image: &ImageRef, opts: &CheckOptions) -> Result<bool, RegistryCheckError> {
    client::Session::new(image, opts).exists()
}

/// The k8s backend's image check: `Ok` when the registry has the image; otherwise a message
/// saying how to fix it. `push_registry` is the configured registry prefix
/// (`SFORGE_K8S_IMAGE_REGISTRY`). Images found are remembered, so each is asked about once.
pub fn pod_image_check(
    opts: CheckOptions,
    push_registry: String,
) -> impl Fn(&str) -> Result<(), String> + Send + Sync {
    let found: Mutex<HashSet<String>> = Mutex::new(HashSet::new());
    move |image: &str| {
        let seen = |set: &Mutex<HashSet<String>>| {
            set.lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .contains(image)
        };
        if seen(&found) {
            return Ok(());
        }
        let parsed = ImageRef::parse(image).map_err(|why| {
            format!("invalid pod image {image:?}: {why}; fix SFORGE_K8S_IMAGE_REGISTRY")
        })?;
        match ref_exists(&parsed, &opts) {
            Ok(true) => {
                found
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .insert(image.to_owned());
                Ok(())
            }
            Ok(false) => Err(format!(
                "image {image} is not in the registry {}: push it (sforge push --registry \
                 {push_registry} --task <id>) or fix SFORGE_K8S_IMAGE_REGISTRY",
                parsed.registry
            )),
            Err(e) => Err(format!("cannot check that image {image} exists: {e}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insecure_lists_are_trimmed() {
        assert_eq!(
            parse_insecure_list(" reg.lan:5000, http://10.0.0.2:80/ ,,other "),
            ["reg.lan:5000", "10.0.0.2:80", "other"]
        );
        assert!(parse_insecure_list("").is_empty());
    }

    #[test]
    fn bad_references_fail_before_any_request() {
        let err = image_exists("Bad/Name", &CheckOptions::default()).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("invalid image reference \"Bad/Name\""),
            "{err}"
        );
    }
}
