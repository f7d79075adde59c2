//! The judge: grading submissions in fresh judge containers (`pipeline`), safely (`archive`),
//! with SForge 1.0's parsers, selection and rescaling (`grading`), behind an HTTP API (`server`);
//! judge images are provisioned before any grading (`provision`).

mod acquire;
pub mod api;
pub mod archive;
mod batch;
mod container;
mod error;
pub mod game;
pub mod grading;
pub mod launch;
mod pipeline;
mod plan;
pub mod pool;
mod provision;
pub mod server;
mod service;
mod steps;

pub use archive::Limits;
pub use batch::grade_all;
pub use container::{container_name, judge_container, judge_env, JudgeLimits, GRADER_LABEL};
pub use error::JudgeError;
pub use grading::Report;
pub use pipeline::{Judge, Submission};
pub use plan::Planned;
pub use provision::{provision_judge_images, ProvisionError};
pub use service::{history_fields, ContainerGrader, TaskPolicy};
