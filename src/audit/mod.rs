//! `sforge audit`: red-teams a task's grader (docs/audit.md). A built-in corpus of adversarial
//! submissions, one small module per route, is graded by the task's real judge; each route that
//! beats the task's baseline (or leaks, or breaks the harness) is reported with its evidence.

mod archive;
mod attack;
mod exposure;
mod forge;
mod harness;
mod judging;
mod leak;
mod mask;
mod payload;
mod protected;
mod resource;
mod routes;
mod run;
mod score_check;
mod shadow;
mod shadow_build;
mod target;
mod verdict;
mod versus;

pub use archive::{build_archive, ArchiveError};
pub use attack::{Attack, Entry};
pub use mask::mask;
pub use routes::{Route, ROUTES};
pub use run::{audit_tasks, AuditError, AuditOptions, BaselineRun, TaskAudit};
pub use target::Target;
pub use verdict::{Check, Finding, Verdict};
