//! Why a visualizer request could not be answered; each maps to one HTTP status.

use std::path::PathBuf;

/// A request the visualizer refuses or cannot answer (the message is shown to the user).
#[derive(Debug, thiserror::Error)]
pub enum VizError {
    #[error("not found: {0}")]
    NotFound(String),
    #[error("invalid name {0:?}: names may hold letters, digits and . _ - + @ = only")]
    BadName(String),
    #[error("{0} is outside the runs directory")]
    Outside(PathBuf),
    #[error("{path} is {size} bytes, more than the {limit} bytes shown")]
    TooLarge {
        path: PathBuf,
        size: u64,
        limit: u64,
    },
    #[error("{path} is not valid JSON: {error}")]
    Malformed { path: PathBuf, error: String },
    #[error("cannot read {path}: {error}")]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("bad request: {0}")]
    BadRequest(String),
}

impl VizError {
    /// The HTTP status answered for this error.
    #[must_use]
    pub fn status(&self) -> u16 {
        match self {
            VizError::NotFound(_) => 404,
            VizError::BadName(_) | VizError::BadRequest(_) => 400,
            VizError::Outside(_) => 403,
            VizError::TooLarge { .. } => 413,
            VizError::Malformed { .. } => 422,
            VizError::Io { .. } => 500,
        }
    }

    pub(crate) fn io(path: &std::path::Path, error: std::io::Error) -> Self {
        if matches!(
            error.kind(),
            std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
        ) {
            return VizError::NotFound(path.display().to_string());
        }
        VizError::Io {
            path: path.to_owned(),
            error,
        }
    }
}
