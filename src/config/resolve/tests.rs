//! Experiment files and the precedence defaults < task file < env < experiment < flags.

use std::io::Write as _;
use std::path::Path;

use crate::config::{Backend, ConfigError, EnvMap, Flags, Resolver, Settings, Source};

const EXPERIMENT: &str = r#"
x-big: &big
  cpu_limit: 16
  mem_limit: 16g
env:
  SFORGE_AGENT_TIMEOUT: 100
  MY_KEY: sk-from-env-section
model:
  api_key: "${MY_KEY}"
  model: base-model
stagger: 600
defaults:
  agent: claude-code
  work_cpu_limit: 4
  judge_mem_limit: 8g
  backend: docker
  internet: "false"
  disable_stop_hook: 0
  extra_env: {B: "2", C: "2"}
tasks:
  plain: {}
  big:
    <<: *big
    judge_cpu_limit: 8
    backend: k8s
    extra_env: {C: "3"}
    timeout: 7200
"#;

fn write(dir: &Path, text: &str) -> std::path::PathBuf {
    let path = dir.join("exp.yaml");
    std::fs::File::create(&path)
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    path
}

/// The message of the error `result` must be.
fn error_of(result: Result<(Resolver, tempfile::TempDir), ConfigError>) -> String {
    match result {
        Ok(_) => panic!("the experiment was accepted"),
        Err(e) => e.to_string(),
    }
}

fn resolver(
    text: &str,
    env: &[(&str, &str)],
    flags: Flags,
) -> Result<(Resolver, tempfile::TempDir), ConfigError> {
    let dir = tempfile::tempdir().unwrap();
    let flags = Flags {
        experiment: Some(write(dir.path(), text)),
        ..flags
    };
    let env: EnvMap = env.iter().copied().collect();
    Resolver::new(env, dir.path(), &flags).map(|r| (r, dir))
}

/// Settings for a task id without a task file (the experiment block is what matters here).
fn settings_for(r: &Resolver, id: &str) -> Settings {
    r.for_task_id(id)
}

fn is_experiment(source: &Source, key: &str) -> bool {
    matches!(source, Source::Experiment { key: k, .. } if k == key)
}

#[test]
fn experiment_beats_env_and_task_block_beats_defaults() {
    let (r, _d) = resolver(
        EXPERIMENT,
        &[("SFORGE_WORK_CPU_LIMIT", "2"), ("SFORGE_BACKEND", "k8s")],
        Flags::default(),
    )
    .unwrap();
    let plain = settings_for(&r, "plain");
    assert_eq!(plain.work_cpu_limit.value, Some(4));
    assert!(is_experiment(
        &plain.work_cpu_limit.source,
        "defaults.work_cpu_limit"
    ));
    assert_eq!(
        plain.backend.value,
        Backend::Docker,
        "experiment backend beats SFORGE_BACKEND"
    );
    let big = settings_for(&r, "big");
    assert_eq!(
        big.work_cpu_limit.value,
        Some(16),
        "task shorthand beats defaults' specific key"
    );
    assert_eq!(
        big.judge_cpu_limit.value,
        Some(8),
        "specific key beats shorthand in one block"
    );
    assert_eq!(big.judge_mem_limit.value.as_deref(), Some("16g"));
    assert_eq!(big.backend.value, Backend::K8s, "per-task backend is kept");
    assert_eq!(big.agent_timeout.value, Some(7200));
}

#[test]
fn yaml_false_string_and_zero_are_false() {
    let (r, _d) = resolver(EXPERIMENT, &[], Flags::default()).unwrap();
    let s = settings_for(&r, "plain");
    assert!(!s.internet.value);
    assert!(!s.disable_stop_hook.value);
    assert!(is_experiment(
        &s.disable_stop_hook.source,
        "defaults.disable_stop_hook"
    ));
}

#[test]
fn extra_env_merges_by_key_across_env_defaults_and_task() {
    let (r, _d) = resolver(
        EXPERIMENT,
        &[("SFORGE_AGENT_EXTRA_ENV", "A=1,B=1")],
        Flags::default(),
    )
    .unwrap();
    let env = settings_for(&r, "big").agent_extra_env.value;
    let pairs: Vec<_> = env.iter().map(|(k, v)| format!("{k}={v}")).collect();
    assert_eq!(pairs, ["A=1", "B=2", "C=3"]);
}

