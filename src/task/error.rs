//! Errors raised while loading tasks: each names the file, the field and how to fix it.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum TaskError {
    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{}: not found; every tasks directory needs a BENCHMARK.yaml \
         (point --tasks-dir or SFORGE_TASKS_DIR at the benchmark's directory)",
        path.display()
    )]
    MissingBenchmark { path: PathBuf },
    #[error("{}: invalid {format}: {message}", path.display())]
    Syntax {
        path: PathBuf,
        format: &'static str,
        message: String,
    },
    #[error("{}: field `{field}`: {message}", path.display())]
    Field {
        path: PathBuf,
        field: String,
        message: String,
    },
    #[error("task '{id}' not found at {} (run `sforge list` to see the available tasks)", path.display())]
    NotFound { id: String, path: PathBuf },
    /// A task id that is not a plain name is never looked up (it would name a path outside the
    /// tasks directory); shown escaped.
    #[error(
        "invalid task id {id:?}: task ids are plain names (letters, digits, '.', '_' and '-'; \
         run `sforge list` to see the available tasks)"
    )]
    InvalidId { id: String },
}

impl TaskError {
    pub(crate) fn field(
        path: impl Into<PathBuf>,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        TaskError::Field {
            path: path.into(),
            field: field.into(),
            message: message.into(),
        }
    }
}
