//! One override block of an experiment file (`defaults:` or `tasks.<id>:`) as a settings layer.
//! Within a block the `cpu_limit`/`mem_limit` shorthands set work and judge, specific keys win.

use std::collections::BTreeMap;
use std::path::Path;

use super::error::ConfigError;
use super::parse;
use super::settings::{Backend, Layer};
use super::source::{Source, Sourced};
use crate::yaml::Yaml;

/// Names to values (`extra_env`).
type StringMap = BTreeMap<String, String>;

pub(crate) struct Block<'a> {
    pub file: &'a Path,
    /// `defaults` or `tasks.<id>`.
    pub key: String,
    pub value: &'a Yaml,
}

const KEYS: [&str; 20] = [
    "agent",
    "model",
    "timeout",
    "eval_interval",
    "max_submissions",
    "submission_cooldown",
    "disable_stop_hook",
    "disable_auto_eval",
    "disable_auto_resume",
    "internet",
    "cpu_limit",
    "mem_limit",
    "work_cpu_limit",
    "judge_cpu_limit",
    "work_mem_limit",
    "judge_mem_limit",
    "extra_env",
    "backend",
    "judge_url",
    "ca_file",
];

impl Block<'_> {
    fn err(&self, key: &str, message: impl Into<String>) -> ConfigError {
        ConfigError::Field {
            file: self.file.to_owned(),
            key: format!("{}.{key}", self.key),
            message: message.into(),
        }
    }

    fn sourced<T>(&self, key: &str, value: T) -> Sourced<T> {
        let source = Source::Experiment {
            file: self.file.to_owned(),
            key: format!("{}.{key}", self.key),
        };
        Sourced::new(value, source)
    }

    fn get(&self, key: &str) -> Option<&Yaml> {
        self.value.get(key).filter(|v| !matches!(v, Yaml::Null))
    }

    fn text(&self, key: &str) -> Result<Option<String>, ConfigError> {
        match self.get(key) {
            None => Ok(None),
            Some(Yaml::Seq(_) | Yaml::Map(_)) => Err(self.err(key, "expected a single value")),
            Some(v) => Ok(Some(v.to_python_str())),
        }
    }

    fn whole<T: TryFrom<i128>>(&self, key: &str, what: &str) -> Result<Option<T>, ConfigError> {
        match self.get(key) {
            None => Ok(None),
            Some(Yaml::Int(n)) => T::try_from(*n)
                .map(Some)
                .map_err(|_| self.err(key, format!("expected {what}"))),
            Some(Yaml::Str(s)) => s
                .trim()
                .parse::<i128>()
                .ok()
                .and_then(|n| T::try_from(n).ok())
                .map(Some)
                .ok_or_else(|| self.err(key, format!("expected {what}, found {s:?}"))),
            Some(other) => Err(self.err(key, format!("expected {what}, found {}", other.kind()))),
        }
    }

    fn boolean(&self, key: &str) -> Result<Option<bool>, ConfigError> {
        match self.get(key) {
            None => Ok(None),
            Some(Yaml::Bool(b)) => Ok(Some(*b)),
            Some(Yaml::Int(0)) => Ok(Some(false)),
            Some(Yaml::Int(1)) => Ok(Some(true)),
            Some(Yaml::Str(s)) => parse::boolean(s)
                .map(Some)
                .map_err(|e| self.err(key, format!("expected {e}, found {s:?}"))),
            Some(other) => Err(self.err(
                key,
                format!("expected true or false, found {}", other.kind()),
            )),
        }
    }

    fn mem(&self, key: &str) -> Result<Option<String>, ConfigError> {
        self.text(key)?
            .map(|t| {
                parse::mem_limit(&t)
                    .map_err(|e| self.err(key, format!("expected {e}, found {t:?}")))
            })
            .transpose()
    }

    fn map(&self, key: &str) -> Result<Option<StringMap>, ConfigError> {
        match self.get(key) {
            None => Ok(None),
            Some(Yaml::Map(entries)) => Ok(Some(
                entries
                    .iter()
                    .map(|(k, v)| {
                        (
                            k.to_python_str(),
                            if matches!(v, Yaml::Null) {
                                String::new()
                            } else {
                                v.to_python_str()
                            },
                        )
                    })
                    .collect(),
            )),
            Some(other) => Err(self.err(
                key,
                format!("expected a mapping of NAME: value, found {}", other.kind()),
            )),
        }
    }
}

