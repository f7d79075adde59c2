//! Installing a task run's agent and tools in its Work container: the agent's install steps,
//! the files (tools, hooks, prompt) copied in as tar streams, and the steps run after them.

use std::fs;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use super::agent::{describe_missing, missing_programs_check};
use super::plan::{ContainerFile, InstallStep, User};
use super::task_run::{RunLog, TaskRun};
use crate::sandbox::ExecSpec;

impl TaskRun<'_> {
    pub(super) fn install(&self, log: &RunLog) -> Result<(), String> {
        self.check_required_programs()?;
        for file in &self.agent.setup_files {
            self.place(file)?;
        }
        let mut output = String::new();
        for step in &self.agent.install {
            output.push_str(&self.step(step)?);
        }
        let _ = fs::write(self.dir().join("install_output.txt"), output);
        let mut files: Vec<&ContainerFile> = self.agent.files.iter().chain(&self.tools).collect();
        let prompt = ContainerFile {
            path: "/tmp/agent_prompt.md".into(),
            content: self.prompt.clone(),
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
    fn check_required_programs(&self) -> Result<(), String> {
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
        let r = self
            .sandbox()
            .exec(&self.container(), &spec, &mut |line| {
                missing.push(line.trim().to_owned());
            })
            .map_err(|e| format!("cannot check the programs of the work image: {e}"))?;
        let missing: Vec<&str> = missing
            .iter()
            .map(String::as_str)
            .filter(|name| required.iter().any(|r| r.program == *name))
            .collect();
        match (r.output.success(), missing.is_empty()) {
            (true, _) => return Ok(()),
            (false, true) => {
                return Err(format!(
                    "cannot check the programs of the work image {} (has it /bin/sh?): exit {:?}",
                    self.task.images.work, r.output.status.code
                ))
            }
            (false, false) => {}
        }
        let benchmark = self.task.path.with_file_name("BENCHMARK.yaml");
        Err(format!(
            "the work image {} lacks {}: add {} to extra_packages of base image '{}' in {} and \
             rebuild (sforge build --task {} --force-rebuild-with-base)",
            self.task.images.work,
            describe_missing(required, &missing),
            missing.join(", "),
            self.task.base_image,
            benchmark.display(),
            self.task.task_id,
        ))
    }

    /// One install step; its output, or the error with the output.
    fn step(&self, step: &InstallStep) -> Result<String, String> {
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
        let r = r.map_err(|e| e.to_string())?;
        if !r.output.success() {
            return Err(format!(
                "Install command failed (exit {:?}): {}\n{text}",
                r.output.status.code, step.script
            ));
        }
        Ok(text)
    }

    /// Copy one file into the container (and keep its local copy in the log directory).
    fn place(&self, file: &ContainerFile) -> Result<(), String> {
        if let Some(local) = &file.local_copy {
            let _ = fs::write(self.dir().join(local), &file.content);
        }
        let path = Path::new(&file.path);
        let (dir, base) = (
            path.parent().unwrap_or(Path::new("/")),
            path.file_name().unwrap_or_default(),
        );
        let mut header = tar::Header::new_gnu();
        header.set_size(file.content.len() as u64);
        header.set_mode(file.mode);
        let (uid, gid) = if file.root { (0, 0) } else { (1000, 1000) };
        header.set_uid(uid);
        header.set_gid(gid);
        header.set_mtime(
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
        );
        header.set_cksum();
        let mut builder = tar::Builder::new(Vec::new());
        builder
            .append_data(&mut header, base, file.content.as_bytes())
            .map_err(|e| e.to_string())?;
        let tar = builder.into_inner().map_err(|e| e.to_string())?;
        let name = self.container();
        let mkdir = ExecSpec {
            argv: vec!["mkdir".into(), "-p".into(), dir.display().to_string()],
            user: Some("root".into()),
            ..ExecSpec::default()
        };
        self.sandbox()
            .exec(&name, &mkdir, &mut |_| {})
            .map_err(|e| e.to_string())?;
        self.sandbox()
            .copy_in(&name, &dir.display().to_string(), tar)
            .map_err(|e| e.to_string())
    }
}
