//! Why a submission could not be graded: a failure of the harness, never a zero score.

use std::path::PathBuf;

use super::grading::{GradeError, RescaleError};
use crate::sandbox::SandboxError;

/// An infrastructure failure: the submission could not be graded (it is not a zero).
#[derive(Debug, thiserror::Error)]
pub enum JudgeError {
    #[error("cannot create {}: {source}", path.display())]
    CreateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot read the archive: {0}")]
    ReadArchive(std::io::Error),
    #[error(
        "judge image {image} is missing: build it (sforge build --task {task}) or pull it \
         (sforge pull --task {task}) first"
    )]
    ImageMissing { image: String, task: String },
    #[error("cannot {what}: {source}")]
    Sandbox {
        what: &'static str,
        source: Box<SandboxError>,
    },
    #[error("cannot render eval.sh: {0}")]
    Template(minijinja::Error),
    #[error("cannot run the evaluation: {0}")]
    Evaluate(Box<SandboxError>),
    #[error("the evaluation did not start in the judge container: {0}")]
    NeverStarted(String),
    #[error("not graded: the judge is stopping (interrupted)")]
    Stopping,
    #[error("cannot grade: {0}")]
    Grade(GradeError),
    #[error("cannot rescale the score: {0}")]
    Rescale(RescaleError),
    #[error("cannot encode report.json: {0}")]
    Encode(serde_json::Error),
    #[error("cannot write report.json: {0}")]
    WriteReport(std::io::Error),
}
