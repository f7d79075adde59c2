//! Tests of the Work container environment (golden files in `tests/golden/agent/env.*.txt`) and
//! of agent selection.

use std::fmt::Write as _;

use super::golden_tests::assert_golden;
use super::*;

/// Every input set, as an operator behind a corporate proxy would have it.
fn full(agent: Agent) -> WorkEnvInput {
    WorkEnvInput {
        agent,
        http_proxy: Some("http://proxy.corp:3128".into()),
        https_proxy: Some("http://bot:hunter2@proxy.corp:3128".into()),
        no_proxy: Some("localhost,127.0.0.1".into()),
        api_key: Some("sk-test-123".into()),
        api_base_url: Some("http://host.docker.internal:9000".into()),
        model: Some("model-x".into()),
        nodejs_mirror_url: Some("https://npmmirror.corp/node".into()),
        npm_registry_url: Some("https://registry.npmmirror.corp".into()),
        extra_ca: true,
        agent_extra_env: vec![
            ("FOO".into(), "bar".into()),
            ("HTTP_PROXY".into(), "http://other:8080".into()),
        ],
        cache_opt: true,
        judge_url: "http://host.docker.internal:8080".into(),
        token: "0123456789abcdef0123456789abcdef".into(),
        patch_dir: "/workspace/repo".into(),
        submit_paths: vec!["src".into(), "setup.py".into()],
        submit_exclude: vec!["tests".into(), "*.log".into()],
        game_server_url: None,
        deadline: Some(1_700_003_600),
    }
}

/// Only what every run has: key, judge and task values.
fn minimal(agent: Agent) -> WorkEnvInput {
    WorkEnvInput {
        http_proxy: None,
        https_proxy: None,
        no_proxy: None,
        api_base_url: None,
        model: None,
        nodejs_mirror_url: None,
        npm_registry_url: None,
        extra_ca: false,
        agent_extra_env: Vec::new(),
        cache_opt: false,
        submit_exclude: Vec::new(),
        deadline: None,
        ..full(agent)
    }
}

fn env_text(input: &WorkEnvInput) -> String {
    let env = work_env(input);
    let mut out = String::new();
    for (name, value) in &env.vars {
        let mark = if env.secret.contains(name) {
            "  # secret"
        } else {
            ""
        };
        writeln!(out, "{name}={value}{mark}").unwrap();
    }
    out
}

#[test]
fn env_golden() {
    for agent in Agent::ALL {
        assert_golden(&format!("env.{agent}.full.txt"), &env_text(&full(agent)));
        assert_golden(
            &format!("env.{agent}.minimal.txt"),
            &env_text(&minimal(agent)),
        );
    }
}

#[test]
fn the_key_is_mirrored_only_without_a_base_url() {
    let get = |input: &WorkEnvInput, name: &str| {
        work_env(input)
            .vars
            .into_iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
    };
    let claude = minimal(Agent::ClaudeCode);
    assert_eq!(
        get(&claude, "ANTHROPIC_API_KEY").as_deref(),
        Some("sk-test-123")
    );
    assert_eq!(get(&full(Agent::ClaudeCode), "ANTHROPIC_API_KEY"), None);
    assert_eq!(
        get(&minimal(Agent::Codex), "CODEX_API_KEY").as_deref(),
        Some("sk-test-123")
    );
    assert_eq!(get(&full(Agent::Codex), "CODEX_API_KEY"), None);
    // Scripts get the key once, under sforge's own name (no mirroring).
    let script = work_env(&full(Agent::Script));
    let keys: Vec<&str> = script
        .vars
        .iter()
        .filter(|(_, v)| v == "sk-test-123")
        .map(|(n, _)| n.as_str())
        .collect();
    assert_eq!(keys, ["SFORGE_AGENT_API_KEY"]);
}

#[test]
fn extra_env_overrides_in_place_and_secrets_are_marked() {
    let env = work_env(&full(Agent::ClaudeCode));
    assert_eq!(
        env.vars[0],
        ("HTTP_PROXY".into(), "http://other:8080".into())
    );
    for name in [
        "ANTHROPIC_AUTH_TOKEN",
        "SFORGE_TOKEN",
        "HTTPS_PROXY",
        "https_proxy",
    ] {
        assert!(env.secret.contains(name), "{name} must be secret");
    }
    assert!(!env.secret.contains("HTTP_PROXY") && !env.secret.contains("SFORGE_JUDGE_URL"));
}

#[test]
fn the_judge_host_is_appended_to_no_proxy_once() {
    let mut input = minimal(Agent::Codex);
    let no_proxy = |input: &WorkEnvInput| {
        work_env(input)
            .vars
            .into_iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("no_proxy"))
            .map(|(_, v)| v)
            .collect::<Vec<_>>()
    };
    assert_eq!(no_proxy(&input), ["host.docker.internal"; 2]);
    input.no_proxy = Some("localhost, host.docker.internal".into());
    assert_eq!(no_proxy(&input), ["localhost, host.docker.internal"; 2]);
    input.no_proxy = Some("localhost".into());
    assert_eq!(no_proxy(&input), ["localhost,host.docker.internal"; 2]);
}

#[test]
fn judge_host_parses_urls() {
    assert_eq!(
        judge_host("http://host.docker.internal:8080/").as_deref(),
        Some("host.docker.internal")
    );
    assert_eq!(
        judge_host("https://u:p@judge.corp/api").as_deref(),
        Some("judge.corp")
    );
    assert_eq!(
        judge_host("http://[fd00::1]:8080").as_deref(),
        Some("fd00::1")
    );
    assert_eq!(judge_host("10.0.0.7:8080").as_deref(), Some("10.0.0.7"));
    assert_eq!(judge_host("http://"), None);
}

#[test]
fn agent_names_and_script_flag() {
    for agent in Agent::ALL {
        assert_eq!(agent.name().parse::<Agent>().unwrap(), agent);
    }
    let err = "aider".parse::<Agent>().unwrap_err();
    assert_eq!(
        err.to_string(),
        "Unknown agent: 'aider'. Available: claude-code, codex, script"
    );
    assert!(Agent::Script.check_script_flag(false).is_err());
    assert!(Agent::Codex.check_script_flag(true).is_err());
    assert!(Agent::Script.check_script_flag(true).is_ok());
    assert!(Agent::ClaudeCode.check_script_flag(false).is_ok());
}

#[test]
fn root_steps_use_sudo_when_the_backend_cannot_pick_the_user() {
    let steps = Agent::ClaudeCode.install_steps();
    assert_eq!(steps[0].argv_as_agent()[..3], ["sudo", "-E", "/bin/bash"]);
    assert_eq!(steps[1].argv_as_agent()[0], "/bin/bash");
    assert!(steps.iter().all(|s| s.argv().len() == 3));
}

#[test]
fn the_prompt_is_never_on_the_command_line() {
    let options = RunOptions::default();
    for agent in [Agent::ClaudeCode, Agent::Codex] {
        assert!(agent
            .run_command(&options)
            .contains("\"$(cat /tmp/agent_prompt.md)\""));
    }
    assert_eq!(agent_script_file("echo hi").path, AGENT_SCRIPT_PATH);
}
