//! Resolution: builds the layers (task file < environment < experiment < flags) and merges them.

use std::path::{Path, PathBuf};

use super::env::{env_layer, EnvMap};
use super::error::ConfigError;
use super::experiment::Experiment;
use super::flags::Flags;
use super::parse;
use super::settings::{Layer, Settings};
use super::source::{Source, Sourced};
use crate::task::Task;

/// Everything needed to resolve settings, globally or for one task.
#[derive(Debug, Clone)]
pub struct Resolver {
    cwd: PathBuf,
    env: Layer,
    experiment: Option<Experiment>,
    cli: Layer,
}

impl Resolver {
    /// Load the experiment file (if any), apply its `env:` section, and parse every layer.
    pub fn new(mut env: EnvMap, cwd: &Path, flags: &Flags) -> Result<Self, ConfigError> {
        let experiment = flags
            .experiment
            .as_deref()
            .map(|path| Experiment::load(&cwd.join(path), &mut env))
            .transpose()?;
        Ok(Resolver {
            cwd: cwd.to_owned(),
            env: env_layer(&env)?,
            experiment,
            cli: cli_layer(flags)?,
        })
    }

    #[must_use]
    pub fn experiment(&self) -> Option<&Experiment> {
        self.experiment.as_ref()
    }

    /// Settings without any task: defaults, environment, experiment `defaults`, flags.
    #[must_use]
    pub fn global(&self) -> Settings {
        self.merge(None, None)
    }

    /// Settings for one task: its JSON limits and the experiment's block for it are included.
    #[must_use]
    pub fn for_task(&self, task: &Task) -> Settings {
        self.merge(Some(&task_layer(task)), Some(&task.task_id))
    }

    /// Settings for a task id without its task file (experiment block, env, flags).
    #[must_use]
    pub fn for_task_id(&self, task_id: &str) -> Settings {
        self.merge(None, Some(task_id))
    }

    fn merge(&self, task: Option<&Layer>, task_id: Option<&str>) -> Settings {
        let mut layers: Vec<&Layer> = task.into_iter().collect();
        layers.push(&self.env);
        if let Some(exp) = &self.experiment {
            layers.extend(exp.layers_for(task_id));
        }
        layers.push(&self.cli);
        let mut settings = Settings::merge(&layers);
        let ca_file = settings.ca_file.value.as_mut();
        for path in [&mut settings.log_dir.value, &mut settings.tasks_dir.value]
            .into_iter()
            .chain(ca_file)
        {
            if path.is_relative() {
                *path = self.cwd.join(&*path);
            }
        }
        settings
    }
}

/// The lowest layer of a task run: limits and internet from the task JSON.
fn task_layer(task: &Task) -> Layer {
    fn src(task: &Task, key: &str) -> Source {
        Source::TaskFile {
            file: task.path.clone(),
            key: key.to_owned(),
        }
    }
    fn some<T>(task: &Task, v: Option<T>, key: &str) -> Option<Sourced<Option<T>>> {
        v.map(|v| Sourced::new(Some(v), src(task, key)))
    }
    Layer {
        work_cpu_limit: some(task, task.work.cpu_limit, "work.cpu_limit"),
        work_mem_limit: some(task, task.work.mem_limit.clone(), "work.mem_limit"),
        judge_cpu_limit: some(task, task.judge.cpu_limit, "judge.cpu_limit"),
        judge_mem_limit: some(task, task.judge.mem_limit.clone(), "judge.mem_limit"),
        internet: Some(Sourced::new(task.internet, src(task, "internet"))),
        ..Layer::default()
    }
}

/// The highest layer: command-line flags that were given.
fn cli_layer(f: &Flags) -> Result<Layer, ConfigError> {
    fn flag<T>(name: &str, value: T) -> Sourced<T> {
        Sourced::new(value, Source::Flag(name.to_owned()))
    }
    let mem = |name: &str, value: &Option<String>| -> Result<_, ConfigError> {
        value
            .as_deref()
            .map(|v| {
                parse::mem_limit(v)
                    .map(|m| flag(name, Some(m)))
                    .map_err(|e| ConfigError::Flag {
                        flag: name.to_owned(),
                        value: v.to_owned(),
                        expected: e.expected,
                    })
            })
            .transpose()
    };
    // Switches only ever switch something on.
    let on = |name: &str, given: Option<bool>| (given == Some(true)).then(|| flag(name, true));
    let internet = f.internet.map(|on| {
        let name = if on {
            "--enable-internet"
        } else {
            "--disable-internet"
        };
        flag(name, on)
    });
    Ok(Layer {
        log_dir: f.log_dir.clone().map(|p| flag("--log-dir", p)),
        tasks_dir: f.tasks_dir.clone().map(|p| flag("--tasks-dir", p)),
        agent: f.agent.clone().map(|a| flag("--agent", Some(a))),
        agent_model: f.model.clone().map(|m| flag("--model", Some(m))),
        agent_timeout: f.timeout.map(|t| flag("--timeout", (t > 0).then_some(t))),
        eval_interval: f.eval_interval.map(|n| flag("--eval-interval", n)),
        disable_auto_eval: on("--disable-auto-eval", f.disable_auto_eval),
        disable_stop_hook: on("--disable-stop-hook", f.disable_stop_hook),
        disable_auto_resume: on("--disable-auto-resume", f.disable_auto_resume),
        max_submissions: f
            .max_submissions
            .map(|n| flag("--max-submissions", Some(n))),
        submission_cooldown: f
            .submission_cooldown
            .map(|n| flag("--submission-cooldown", Some(n))),
        stagger: f.stagger.map(|n| flag("--stagger", Some(n))),
        judge_url: f.judge_url.clone().map(|u| flag("--judge-url", u)),
        internet,
        work_cpu_limit: f.work_cpu_limit.map(|n| flag("--work-cpu-limit", Some(n))),
        work_mem_limit: mem("--work-mem-limit", &f.work_mem_limit)?,
        judge_cpu_limit: f
            .judge_cpu_limit
            .map(|n| flag("--judge-cpu-limit", Some(n))),
        judge_mem_limit: mem("--judge-mem-limit", &f.judge_mem_limit)?,
        judge_pool: f.judge_pool.map(|n| flag("--judge-pool", Some(n))),
        ca_file: f.ca_file.clone().map(|p| flag("--ca-file", Some(p))),
        backend: f.backend.map(|b| flag("--backend", b)),
        ..Layer::default()
    })
}

#[cfg(test)]
mod tests;
