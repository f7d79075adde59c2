//! The run lifecycle (`sforge run`): the orchestrator takes resolved settings and tasks, prepares
//! each task (agent, prompt, egress), sets up backends, images and the judge, then runs each task
//! (`task_run`: Work container, install, agent under its deadline with auto-eval, final round).

pub mod agent;
mod agent_exec;
mod agent_output;
mod autoeval;
mod backends;
pub mod console;
mod error;
mod finalise;
mod game_end;
mod judge;
pub mod judge_client;
mod keyless;
mod orchestrator;
pub mod outputs;
mod prepare;
pub mod progress;
mod progress_view;
mod report;
mod shared;
mod task_install;
mod task_plan;
mod task_run;
mod workspace;

pub use agent_exec::{AgentExec, AgentOutcome};
pub use backends::SKIP_RULES_HOOK;
pub use error::RunError;
pub use keyless::ADMIN_SECRET_VAR;
pub use orchestrator::{execute, RunRequest};
pub use prepare::{setting_warnings, AgentPlan, TaskPlan};
pub use report::RunReport;
