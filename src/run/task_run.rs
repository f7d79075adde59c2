//! One task of a run, end to end: images, Work container, tools, prompt, registration, the agent
//! under its deadline with auto-eval, the final round, the judge's history, and cleanup.

use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::agent::ContainerFile;
use super::agent_exec::{AgentExec, AgentOutcome};
use super::agent_output::AgentOutput;
use super::autoeval::{AutoEval, AutoEvalJob};
use super::error::RunError;
use super::judge_client::Registration;
use super::outputs::FinalResult;
use super::prepare::AgentPlan;
use super::prepare::TaskPlan;
use crate::clock;
use crate::config::Settings;
use crate::isolation::{Applied, Egress, Isolator, Owner};
use crate::run_log::RunLog;
use crate::sandbox::lease::{self, LeaseKeeper};
use crate::sandbox::{labels, ContainerSpec, Role, Sandbox};
use crate::task::Task;

use super::shared::RunShared;
use super::workspace::SnapshotLimits;

/// Time allowed besides the agent's budget before a Work container counts as garbage for
/// `sforge gc` (installing the agent before, the final round and draining after).
const SETUP_AND_FINALISE: Duration = Duration::from_secs(3 * 3600);

/// One task to run.
pub struct TaskRun<'a> {
    pub shared: &'a RunShared,
    pub task: &'a Task,
    pub settings: &'a Settings,
    pub agent: &'a AgentPlan,
    /// Container environment without the token (see [`TaskRun::run`]).
    pub env: Vec<(String, String)>,
    /// The prompt text.
    pub prompt: &'a str,
    /// Extra files (sforge-submit) besides the agent's own.
    pub tools: &'a [ContainerFile],
    /// What the Work container may reach when internet is off (`None`: internet on).
    pub egress: Option<&'a Egress>,
}

impl<'a> TaskRun<'a> {
    /// The run of `plan` with the Work container environment `env`.
    #[must_use]
    pub fn new(shared: &'a RunShared, plan: &'a TaskPlan, env: Vec<(String, String)>) -> Self {
        TaskRun {
            shared,
            task: &plan.task,
            settings: &plan.settings,
            agent: &plan.agent,
            env,
            prompt: &plan.prompt,
            tools: &plan.tools,
            egress: plan.egress.as_ref(),
        }
    }
}

