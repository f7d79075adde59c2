//! Experiment files (`--experiment`): `env`, `model`, `defaults`, `tasks` and `stagger`.
//! Each section becomes a settings layer whose sources name the file and the key.

use std::path::{Path, PathBuf};

use super::env::EnvMap;
use super::error::ConfigError;
use super::overrides::{block_layer, Block};
use super::settings::Layer;
use super::source::{Source, Sourced};
use crate::yaml::{self, Yaml};

/// A loaded experiment file.
#[derive(Debug, Clone)]
pub struct Experiment {
    pub path: PathBuf,
    /// The `model:` section and `stagger`.
    pub top: Layer,
    pub defaults: Layer,
    /// Task ids in file order, each with its override layer.
    pub tasks: Vec<(String, Layer)>,
}

impl Experiment {
    /// Load `path`, adding its `env:` section to `env` first (the `model:` section may refer to it).
    pub fn load(path: &Path, env: &mut EnvMap) -> Result<Self, ConfigError> {
        let file_err = |message: String| ConfigError::File {
            file: path.to_owned(),
            message,
        };
        let text = std::fs::read_to_string(path)
            .map_err(|e| file_err(format!("cannot read the experiment file: {e}")))?;
        let doc = yaml::parse(&text).map_err(|e| file_err(format!("invalid YAML: {e}")))?;
        let Yaml::Map(entries) = &doc else {
            return Err(file_err("an experiment file must be a YAML mapping".into()));
        };
        for (key, _) in entries {
            let key = key.to_python_str();
            if !key.starts_with("x-") && !KNOWN_TOP_LEVEL.contains(&key.as_str()) {
                log::warn!("{}: ignoring unknown top-level key `{key}`", path.display());
            }
        }
        let ctx = Ctx { file: path };
        if let Some(section) = doc.get("env") {
            ctx.apply_env(section, env)?;
        }
        let mut top = doc
            .get("model")
            .map(|m| ctx.model(m, env))
            .transpose()?
            .unwrap_or_default();
        top.stagger = ctx.stagger(doc.get("stagger"))?;
        let defaults = match doc.get("defaults") {
            Some(block) => block_layer(&Block {
                file: path,
                key: "defaults".into(),
                value: block,
            })?,
            None => Layer::default(),
        };
        Ok(Experiment {
            path: path.to_owned(),
            top,
            defaults,
            tasks: ctx.tasks(doc.get("tasks"))?,
        })
    }

    /// The task ids the experiment runs, in file order.
    #[must_use]
    pub fn task_ids(&self) -> Vec<&str> {
        self.tasks.iter().map(|(id, _)| id.as_str()).collect()
    }

    /// The layers for one task, lowest priority first (the task block only if the task is listed).
    #[must_use]
    pub fn layers_for(&self, task_id: Option<&str>) -> Vec<&Layer> {
        let mut layers = vec![&self.top, &self.defaults];
        if let Some((_, layer)) = task_id.and_then(|id| self.tasks.iter().find(|(t, _)| t == id)) {
            layers.push(layer);
        }
        layers
    }
}

const KNOWN_TOP_LEVEL: [&str; 5] = ["env", "model", "defaults", "tasks", "stagger"];
const MODEL_KEYS: [&str; 3] = ["api_key", "api_base_url", "model"];

struct Ctx<'a> {
    file: &'a Path,
}

