//! `BENCHMARK.yaml`: the benchmark name (image prefix) and its base images.
//! Each base entry keeps its raw YAML value, because the base hash covers the whole entry.

use std::path::{Path, PathBuf};

use super::error::TaskError;
use crate::yaml::{self, Yaml};

#[derive(Debug, Clone)]
pub struct Benchmark {
    pub path: PathBuf,
    pub name: String,
    /// In file order.
    pub base_images: Vec<BaseImage>,
}

/// One entry of `base_images`.
#[derive(Debug, Clone)]
pub struct BaseImage {
    pub key: String,
    pub official_image: String,
    pub extra_packages: Vec<String>,
    pub user_directive: Option<String>,
    pub pip_packages: Vec<String>,
    pub post_install_directive: Option<String>,
    /// The entry exactly as loaded (unknown keys included): the input of the base hash.
    pub spec: Yaml,
}

impl Benchmark {
    pub fn load(path: &Path) -> Result<Self, TaskError> {
        let text = std::fs::read_to_string(path).map_err(|source| match source.kind() {
            std::io::ErrorKind::NotFound => TaskError::MissingBenchmark {
                path: path.to_owned(),
            },
            _ => TaskError::Io {
                path: path.to_owned(),
                source,
            },
        })?;
        let doc = yaml::parse(&text).map_err(|e| TaskError::Syntax {
            path: path.to_owned(),
            format: "YAML",
            message: e.to_string(),
        })?;
        Self::from_yaml(path, &doc)
    }

    pub fn from_yaml(path: &Path, doc: &Yaml) -> Result<Self, TaskError> {
        let field = |name: &str, msg: String| TaskError::field(path, name, msg);
        if !matches!(doc, Yaml::Map(_)) {
            return Err(TaskError::Syntax {
                path: path.to_owned(),
                format: "BENCHMARK.yaml",
                message: format!("the top level must be a mapping, found {}", doc.kind()),
            });
        }
        let name = match doc.get("name") {
            Some(Yaml::Str(s)) if !s.is_empty() => s.clone(),
            None | Some(Yaml::Null) => {
                return Err(field(
                    "name",
                    "missing; add the benchmark name (the prefix of every image name)".into(),
                ))
            }
            Some(other) => {
                return Err(field(
                    "name",
                    format!("expected a non-empty string, found {}", other.kind()),
                ))
            }
        };
        let base_images = match doc.get("base_images") {
            None | Some(Yaml::Null) => Vec::new(),
            Some(Yaml::Map(entries)) => entries
                .iter()
                .map(|(k, v)| BaseImage::from_yaml(path, k, v))
                .collect::<Result<_, _>>()?,
            Some(other) => {
                return Err(field(
                    "base_images",
                    format!("expected a mapping, found {}", other.kind()),
                ))
            }
        };
        Ok(Benchmark {
            path: path.to_owned(),
            name,
            base_images,
        })
    }

    #[must_use]
    pub fn base(&self, key: &str) -> Option<&BaseImage> {
        self.base_images.iter().find(|b| b.key == key)
    }

    /// The keys of `base_images`, for error messages.
    #[must_use]
    pub fn base_keys(&self) -> Vec<&str> {
        self.base_images.iter().map(|b| b.key.as_str()).collect()
    }
}

impl BaseImage {
    fn from_yaml(path: &Path, key: &Yaml, spec: &Yaml) -> Result<Self, TaskError> {
        let key = key.to_python_str();
        let prefix = format!("base_images.{key}");
        let err = |name: &str, msg: String| TaskError::field(path, format!("{prefix}.{name}"), msg);
        if !matches!(spec, Yaml::Map(_)) {
            return Err(TaskError::field(
                path,
                &prefix,
                format!("expected a mapping, found {}", spec.kind()),
            ));
        }
        let string = |name: &str| -> Result<Option<String>, TaskError> {
            match spec.get(name) {
                None | Some(Yaml::Null) => Ok(None),
                Some(Yaml::Str(s)) => Ok(Some(s.clone())),
                Some(other) => Err(err(
                    name,
                    format!("expected a string, found {}", other.kind()),
                )),
            }
        };
        let list = |name: &str| -> Result<Option<Vec<String>>, TaskError> {
            match spec.get(name) {
                None | Some(Yaml::Null) => Ok(None),
                Some(Yaml::Seq(items)) => items
                    .iter()
                    .map(|i| match i {
                        Yaml::Str(s) => Ok(s.clone()),
                        other => Err(err(
                            name,
                            format!("expected a list of strings, found a {} item", other.kind()),
                        )),
                    })
                    .collect::<Result<Vec<_>, _>>()
                    .map(Some),
                Some(other) => Err(err(
                    name,
                    format!("expected a list of strings, found {}", other.kind()),
                )),
            }
        };
        let official_image = string("official_image")?.ok_or_else(|| {
            err(
                "official_image",
                "missing; add the image to start FROM, e.g. debian:bookworm-slim".into(),
            )
        })?;
        let extra_packages = list("extra_packages")?.ok_or_else(|| {
            err(
                "extra_packages",
                "missing; add the apt packages to install (at least git)".into(),
            )
        })?;
        Ok(BaseImage {
            key,
            official_image,
            extra_packages,
            user_directive: string("user_directive")?,
            pip_packages: list("pip_packages")?.unwrap_or_default(),
            post_install_directive: string("post_install_directive")?,
            spec: spec.clone(),
        })
    }
}