impl TaskRun<'_> {
    /// The sandbox of this task's backend.
    pub(super) fn sandbox(&self) -> &Arc<dyn Sandbox> {
        &self.shared.sandboxes[&self.settings.backend.value]
    }

    pub(super) fn isolation(&self) -> Option<&Arc<dyn Isolator>> {
        self.shared.isolations.get(&self.settings.backend.value)
    }

    /// The ownership labels of the Work container.
    pub(super) fn labels(&self) -> BTreeMap<String, String> {
        labels(
            &self.shared.run_id,
            &self.task.task_id,
            Role::Work,
            &self.shared.owner,
        )
    }

    /// Whose container it is, for the isolation rules.
    pub(super) fn owner<'l>(&'l self, labels: &'l BTreeMap<String, String>) -> Owner<'l> {
        Owner {
            run_id: &self.shared.run_id,
            task: &self.task.task_id,
            owner: &self.shared.owner,
            labels,
        }
    }

    /// When the Work container is garbage whatever its process does: the agent's budget and
    /// grace plus [`SETUP_AND_FINALISE`] from now.
    fn expires(&self) -> u64 {
        let budget = self
            .settings
            .agent_timeout
            .value
            .unwrap_or(self.agent.default_timeout);
        clock::epoch_secs() + budget + self.shared.grace.as_secs() + SETUP_AND_FINALISE.as_secs()
    }

    pub(super) fn dir(&self) -> PathBuf {
        self.shared.run_dir.join(&self.task.task_id)
    }

    pub(super) fn container(&self) -> String {
        format!("sforge.run.{}.{}", self.task.task_id, self.shared.run_id)
    }

    /// Run the task; the result is always returned (errors are recorded in it), and the container
    /// is removed whatever happened.
    pub fn execute(&self, log: &RunLog) -> FinalResult {
        let mut result = FinalResult {
            agent: self.agent.name.clone(),
            task: self.task.task_id.clone(),
            run_id: self.shared.run_id.clone(),
            model: self.settings.agent_model.value.clone(),
            ..FinalResult::default()
        };
        let mut applied = None;
        let outcome = self.phases(log, &mut result, &mut applied);
        if let Err(e) = &outcome {
            log.error(&e.to_string());
            result.error = Some(e.to_string());
        }
        let started = Instant::now();
        if let (Some(applied), Some(isolation)) = (&applied, self.isolation()) {
            for warning in isolation.remove(applied) {
                log.line(&format!("warning: {warning}"));
            }
            match applied {
                Applied::Chain(c) => log.line(&format!("iptables chain {} removed", c.plan.chain)),
                Applied::Policy { .. } => log.line("NetworkPolicy removed"),
            }
        }
        if let Err(e) = self.sandbox().remove(&self.container()) {
            log.line(&format!("warning: {e}"));
        }
        add_phase(&mut result.phase_seconds, "cleanup", started);
        result
    }

    fn phases(
        &self,
        log: &RunLog,
        result: &mut FinalResult,
        applied: &mut Option<Applied>,
    ) -> Result<(), RunError> {
        let progress = &self.shared.progress;
        let id = self.task.task_id.as_str();
        progress.phase(id, "create");
        let t = Instant::now();
        self.create(log, true)?;
        // From here the container stops by itself if this process dies (lease.rs).
        let lease = LeaseKeeper::start(Arc::clone(self.sandbox()), self.container());
        add_phase(&mut result.phase_seconds, "create", t);
        progress.phase(id, "install");
        let t = Instant::now();
        self.install(log)?;
        add_phase(&mut result.phase_seconds, "install", t);
        if let Some(egress) = self.egress {
            progress.phase(id, "isolate");
            let t = Instant::now();
            self.isolate(log, egress, applied)?;
            add_phase(&mut result.phase_seconds, "isolate", t);
        }
        let budget = Duration::from_secs(
            self.settings
                .agent_timeout
                .value
                .unwrap_or(self.agent.default_timeout),
        );
        let deadline = clock::epoch_seconds() + budget.as_secs_f64();
        let registration = Registration {
            judge_cpu_limit: self.settings.judge_cpu_limit.value,
            judge_mem_limit: self.settings.judge_mem_limit.value.clone(),
            max_agent_submissions: self.settings.max_submissions.value,
            submission_cooldown: self.settings.submission_cooldown.value,
            deadline: Some(deadline),
            internet: Some(self.settings.internet.value),
        };
        let token =
            self.shared
                .client
                .register(&self.task.task_id, &self.shared.run_id, &registration)?;
        log.line("registered with the judge");
        progress.registered(id, &token);
        lease.hold_until(deadline_with_grace(deadline, self.shared.grace));
        progress.phase(id, "agent");
        progress.agent_started(id, budget);
        let t = Instant::now();
        let agent = self.run_agent(log, &token, budget, deadline)?;
        add_phase(&mut result.phase_seconds, "agent", t);
        result.runtime_seconds = agent.runtime_seconds;
        result.timed_out = agent.timed_out;
        result.interrupted = agent.interrupted;
        result.resume_count = agent.resume_count;
        progress.phase(id, "finalise");
        let t = Instant::now();
        self.finalise(log, &token, result)?;
        add_phase(&mut result.phase_seconds, "finalise", t);
        match agent.stopped_because {
            Some(reason) if !agent.timed_out && agent.last_exit_code != Some(0) => {
                Err(RunError::AgentFailed {
                    code: agent
                        .last_exit_code
                        .map_or_else(|| "none".to_owned(), |c| c.to_string()),
                    reason,
                })
            }
            _ => Ok(()),
        }
    }

    /// Cut the container off (everything but the judge and the API) and prove it.
    fn isolate(
        &self,
        log: &RunLog,
        egress: &Egress,
        applied: &mut Option<Applied>,
    ) -> Result<(), RunError> {
        let isolation = self.isolation().ok_or(RunError::NoIsolation)?;
        let labels = self.labels();
        let owner = self.owner(&labels);
        isolation
            .isolate(
                &**self.sandbox(),
                &self.container(),
                egress,
                &owner,
                applied,
                &|line| log.line(line),
            )
            .map_err(RunError::from)
    }

    /// Starts the Work container; `leased`, it ends by itself unless this process renews it,
    /// and its labels say which process that is and when it is garbage in any case.
    pub(super) fn create(&self, log: &RunLog, leased: bool) -> Result<(), RunError> {
        let name = self.container();
        let _ = self.sandbox().remove(&name);
        let mut labels = self.labels();
        if leased {
            labels.extend(lease::process_labels(self.expires()));
        }
        let mut spec = ContainerSpec {
            name: name.clone(),
            image: self.task.images.work.to_string(),
            labels,
            lifetime: leased.then_some(lease::FIRST_LEASE),
            env: self.env.clone(),
            cpu_limit: self.settings.work_cpu_limit.value,
            mem_limit: self.settings.work_mem_limit.value.clone(),
            // PID 1 (the keep-alive) runs as root so the agent cannot stop its own container;
            // every exec names its user.
            user: Some("root".into()),
            pids_limit: Some(8192),
            add_hosts: vec!["host.docker.internal:host-gateway".into()],
            ..ContainerSpec::default()
        };
        if let Some(egress) = self.egress {
            egress.adjust(&mut spec);
        }
        self.sandbox().start(&spec)?;
        log.line(&format!("work container {name} started"));
        Ok(())
    }

    fn run_agent(
        &self,
        log: &RunLog,
        token: &str,
        budget: Duration,
        deadline: f64,
    ) -> Result<AgentOutcome, RunError> {
        let dir = self.dir();
        let _ = fs::write(
            dir.join("started_at"),
            format!("{}\n{}\n", clock::timestamp(), clock::epoch_seconds()),
        );
        let interval = self.settings.eval_interval.value;
        // Game tasks have nothing to grade between sessions.
        let auto_eval =
            interval > 0 && !self.settings.disable_auto_eval.value && !self.task.game_mode;
        let auto = auto_eval.then(|| {
            AutoEval::start(AutoEvalJob {
                interval: Duration::from_secs(interval),
                sandbox: Arc::clone(self.sandbox()),
                container: self.container(),
                task: self.task.clone(),
                client: self.shared.client.clone(),
                token: token.to_owned(),
                ticks_log: dir.join("auto_eval_ticks.log"),
                limits: SnapshotLimits::from_settings(self.settings),
                scratch: dir.join("auto_eval_snapshot.tar.gz"),
            })
        });
        let mut env = self.env.clone();
        env.push(("SFORGE_TOKEN".into(), token.to_owned()));
        env.push(("SFORGE_DEADLINE".into(), format!("{deadline:.0}")));
        let exec = AgentExec {
            sandbox: Arc::clone(self.sandbox()),
            container: &self.container(),
            cwd: &self.task.cwd,
            user: "agent",
            env,
            grace: self.shared.grace,
            shutdown: Arc::clone(&self.shared.shutdown),
        };
        let mut out = AgentOutput::open(&dir.join("agent_output.txt"), self.shared.stream)?;
        let resume = (!self.settings.disable_auto_resume.value)
            .then_some(())
            .and(self.agent.resume_cmd.as_deref());
        log.line(&format!("agent started with {}s budget", budget.as_secs()));
        let outcome = exec.drive(
            &self.agent.run_cmd,
            resume,
            self.agent.resume_after_success,
            budget,
            &mut out,
        );
        if let Some(auto) = auto {
            auto.stop();
        }
        let outcome = outcome?;
        log.line(&format!(
            "agent finished: runtime {:.1}s, timed_out {}, interrupted {}, resumes {}{}",
            outcome.runtime_seconds,
            outcome.timed_out,
            outcome.interrupted,
            outcome.resume_count,
            outcome
                .stopped_because
                .as_deref()
                .map(|r| format!(", stopped because {r}"))
                .unwrap_or_default()
        ));
        Ok(outcome)
    }
}

/// The deadline plus the grace period, in whole epoch seconds.
#[allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "epoch seconds"
)]
fn deadline_with_grace(deadline: f64, grace: Duration) -> u64 {
    deadline.ceil() as u64 + grace.as_secs()
}

fn add_phase(phases: &mut BTreeMap<String, f64>, name: &str, started: Instant) {
    phases.insert(
        name.to_owned(),
        (started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0,
    );
}
