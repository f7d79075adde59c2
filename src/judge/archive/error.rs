//! Why a submission was refused as a whole.

use std::io;

use super::limits::Limit;

/// Why a submission was refused as a whole (single entries are rejected, not errors).
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("not a gzip-compressed tar archive: {0}")]
    NotAnArchive(String),
    #[error("archive refused: its {limit} exceeds the limit of {max}")]
    TooLarge { limit: Limit, max: u64 },
    /// A name the judge could not extract: the agent's error, refused as a whole.
    #[error(
        "archive refused: `{name}` has a name component of {len} bytes; at most {max} are allowed"
    )]
    NameTooLong {
        name: String,
        len: usize,
        max: usize,
    },
    /// A non-directory where the judge keeps a directory holding excluded (judge-owned) paths.
    #[error(
        "archive refused: `{name}` is not a directory, but the judge keeps excluded paths below \
         `{name}/`; it would replace the judge's directory"
    )]
    ReplacesExcludedDir { name: String },
    #[error("archive refused: {0}")]
    Unsupported(&'static str),
    // The I/O error is part of the message (not a `#[source]`): callers log `to_string()`.
    #[error("cannot read the archive: {0}")]
    Read(io::Error),
    #[error("corrupt archive: {0}")]
    Corrupt(io::Error),
    #[error("cannot write the sanitised archive: {0}")]
    Write(io::Error),
}
