//! Everything that can stop a fetch, each with what to do about it.

use std::path::PathBuf;

use super::paths::PathProblem;

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("unknown benchmark '{name}'. Available: {available}; give --repo ORG/NAME to fetch another dataset")]
    UnknownBenchmark { name: String, available: String },
    #[error("invalid dataset id {0:?}: expected ORG/NAME, for example ByteDance-Seed/EdgeBench")]
    BadRepo(String),
    #[error("invalid --revision {0:?}: give a branch, tag or commit")]
    BadRevision(String),
    #[error("invalid HF_ENDPOINT {url:?}: {reason}")]
    BadEndpoint { url: String, reason: String },
    #[error("invalid proxy or CA settings for the Hub: {0}")]
    Network(String),
    #[error("HF_HUB_OFFLINE is set and {} holds no complete fetch of {repo}: unset HF_HUB_OFFLINE to download it", dest.display())]
    Offline { repo: String, dest: PathBuf },
    #[error("cannot reach the Hugging Face Hub at {url}: {reason} (check the network, HF_ENDPOINT, the proxy variables and, for a private CA, SFORGE_CA_FILE)")]
    Unreachable { url: String, reason: String },
    #[error("dataset {repo} not found at {endpoint} (if it is private or gated, set HF_TOKEN to a token that can read it)")]
    RepoNotFound { repo: String, endpoint: String },
    #[error("revision {revision:?} not found in dataset {repo}")]
    RevisionNotFound { repo: String, revision: String },
    #[error("the Hub rejected the token from HF_TOKEN for {repo} (HTTP 401{message}): check or renew the token")]
    BadToken { repo: String, message: String },
    #[error("access to dataset {repo} denied (HTTP 403{message}): accept its conditions on the Hub or use a token with access")]
    Forbidden { repo: String, message: String },
    #[error("the Hub answered {url} with HTTP {status}{message}")]
    Http {
        url: String,
        status: u16,
        message: String,
    },
    #[error("too many redirects from {url}")]
    Redirects { url: String },
    #[error("refusing a redirect from {from} to {to}: {reason}")]
    BadRedirect {
        from: String,
        to: String,
        reason: &'static str,
    },
    #[error("the Hub sent an invalid listing of {repo}: {reason}")]
    Listing { repo: String, reason: String },
    #[error("the Hub listed an unsafe file path {path:?} ({problem}); nothing was written")]
    UnsafePath { path: String, problem: PathProblem },
    #[error("the dataset is too large: {what} exceeds the limit of {limit}")]
    TooLarge { what: String, limit: u64 },
    #[error(
        "{path}: the Hub sent more than the {expected} bytes it listed; the download was discarded"
    )]
    Oversized { path: String, expected: u64 },
    #[error("{path}: the download stopped after {got} of {expected} bytes ({reason}); run the command again to resume")]
    Truncated {
        path: String,
        got: u64,
        expected: u64,
        reason: String,
    },
    #[error("{path}: {algorithm} mismatch (the Hub listed {expected}, the download has {actual}); the download was discarded")]
    HashMismatch {
        path: String,
        algorithm: &'static str,
        expected: String,
        actual: String,
    },
    #[error("{path}: the Hub served commit {served} instead of {expected}")]
    CommitMismatch {
        path: String,
        served: String,
        expected: String,
    },
    #[error("{path}: the Hub answered a resumed download with an unexpected range {range:?}")]
    BadRange { path: String, range: String },
    #[error("local changes in {} would be lost: {files}; keep a copy and use --force to replace them", dest.display())]
    LocalEdits { dest: PathBuf, files: String },
    #[error("{} has a directory or symbolic link at (or on the way to) {files}; sforge never writes through them: move them away first", dest.display())]
    Blocked { dest: PathBuf, files: String },
    #[error("another sforge fetch-tasks is using {} (for the same destination): wait for it to finish", .0.display())]
    Busy(PathBuf),
    #[error("{} exists and is not a directory", .0.display())]
    DestNotDir(PathBuf),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} is not a valid fetch manifest: {reason}; remove it to fetch from scratch (files already there then count as local edits)", path.display())]
    Manifest { path: PathBuf, reason: String },
}

/// An `Io` error naming `path`.
pub fn io_error(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> FetchError {
    let path = path.into();
    move |source| FetchError::Io { path, source }
}
