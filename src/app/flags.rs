//! The command line's settings flags handed to config as its own all-`Option` layer
//! ([`Flags`]): config knows nothing of clap.

use crate::cli::{BackendArg, GlobalArgs, RunSettingsArgs};
use crate::config::{Backend, Flags};

/// The flags `global` and `run` were given, as config's layer.
pub(super) fn flags(global: &GlobalArgs, run: &RunSettingsArgs) -> Flags {
    let switch = |given: bool| given.then_some(true);
    let internet = match (run.disable_internet, run.enable_internet) {
        (true, _) => Some(false),
        (false, true) => Some(true),
        (false, false) => None,
    };
    Flags {
        experiment: run.experiment.clone(),
        log_dir: global.log_dir.clone(),
        tasks_dir: global.tasks_dir.clone(),
        agent: run.agent.clone(),
        model: run.model.clone(),
        timeout: run.timeout,
        eval_interval: run.eval_interval,
        disable_auto_eval: switch(run.disable_auto_eval),
        disable_stop_hook: switch(run.disable_stop_hook),
        disable_auto_resume: switch(run.disable_auto_resume),
        max_submissions: run.max_submissions,
        submission_cooldown: run.submission_cooldown,
        stagger: run.stagger,
        judge_url: run.judge_url.clone(),
        internet,
        work_cpu_limit: run.work_cpu_limit,
        work_mem_limit: run.work_mem_limit.clone(),
        judge_cpu_limit: run.judge_cpu_limit,
        judge_mem_limit: run.judge_mem_limit.clone(),
        judge_pool: run.judge_pool,
        ca_file: run.ca_file.clone(),
        backend: run.backend.map(backend),
    }
}

/// The backend a `--backend` value names.
fn backend(arg: BackendArg) -> Backend {
    match arg {
        BackendArg::Docker => Backend::Docker,
        BackendArg::K8s => Backend::K8s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn given_flags_are_some_and_the_rest_none() {
        let run = RunSettingsArgs {
            disable_internet: true,
            disable_stop_hook: true,
            backend: Some(BackendArg::K8s),
            work_mem_limit: Some("8g".into()),
            ..RunSettingsArgs::default()
        };
        let f = flags(&GlobalArgs::default(), &run);
        assert_eq!(f.internet, Some(false));
        assert_eq!(
            (f.disable_stop_hook, f.disable_auto_eval),
            (Some(true), None)
        );
        assert_eq!(f.backend, Some(Backend::K8s));
        assert_eq!(f.work_mem_limit.as_deref(), Some("8g"));
        let enable = RunSettingsArgs {
            enable_internet: true,
            ..RunSettingsArgs::default()
        };
        assert_eq!(flags(&GlobalArgs::default(), &enable).internet, Some(true));
    }
}
