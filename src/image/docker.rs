//! The docker CLI as commands: argv builders (pure) and parsers of their output.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::spec::BuildSpec;
use crate::process::Cmd;

/// One docker client (`docker` on PATH by default, `SFORGE_DOCKER` to choose another).
#[derive(Debug, Clone)]
pub struct Docker {
    program: String,
}

/// Identity of a local image, for pinning in run records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImageDigest {
    pub image: String,
    /// The content-addressed image ID (`sha256:…`).
    pub id: String,
    /// Registry digests (`repo@sha256:…`), empty for images never pushed or pulled.
    pub repo_digests: Vec<String>,
}

impl Docker {
    #[must_use]
    pub fn new(program: impl Into<String>) -> Self {
        Docker {
            program: program.into(),
        }
    }

    #[must_use]
    pub fn program(&self) -> &str {
        &self.program
    }

    fn cmd(&self) -> Cmd {
        Cmd::new(&self.program)
    }

    /// `docker build` of `spec` from the context `dir`; secrets come from files in `secret_files`.
    #[must_use]
    pub fn build(
        &self,
        spec: &BuildSpec,
        dir: &Path,
        no_cache: bool,
        secret_files: &[(String, PathBuf)],
    ) -> Cmd {
        let mut cmd = self.cmd().args([
            "build",
            "--tag",
            &spec.image,
            "--platform",
            &spec.platform,
            "--rm",
            "--force-rm",
        ]);
        if no_cache {
            cmd = cmd.arg("--no-cache");
        }
        for (name, value) in &spec.proxy_env {
            // Value-less: docker reads it from its environment, so it is not on the command line.
            cmd = cmd.args(["--build-arg", name]).secret_env(name, value);
        }
        for host in &spec.extra_hosts {
            cmd = cmd.args([
                "--add-host".to_owned(),
                format!("{}:{}", host.host, host.ip),
            ]);
        }
        if !secret_files.is_empty() {
            cmd = cmd.env("DOCKER_BUILDKIT", "1").arg("--progress=plain");
            for (id, path) in secret_files {
                cmd = cmd.args([
                    "--secret".to_owned(),
                    format!("id={id},src={}", path.display()),
                ]);
            }
        }
        cmd.args([
            "--file".to_owned(),
            dir.join("Dockerfile").display().to_string(),
            dir.display().to_string(),
        ])
    }

    /// Every local `repository:tag`, in one call.
    #[must_use]
    pub fn list_images(&self) -> Cmd {
        self.cmd()
            .args(["image", "ls", "--format", "{{.Repository}}:{{.Tag}}"])
            .read_only()
    }

    /// IDs and registry digests of `images` (missing ones are left out of the output).
    #[must_use]
    pub fn inspect(&self, images: &[&str]) -> Cmd {
        self.cmd()
            .args([
                "image",
                "inspect",
                "--format",
                "{{json .RepoTags}} {{.Id}} {{json .RepoDigests}}",
            ])
            .args(images.iter().copied())
            .read_only()
    }

    #[must_use]
    pub fn tag(&self, source: &str, target: &str) -> Cmd {
        self.cmd().args(["tag", source, target])
    }

    #[must_use]
    pub fn push(&self, remote: &str) -> Cmd {
        self.cmd().args(["push", remote])
    }

    #[must_use]
    pub fn pull(&self, remote: &str) -> Cmd {
        self.cmd().args(["pull", remote])
    }

    /// Remove one tag (the image stays while other tags refer to it).
    #[must_use]
    pub fn untag(&self, image: &str) -> Cmd {
        self.cmd().args(["image", "rm", image])
    }

    /// Succeeds when the client has the buildx plugin.
    #[must_use]
    pub fn buildx_version(&self) -> Cmd {
        self.cmd().args(["buildx", "version"]).read_only()
    }

    #[must_use]
    pub fn client_version(&self) -> Cmd {
        self.cmd()
            .args(["version", "--format", "{{.Client.Version}}"])
            .read_only()
    }
}

/// Parse `list_images` output; `<none>` tags are dropped.
#[must_use]
pub fn parse_image_list(stdout: &str) -> BTreeSet<String> {
    stdout
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.contains("<none>"))
        .map(str::to_owned)
        .collect()
}

/// Parse `inspect` output into one digest record per requested image that exists.
#[must_use]
pub fn parse_inspect(stdout: &str, images: &[&str]) -> Vec<ImageDigest> {
    let mut out = Vec::new();
    for line in stdout.lines() {
        let mut parts = line.splitn(3, ' ');
        let (Some(tags), Some(id), Some(digests)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        let tags: Vec<String> = serde_json::from_str(tags).unwrap_or_default();
        let repo_digests: Vec<String> = serde_json::from_str(digests).unwrap_or_default();
        for image in images.iter().filter(|i| tags.iter().any(|t| t == *i)) {
            out.push(ImageDigest {
                image: (*image).to_owned(),
                id: id.to_owned(),
                repo_digests: repo_digests.clone(),
            });
        }
    }
    out
}

/// The first number of a version string such as `20.10.24+dfsg1`.
#[must_use]
pub fn major_version(version: &str) -> Option<u32> {
    version.trim().split('.').next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_list_drops_dangling_images() {
        let set = parse_image_list("a.base.x:123\n<none>:<none>\n\nb:latest\n");
        assert_eq!(
            set.into_iter().collect::<Vec<_>>(),
            ["a.base.x:123", "b:latest"]
        );
    }

    #[test]
    fn inspect_output_maps_back_to_requested_names() {
        let out = "[\"a:1\",\"b:2\"] sha256:abc [\"reg/a@sha256:def\"]\n[\"c:3\"] sha256:123 []\n";
        let d = parse_inspect(out, &["b:2", "c:3", "missing:0"]);
        assert_eq!(d.len(), 2);
        assert_eq!(
            d[0],
            ImageDigest {
                image: "b:2".into(),
                id: "sha256:abc".into(),
                repo_digests: vec!["reg/a@sha256:def".into()]
            }
        );
        assert_eq!(d[1].repo_digests, Vec::<String>::new());
    }

    #[test]
    fn versions() {
        assert_eq!(major_version("20.10.24+dfsg1"), Some(20));
        assert_eq!(major_version("28.2.2\n"), Some(28));
        assert_eq!(major_version("dev"), None);
    }
}
