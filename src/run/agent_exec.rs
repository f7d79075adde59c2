//! Running the agent inside the Work container: in its own session and process group, with the
//! output appended to `agent_output.txt`; at the deadline or on interrupt the whole group gets
//! TERM, then KILL after a grace period. Auto-resume with SForge 1.0's guards plus back-off.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use super::error::RunError;
use crate::sandbox::{ExecSpec, Sandbox};

/// Where the agent's session leader writes its process-group id.
const PGID_FILE: &str = "/tmp/sforge-agent.pgid";
/// Resumes at most (SForge 1.0's cap).
const MAX_RESUMES: u32 = 100;

/// How the agent is run.
pub struct AgentExec<'a> {
    pub sandbox: Arc<dyn Sandbox>,
    pub container: &'a str,
    pub cwd: &'a str,
    pub user: &'a str,
    pub env: Vec<(String, String)>,
    /// Between TERM and KILL.
    pub grace: Duration,
    pub shutdown: Arc<AtomicBool>,
}

/// The end of one agent segment.
#[derive(Debug, Clone, Copy)]
pub struct Segment {
    pub exit_code: Option<i32>,
    pub timed_out: bool,
    pub interrupted: bool,
    pub elapsed: Duration,
}

/// The end of the whole agent phase.
#[derive(Debug, Clone, Default)]
pub struct AgentOutcome {
    pub runtime_seconds: f64,
    pub timed_out: bool,
    pub interrupted: bool,
    pub resume_count: u32,
    /// Why the agent stopped early, if it did (e.g. the crash guard).
    pub stopped_because: Option<String>,
    pub last_exit_code: Option<i32>,
}

impl AgentExec<'_> {
    /// Run `cmd` (a bash command line) until it ends, `deadline` passes or shutdown is requested.
    pub fn segment(
        &self,
        cmd: &str,
        deadline: Instant,
        out: &mut dyn Write,
    ) -> Result<Segment, RunError> {
        let started = Instant::now();
        // The agent's stderr joins its stdout; setsid's own complaint about a killed child does not.
        let script = format!(
            "exec setsid -w bash -c 'echo $$ > {PGID_FILE}; exec bash -c \"$SFORGE_AGENT_CMD\" 2>&1' 2>/dev/null"
        );
        let mut env = self.env.clone();
        env.push(("SFORGE_AGENT_CMD".into(), cmd.to_owned()));
        let spec = ExecSpec {
            argv: vec!["bash".into(), "-c".into(), script],
            env,
            user: Some(self.user.to_owned()),
            workdir: Some(self.cwd.to_owned()),
            ..ExecSpec::default()
        };
        let (timed_out, interrupted) = (
            Arc::new(AtomicBool::new(false)),
            Arc::new(AtomicBool::new(false)),
        );
        let (done_tx, done_rx) = mpsc::channel::<()>();
        let watchdog = {
            let (sandbox, name, grace) = (
                Arc::clone(&self.sandbox),
                self.container.to_owned(),
                self.grace,
            );
            let (shutdown, t, i) = (
                Arc::clone(&self.shutdown),
                Arc::clone(&timed_out),
                Arc::clone(&interrupted),
            );
            std::thread::spawn(move || {
                watch(
                    &*sandbox,
                    &name,
                    deadline,
                    grace,
                    &shutdown,
                    &done_rx,
                    (&t, &i),
                );
            })
        };
        let result = self.sandbox.exec(self.container, &spec, &mut |line| {
            let _ = writeln!(out, "{line}");
        });
        let _ = done_tx.send(());
        let _ = watchdog.join();
        let result = result?;
        Ok(Segment {
            exit_code: result.output.status.code,
            timed_out: timed_out.load(Ordering::SeqCst),
            interrupted: interrupted.load(Ordering::SeqCst),
            elapsed: started.elapsed(),
        })
    }

    /// The agent phase: `run_cmd`, then `resume_cmd` while time is left and the guards allow
    /// (after a successful exit only when `resume_after_success`).
    pub fn drive(
        &self,
        run_cmd: &str,
        resume_cmd: Option<&str>,
        resume_after_success: bool,
        budget: Duration,
        out: &mut dyn Write,
    ) -> Result<AgentOutcome, RunError> {
        let deadline = Instant::now() + budget;
        let mut outcome = AgentOutcome::default();
        let mut cmd = run_cmd;
        loop {
            let seg = self.segment(cmd, deadline, out)?;
            outcome.runtime_seconds += seg.elapsed.as_secs_f64();
            outcome.last_exit_code = seg.exit_code;
            outcome.timed_out = seg.timed_out;
            outcome.interrupted = seg.interrupted;
            if seg.timed_out || seg.interrupted {
                return Ok(outcome);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            let stop = match resume_cmd {
                _ if left < Duration::from_secs(1) => Some("its time budget is used up".to_owned()),
                None => Some("the agent exited and is not resumed (auto-resume is off, or the agent has no resume command)".to_owned()),
                Some(_) if !resume_after_success && seg.exit_code == Some(0) => {
                    Some("the agent finished".to_owned())
                }
                Some(_) if seg.elapsed < Duration::from_secs(1) => Some(format!(
                    "the agent exited after {:.1}s: likely a systematic failure",
                    seg.elapsed.as_secs_f64(),
                )),
                Some(_) if outcome.resume_count >= MAX_RESUMES => {
                    Some(format!("it was resumed {MAX_RESUMES} times"))
                }
                Some(_) => None,
            };
            if let Some(reason) = stop {
                outcome.timed_out = left < Duration::from_secs(1);
                outcome.stopped_because = Some(reason);
                return Ok(outcome);
            }
            outcome.resume_count += 1;
            // Back off a little more after each quick exit, never beyond the deadline.
            let pause = Duration::from_secs(u64::from(outcome.resume_count.min(5))).min(left / 2);
            log::info!(
                "resuming the agent (attempt {}/{MAX_RESUMES}, {}s left)",
                outcome.resume_count,
                left.as_secs()
            );
            std::thread::sleep(pause);
            cmd = resume_cmd.unwrap_or(run_cmd);
        }
    }
}

