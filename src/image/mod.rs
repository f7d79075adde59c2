//! Images: Dockerfile rendering, and building, pushing and pulling through the docker CLI.

mod board;
mod build;
mod builder;
mod docker;
mod registry;
pub mod registry_check;
mod render;
mod spec;

pub use board::Board;
pub use build::{
    build_tasks, image_digests, record_digests, BuildEvents, BuildOptions, ImageResult, Outcome,
    Quiet, TaskResult, Unbuildable,
};
pub use builder::{
    builds_stopped, stop_builds, strip_ansi, BuildError, BuildFailure, ImageBuilder, NoBuildKit,
    SECRETS_DIR_PREFIX,
};
pub use docker::{parse_image_list, Docker, ImageDigest};
pub use registry::{default_backoff, Registry, Transfer};
pub use registry_check::{
    image_exists, pod_image_check, CheckOptions, PodImageError, RegistryCheckError,
};
pub use render::{base_spec, task_spec};
pub use spec::{BuildSpec, Role};
