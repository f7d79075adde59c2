//! The judge: grading submissions in fresh judge containers (`pipeline`), safely (`archive`),
//! with SForge 1.0's parsers, selection and rescaling (`grading`), behind an HTTP API (`server`).

pub mod api;
pub mod archive;
mod container;
pub mod grading;
mod judge_image;
pub mod launch;
mod pipeline;
pub mod server;
mod service;

pub use archive::Limits;
pub use container::{container_name, judge_container, judge_env, JudgeLimits, GRADER_LABEL};
pub use grading::Report;
pub use pipeline::{Judge, JudgeError, Submission};
pub use service::{history_fields, ContainerGrader, TaskPolicy};