#[test]
fn env_section_feeds_env_layer_and_model_expansion() {
    let (r, _d) = resolver(
        EXPERIMENT,
        &[("SFORGE_AGENT_TIMEOUT", "5")],
        Flags::default(),
    )
    .unwrap();
    let s = settings_for(&r, "plain");
    assert_eq!(s.agent_timeout.value, Some(100));
    assert!(
        matches!(&s.agent_timeout.source, Source::ExperimentEnv { var, .. } if var == "SFORGE_AGENT_TIMEOUT")
    );
    assert_eq!(
        s.agent_api_key.value.as_deref(),
        Some("sk-from-env-section")
    );
    assert!(is_experiment(&s.agent_api_key.source, "model.api_key"));
    assert_eq!(s.stagger.value, Some(600));
}

#[test]
fn flags_beat_everything() {
    let run = Flags {
        work_cpu_limit: Some(1),
        backend: Some(Backend::Docker),
        model: Some("flag-model".into()),
        judge_url: Some(crate::config::DEFAULT_JUDGE_URL.into()),
        internet: Some(true),
        stagger: Some(0),
        ..Flags::default()
    };
    let (r, _d) = resolver(
        EXPERIMENT
            .replace(
                "  plain: {}",
                "  plain: {judge_url: 'http://10.0.0.1:8080'}",
            )
            .as_str(),
        &[],
        run,
    )
    .unwrap();
    let s = settings_for(&r, "plain");
    assert_eq!(s.work_cpu_limit.value, Some(1));
    assert_eq!(
        s.work_cpu_limit.source,
        Source::Flag("--work-cpu-limit".into())
    );
    assert_eq!(s.agent_model.value.as_deref(), Some("flag-model"));
    assert_eq!(
        s.judge_url.value,
        crate::config::DEFAULT_JUDGE_URL,
        "an explicit default flag still counts"
    );
    assert!(s.internet.value);
    assert_eq!(s.stagger.value, Some(0));
    assert_eq!(settings_for(&r, "big").backend.value, Backend::Docker);
}

#[test]
fn errors_name_the_file_and_key() {
    let err = error_of(resolver(
        "tasks:\n  t: {timeout: 1.5}\n",
        &[],
        Flags::default(),
    ));
    assert!(
        err.contains("exp.yaml") && err.contains("tasks.t.timeout") && err.contains("whole number"),
        "{err}"
    );
    let err = error_of(resolver(
        "tasks:\n  t: {internet: maybe}\n",
        &[],
        Flags::default(),
    ));
    assert!(
        err.contains("tasks.t.internet") && err.contains("true or false"),
        "{err}"
    );
    let err = error_of(resolver("defaults: {agent: x}\n", &[], Flags::default()));
    assert!(
        err.contains("`tasks`") && err.contains("missing or empty"),
        "{err}"
    );
    let err = error_of(resolver("- a\n- b\n", &[], Flags::default()));
    assert!(err.contains("must be a YAML mapping"), "{err}");
    let err = error_of(resolver(
        "model: {api_key: '${NOPE_UNSET}'}\ntasks: {t: {}}\n",
        &[],
        Flags::default(),
    ));
    assert!(
        err.contains("model.api_key") && err.contains("NOPE_UNSET"),
        "{err}"
    );
    let err = error_of(resolver(
        "tasks: {t: {backend: podman}}\n",
        &[],
        Flags::default(),
    ));
    assert!(err.contains("docker or k8s"), "{err}");
    let err = error_of(resolver("tasks: [\n", &[], Flags::default()));
    assert!(
        err.contains("invalid YAML") && err.contains("line"),
        "{err}"
    );
}

#[test]
fn missing_experiment_file_is_a_clear_error() {
    let run = Flags {
        experiment: Some("/nonexistent/exp.yaml".into()),
        ..Flags::default()
    };
    let err = Resolver::new(EnvMap::default(), Path::new("/"), &run)
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("/nonexistent/exp.yaml: cannot read the experiment file"),
        "{err}"
    );
}