impl Ctx<'_> {
    fn field_err(&self, key: &str, message: impl Into<String>) -> ConfigError {
        ConfigError::Field {
            file: self.file.to_owned(),
            key: key.to_owned(),
            message: message.into(),
        }
    }

    fn source(&self, key: &str) -> Source {
        Source::Experiment {
            file: self.file.to_owned(),
            key: key.to_owned(),
        }
    }

    fn apply_env(&self, section: &Yaml, env: &mut EnvMap) -> Result<(), ConfigError> {
        match section {
            Yaml::Null => Ok(()),
            Yaml::Map(entries) => {
                for (k, v) in entries {
                    let value = match v {
                        Yaml::Null => String::new(),
                        Yaml::Seq(_) | Yaml::Map(_) => {
                            let key = format!("env.{}", k.to_python_str());
                            return Err(self.field_err(
                                &key,
                                "expected a single value, found a nested structure",
                            ));
                        }
                        scalar => scalar.to_python_str(),
                    };
                    env.set_from_experiment(&k.to_python_str(), &value, self.file.to_owned());
                }
                Ok(())
            }
            other => {
                Err(self.field_err("env", format!("expected a mapping, found {}", other.kind())))
            }
        }
    }

    fn model(&self, section: &Yaml, env: &EnvMap) -> Result<Layer, ConfigError> {
        let mut layer = Layer::default();
        let entries = match section {
            Yaml::Null => return Ok(layer),
            Yaml::Map(entries) => entries,
            other => {
                return Err(self.field_err(
                    "model",
                    format!("expected a mapping, found {}", other.kind()),
                ))
            }
        };
        for (k, v) in entries {
            let key = k.to_python_str();
            let full = format!("model.{key}");
            if !MODEL_KEYS.contains(&key.as_str()) {
                log::warn!(
                    "{}: ignoring unknown key `{full}` (known: {})",
                    self.file.display(),
                    MODEL_KEYS.join(", ")
                );
                continue;
            }
            let value = match v {
                Yaml::Null => None,
                Yaml::Seq(_) | Yaml::Map(_) => {
                    return Err(self.field_err(&full, "expected a string"))
                }
                scalar => Some(
                    expand_vars(&scalar.to_python_str(), env)
                        .map_err(|m| self.field_err(&full, m.to_string()))?,
                ),
            };
            let value = Some(Sourced::new(value, self.source(&full)));
            match key.as_str() {
                "api_key" => layer.agent_api_key = value,
                "api_base_url" => layer.agent_api_base_url = value,
                _ => layer.agent_model = value,
            }
        }
        Ok(layer)
    }

    fn stagger(&self, value: Option<&Yaml>) -> Result<Option<Sourced<Option<u64>>>, ConfigError> {
        match value {
            None | Some(Yaml::Null) => Ok(None),
            Some(Yaml::Int(n)) => u64::try_from(*n)
                .map(|n| Some(Sourced::new(Some(n), self.source("stagger"))))
                .map_err(|_| {
                    self.field_err("stagger", "expected a whole number of seconds (0 or more)")
                }),
            Some(other) => Err(self.field_err(
                "stagger",
                format!("expected a whole number of seconds, found {}", other.kind()),
            )),
        }
    }

    fn tasks(&self, section: Option<&Yaml>) -> Result<Vec<(String, Layer)>, ConfigError> {
        let empty = || {
            self.field_err(
                "tasks",
                "missing or empty; list the tasks to run, e.g. `tasks: {my_task: {}}`",
            )
        };
        let Some(Yaml::Map(entries)) = section else {
            return Err(match section {
                None | Some(Yaml::Null) => empty(),
                Some(other) => self.field_err(
                    "tasks",
                    format!("expected a mapping of task ids, found {}", other.kind()),
                ),
            });
        };
        if entries.is_empty() {
            return Err(empty());
        }
        entries
            .iter()
            .map(|(id, block)| {
                let id = id.to_python_str();
                let layer = block_layer(&Block {
                    file: self.file,
                    key: format!("tasks.{id}"),
                    value: block,
                })?;
                Ok((id, layer))
            })
            .collect()
    }
}

/// Why `${VAR}` could not be expanded.
#[derive(Debug, thiserror::Error)]
enum ExpandError {
    #[error("unterminated `${{` in {0:?}")]
    Unterminated(String),
    #[error("refers to ${{{0}}}, which is not set (export it or set it in the `env:` section)")]
    Unset(String),
}

/// Expand `${VAR}` from the environment; an unset variable is an error naming it.
fn expand_vars(text: &str, env: &EnvMap) -> Result<String, ExpandError> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find('}')
            .ok_or_else(|| ExpandError::Unterminated(text.to_owned()))?;
        let name = &after[..end];
        let value = env
            .get(name)
            .ok_or_else(|| ExpandError::Unset(name.to_owned()))?;
        out.push_str(value);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}
