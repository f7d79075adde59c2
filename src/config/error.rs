//! Configuration errors: each names the variable, or the file and field, and the expected form.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("invalid {var}={value:?}: expected {expected}")]
    Env {
        var: String,
        value: String,
        expected: String,
    },
    #[error("{}: `{key}`: {message}", file.display())]
    Field {
        file: PathBuf,
        key: String,
        message: String,
    },
    #[error("{}: {message}", file.display())]
    File { file: PathBuf, message: String },
    #[error("invalid {flag} {value:?}: expected {expected}")]
    Flag {
        flag: String,
        value: String,
        expected: String,
    },
}