/// Convert a block to a layer; an empty or null block is an empty layer.
pub(crate) fn block_layer(b: &Block<'_>) -> Result<Layer, ConfigError> {
    match b.value {
        Yaml::Null => return Ok(Layer::default()),
        Yaml::Map(entries) => {
            for (k, _) in entries {
                let k = k.to_python_str();
                if !k.starts_with("x-") && !KEYS.contains(&k.as_str()) {
                    log::warn!("{}: ignoring unknown key `{}.{k}`", b.file.display(), b.key);
                }
            }
        }
        other => {
            return Err(ConfigError::Field {
                file: b.file.to_owned(),
                key: b.key.clone(),
                message: format!("expected a mapping, found {}", other.kind()),
            })
        }
    }
    let mut l = Layer::default();
    let cpus = "a whole number of CPUs, e.g. 4";
    let secs = "a whole number of seconds";
    if let Some(cpu) = b.whole::<u32>("cpu_limit", cpus)? {
        l.work_cpu_limit = Some(b.sourced("cpu_limit", Some(cpu)));
        l.judge_cpu_limit = l.work_cpu_limit.clone();
    }
    if let Some(mem) = b.mem("mem_limit")? {
        l.work_mem_limit = Some(b.sourced("mem_limit", Some(mem)));
        l.judge_mem_limit = l.work_mem_limit.clone();
    }
    if let Some(v) = b.whole::<u32>("work_cpu_limit", cpus)? {
        l.work_cpu_limit = Some(b.sourced("work_cpu_limit", Some(v)));
    }
    if let Some(v) = b.whole::<u32>("judge_cpu_limit", cpus)? {
        l.judge_cpu_limit = Some(b.sourced("judge_cpu_limit", Some(v)));
    }
    if let Some(v) = b.mem("work_mem_limit")? {
        l.work_mem_limit = Some(b.sourced("work_mem_limit", Some(v)));
    }
    if let Some(v) = b.mem("judge_mem_limit")? {
        l.judge_mem_limit = Some(b.sourced("judge_mem_limit", Some(v)));
    }
    l.agent = b.text("agent")?.map(|v| b.sourced("agent", Some(v)));
    l.agent_model = b.text("model")?.map(|v| b.sourced("model", Some(v)));
    // A timeout of 0 means "not set", as on the command line.
    l.agent_timeout = b
        .whole::<u64>("timeout", secs)?
        .map(|v| b.sourced("timeout", (v > 0).then_some(v)));
    l.eval_interval = b
        .whole::<u64>("eval_interval", secs)?
        .map(|v| b.sourced("eval_interval", v));
    l.max_submissions = b
        .whole::<u32>("max_submissions", "a whole number")?
        .map(|v| b.sourced("max_submissions", Some(v)));
    l.submission_cooldown = b
        .whole::<u64>("submission_cooldown", secs)?
        .map(|v| b.sourced("submission_cooldown", Some(v)));
    l.disable_stop_hook = b
        .boolean("disable_stop_hook")?
        .map(|v| b.sourced("disable_stop_hook", v));
    l.disable_auto_eval = b
        .boolean("disable_auto_eval")?
        .map(|v| b.sourced("disable_auto_eval", v));
    l.disable_auto_resume = b
        .boolean("disable_auto_resume")?
        .map(|v| b.sourced("disable_auto_resume", v));
    l.internet = b.boolean("internet")?.map(|v| b.sourced("internet", v));
    l.agent_extra_env = b.map("extra_env")?.map(|v| b.sourced("extra_env", v));
    l.judge_url = b.text("judge_url")?.map(|v| b.sourced("judge_url", v));
    // A relative path is relative to the experiment file, not to where sforge runs.
    l.ca_file = b.text("ca_file")?.map(|v| {
        let dir = b.file.parent().unwrap_or_else(|| Path::new("."));
        b.sourced("ca_file", Some(dir.join(v)))
    });
    if let Some(t) = b.text("backend")? {
        let backend = Backend::parse(&t)
            .map_err(|e| b.err("backend", format!("expected {e}, found {t:?}")))?;
        l.backend = Some(b.sourced("backend", backend));
    }
    Ok(l)
}
