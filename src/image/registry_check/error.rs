//! Why a registry could not say whether an image exists, and why a pod's image cannot be used.

use super::reference::ReferenceError;

/// Why a registry could not say whether an image exists.
#[derive(Debug, thiserror::Error)]
pub enum RegistryCheckError {
    #[error("invalid image reference {reference:?}: {why}")]
    Reference {
        reference: String,
        why: ReferenceError,
    },
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

/// Why a pod's image cannot be used (the k8s backend's check before creating a pod).
#[derive(Debug, thiserror::Error)]
pub enum PodImageError {
    #[error("invalid pod image {image:?}: {why}; fix SFORGE_K8S_IMAGE_REGISTRY")]
    Invalid { image: String, why: ReferenceError },
    #[error(
        "image {image} is not in the registry {registry}: push it (sforge push --registry \
         {push_registry} --task <id>) or fix SFORGE_K8S_IMAGE_REGISTRY"
    )]
    Missing {
        image: String,
        registry: String,
        push_registry: String,
    },
    #[error("cannot check that image {image} exists: {source}")]
    Check {
        image: String,
        source: RegistryCheckError,
    },
}
