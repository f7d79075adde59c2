//! Where a setting's value came from, shown by `sforge config` next to every value.

use std::fmt;
use std::path::PathBuf;

/// The origin of a resolved value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Default,
    /// A variable of the process environment.
    Env(String),
    /// A variable set by the `env:` section of an experiment file.
    ExperimentEnv {
        file: PathBuf,
        var: String,
    },
    /// A key of an experiment file, e.g. `defaults.cpu_limit` or `tasks.demo.timeout`.
    Experiment {
        file: PathBuf,
        key: String,
    },
    /// A field of the task JSON, e.g. `work.cpu_limit`.
    TaskFile {
        file: PathBuf,
        key: String,
    },
    /// A command-line flag, e.g. `--model`.
    Flag(String),
    /// Several layers contributed (maps merged by key), lowest first.
    Merged(Vec<Source>),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Default => f.write_str("default"),
            Source::Env(var) => write!(f, "env {var}"),
            Source::ExperimentEnv { file, var } => {
                write!(f, "experiment {} (env.{var})", file.display())
            }
            Source::Experiment { file, key } => write!(f, "experiment {} ({key})", file.display()),
            Source::TaskFile { file, key } => write!(f, "task {} ({key})", file.display()),
            Source::Flag(flag) => write!(f, "flag {flag}"),
            Source::Merged(parts) => {
                let parts: Vec<String> = parts.iter().map(ToString::to_string).collect();
                f.write_str(&parts.join(" + "))
            }
        }
    }
}

/// A value together with its origin.
#[derive(Debug, Clone, PartialEq)]
pub struct Sourced<T> {
    pub value: T,
    pub source: Source,
}

impl<T> Sourced<T> {
    pub fn new(value: T, source: Source) -> Self {
        Sourced { value, source }
    }
}
