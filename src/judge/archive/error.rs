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
    // The I/O error is part of the message (not a `#[source]`): callers log `to_string()`.
    #[error("cannot read the archive: {0}")]
    Read(io::Error),
    #[error("corrupt archive: {0}")]
    Corrupt(io::Error),
    #[error("cannot write the sanitised archive: {0}")]
    Write(io::Error),
}
