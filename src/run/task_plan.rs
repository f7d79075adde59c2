//! One task of `run --dry-run` (docs/architecture.md#plans): the container, the install steps,
//! the isolation, the agent command and the removal, printed as a replayable script. Should
//! the replayed script stop on an error, an `EXIT` trap removes what it created so far.

use super::error::RunError;
use super::task_run::TaskRun;
use crate::run_log::RunLog;
use crate::sandbox::ExecSpec;

impl TaskRun<'_> {
    /// Dry run (with a sandbox over a dry-run runner): the container, the install steps, the
    /// files and the agent command are printed; the local copies of the files are written.
    pub fn plan(&self, log: &RunLog) -> Result<(), RunError> {
        let cleanup = self.print_cleanup()?;
        // No lease: a replayed plan has no sforge to renew it.
        self.create(log, false)?;
        self.install(log)?;
        if let (Some(egress), Some(isolation)) = (self.egress, self.isolation()) {
            let labels = self.labels();
            let owner = self.owner(&labels);
            outln!(
                "{}",
                isolation.dry_run(&**self.sandbox(), &self.container(), egress, &owner)
            );
        }
        let mut env = self.env.clone();
        env.push((
            "SFORGE_TOKEN".into(),
            "<token from the judge's /api/v1/register>".into(),
        ));
        let spec = ExecSpec {
            argv: vec!["bash".into(), "-c".into(), self.agent.run_cmd.clone()],
            env,
            user: Some("agent".into()),
            workdir: Some(self.task.cwd.clone()),
            ..ExecSpec::default()
        };
        self.sandbox().exec(&self.container(), &spec, &mut |_| {})?;
        outln!("# the agent is done: remove what the plan created\n{cleanup}\ntrap - EXIT");
        Ok(())
    }

    /// Prints the shell function that removes the task's rules and container and sets it as
    /// the `EXIT` trap; returns its name.
    fn print_cleanup(&self) -> Result<String, RunError> {
        let name: String = self
            .task
            .task_id
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        let name = format!("sforge_cleanup_{name}");
        outln!(
            "# {name} removes what the plan of task {} creates (on an error, at exit)\n\
             {name}() {{\nset +eu",
            self.task.task_id
        );
        if let (Some(egress), Some(isolation)) = (self.egress, self.isolation()) {
            let labels = self.labels();
            let text = isolation.dry_run_remove(&self.container(), egress, &self.owner(&labels));
            outln!("{}", text.trim_end());
        }
        self.sandbox().remove(&self.container())?;
        outln!("set -eu\n}}\ntrap {name} EXIT");
        Ok(name)
    }
}
