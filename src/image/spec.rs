//! What to build: one image's role, name, generated files, build arguments and secrets.
//! Pure values, rendered from the settings and the task (see `render.rs`).

use std::path::{Path, PathBuf};

use crate::config::parse::HostEntry;
pub use crate::task::Role;

/// Everything `docker build` needs for one image.
#[derive(Debug, Clone)]
pub struct BuildSpec {
    pub role: Role,
    /// Local image name, `<repository>:<tag>`.
    pub image: String,
    pub platform: String,
    /// Files of the build context: the `Dockerfile` first, then the setup script if any.
    pub files: Vec<(String, String)>,
    /// Proxy variables passed as value-less `--build-arg NAME` (docker reads the value from
    /// its environment, so it is neither on the command line nor in the image history).
    pub proxy_env: Vec<(String, String)>,
    /// BuildKit secrets (`git_user`, `git_token`) with their values.
    pub secrets: Vec<(String, String)>,
    pub extra_hosts: Vec<HostEntry>,
}

impl BuildSpec {
    /// `<log_dir>/build_images/<role>/<name with ':' as '__'>/`.
    #[must_use]
    pub fn build_dir(&self, log_dir: &Path) -> PathBuf {
        log_dir
            .join("build_images")
            .join(self.role.as_str())
            .join(self.image.replace(':', "__"))
    }

    #[must_use]
    pub fn dockerfile(&self) -> &str {
        self.files.first().map_or("", |(_, text)| text.as_str())
    }

    /// Values that must never appear in logs or printed output.
    #[must_use]
    pub fn secret_values(&self) -> Vec<&str> {
        self.secrets
            .iter()
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
            .collect()
    }
}
