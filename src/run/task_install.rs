//! Installing a task run's agent and tools in its Work container: the agent's install steps,
//! the files (tools, hooks, prompt) copied in as tar streams, and the steps run after them.

use std::fs;
use std::path::Path;

use super::agent::{describe_missing, missing_programs_check};
use super::agent::{ContainerFile, InstallStep, User};
use super::error::RunError;
use super::task_run::{RunLog, TaskRun};
use crate::sandbox::{single_file_tar, ExecSpec};

impl TaskRun<'_> {
    pub(super) fn install(&self, log: &RunLog) -> Result<(), RunError> {
        self.check_required_programs()?;
        for file in &self.agent.setup_files {
            self.place(file)?;
        }
        let mut output = String::new();
        for step in &self.agent.install {
            output.push_str(&self.step(step)?);
        }
        let _ = fs::write(self.dir().join("install_output.txt"), output);
        let mut files: Vec<&ContainerFile> = self.agent.files.iter().chain(self.tools).collect();
        let prompt = ContainerFile {
            path: "/tmp/agent_prompt.md".into(),
            content: self.prompt.to_owned(),
            mode: 0o644,
            root: true,
            local_copy: Some("agent_prompt.md".into()),
        };
        files.push(&prompt);
        for file in files {
            self.place(file)?;
        }
        for step in &self.agent.post_install {
            self.step(step)?;
        }
        log.line("agent and tools installed");
        Ok(())
    }

    /// Fail at once, naming each program the Work image lacks and the fix, before any install
    /// step could fail on it halfway.
    fn check_required_programs(&self) -> Result<(), RunError> {
        let required = &self.agent.required;
        if required.is_empty() {
            return Ok(());
        }
        let spec = ExecSpec {
            argv: vec![
                "/bin/sh".into(),
                "-c".into(),
                missing_programs_check(required),
            ],
            user: Some("root".into()),
            ..ExecSpec::default()
        };
        let mut missing = Vec::new();
        let r = self.sandbox().exec(&self.container(), &spec, &mut |line| {
            missing.push(line.trim().to_owned());
        })?;
        let missing: Vec<&str> = missing
            .iter()
            .map(String::as_str)
            .filter(|name| required.iter().any(|r| r.program == *name))
            .collect();
        match (r.output.success(), missing.is_empty()) {
            (true, _) => return Ok(()),
            (false, true) => {
                return Err(RunError::MissingPrograms(format!(
                    "cannot check the programs of the work image {} (has it /bin/sh?): exit {:?}",
                    self.task.images.work, r.output.status.code
                )))
            }
            (false, false) => {}
        }
        let benchmark = self.task.path.with_file_name("BENCHMARK.yaml");
        Err(RunError::MissingPrograms(format!(
            "the work image {} lacks {}: add {} to extra_packages of base image '{}' in {} and \
             rebuild (sforge build --task {} --force-rebuild-with-base)",
            self.task.images.work,
            describe_missing(required, &missing),
            missing.join(", "),
            self.task.base_image,
            benchmark.display(),
            self.task.task_id,
        )))
    }

    /// One install step; its output, or the error with the output.
    fn step(&self, step: &InstallStep) -> Result<String, RunError> {
        let name = self.container();
        let spec = ExecSpec {
            argv: vec!["/bin/bash".into(), "-c".into(), step.script.clone()],
            user: Some(
                if step.user == User::Root {
                    "root"
                } else {
                    "agent"
                }
                .to_owned(),
            ),
            ..ExecSpec::default()
        };
        let mut text = String::new();
        let r = self.sandbox().exec(&name, &spec, &mut |l| {
            text.push_str(l);
            text.push('\n');
        });
        let r = r?;
        if !r.output.success() {
            return Err(RunError::Install {
                script: step.script.clone(),
                code: r.output.status.code,
                output: text,
            });
        }
        Ok(text)
    }

    /// Copy one file into the container (and keep its local copy in the log directory).
    fn place(&self, file: &ContainerFile) -> Result<(), RunError> {
        if let Some(local) = &file.local_copy {
            let _ = fs::write(self.dir().join(local), &file.content);
        }
        let path = Path::new(&file.path);
        let (dir, base) = (
            path.parent().unwrap_or(Path::new("/")),
            path.file_name().unwrap_or_default(),
        );
        let owner = if file.root { (0, 0) } else { (1000, 1000) };
        let tar = single_file_tar(
            &base.to_string_lossy(),
            file.content.as_bytes(),
            file.mode,
            owner,
        );
        let name = self.container();
        let mkdir = ExecSpec {
            argv: vec!["mkdir".into(), "-p".into(), dir.display().to_string()],
            user: Some("root".into()),
            ..ExecSpec::default()
        };
        self.sandbox().exec(&name, &mkdir, &mut |_| {})?;
        Ok(self
            .sandbox()
            .copy_in(&name, &dir.display().to_string(), tar)?)
    }
}