/// Wait for the segment to end; at the deadline or on shutdown stop the agent's process group.
fn watch(
    sandbox: &dyn Sandbox,
    name: &str,
    deadline: Instant,
    grace: Duration,
    shutdown: &AtomicBool,
    done: &mpsc::Receiver<()>,
    (timed_out, interrupted): (&AtomicBool, &AtomicBool),
) {
    loop {
        let now = Instant::now();
        if shutdown.load(Ordering::SeqCst) {
            interrupted.store(true, Ordering::SeqCst);
            break;
        }
        if now >= deadline {
            timed_out.store(true, Ordering::SeqCst);
            break;
        }
        let tick = (deadline - now).min(Duration::from_millis(200));
        if done.recv_timeout(tick) != Err(mpsc::RecvTimeoutError::Timeout) {
            return;
        }
    }
    signal_group(sandbox, name, "TERM");
    if done.recv_timeout(grace) == Err(mpsc::RecvTimeoutError::Timeout) {
        signal_group(sandbox, name, "KILL");
    }
}

/// Signal the agent's process group, and with KILL every process of the agent user too (pkill
/// is not in minimal images, so the processes are found through /proc).
fn signal_group(sandbox: &dyn Sandbox, name: &str, signal: &str) {
    let mut script =
        format!("pgid=$(cat {PGID_FILE} 2>/dev/null) && kill -{signal} -- \"-$pgid\" 2>/dev/null;");
    if signal == "KILL" {
        script.push_str(
            " for p in /proc/[0-9]*; do [ \"$(stat -c %U \"$p\" 2>/dev/null)\" = agent ] && kill -KILL \"${p#/proc/}\" 2>/dev/null; done;",
        );
    }
    script.push_str(" true");
    // bash: its kill understands `--` and process groups. No exec timeout here: the Docker
    // sandbox kills the whole container when one passes.
    let spec = ExecSpec {
        argv: vec!["bash".into(), "-c".into(), script],
        user: Some("root".into()),
        ..ExecSpec::default()
    };
    if let Err(e) = sandbox.exec(name, &spec, &mut |_| {}) {
        log::warn!("cannot signal the agent ({signal}): {e}");
    }
}
