//! The run lifecycle (`sforge run`): an agent in a Work container against the judge.

pub mod agent;
mod agent_exec;
mod autoeval;
pub mod judge_client;
pub mod outputs;
pub mod plan;
mod run_log;
mod task_install;
pub mod task_run;
mod workspace;

pub use agent_exec::{AgentExec, AgentOutcome};
pub use plan::{AgentPlan, ContainerFile, InstallStep, User};
pub use task_run::{RunLog, RunShared, TaskRun};
