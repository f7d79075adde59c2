//! Whether an image exists in its registry, asked over the registry HTTP API (v2): a `HEAD` of
//! the manifest, HTTPS by default and plain HTTP for loopback and listed insecure registries,
//! with token (`Bearer`) and `Basic` authentication from Docker's `config.json`. The k8s backend
//! runs it before creating a pod ([`pod_image_check`]).

mod challenge;
mod client;
mod credentials;
mod error;
mod options;
mod reference;

use std::collections::HashSet;
use std::sync::Mutex;

pub use challenge::{parse as parse_challenges, Challenge};
pub use credentials::default_docker_config_dir;
pub use error::{PodImageError, RegistryCheckError};
pub use options::{parse_insecure_list, CheckOptions};
pub use reference::{is_loopback, ImageRef, ReferenceError, DOCKER_HUB};

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
) -> impl Fn(&str) -> Result<(), PodImageError> + Send + Sync {
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
        let parsed = ImageRef::parse(image).map_err(|why| PodImageError::Invalid {
            image: image.to_owned(),
            why,
        })?;
        match ref_exists(&parsed, &opts) {
            Ok(true) => {
                found
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .insert(image.to_owned());
                Ok(())
            }
            Ok(false) => Err(PodImageError::Missing {
                image: image.to_owned(),
                registry: parsed.registry.clone(),
                push_registry: push_registry.clone(),
            }),
            Err(source) => Err(PodImageError::Check {
                image: image.to_owned(),
                source,
            }),
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
