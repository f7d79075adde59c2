//! The real claude-code and codex CLIs (the pinned npm packages, installed in the Work container
//! by `sforge run` as in a user's run) solve the example task `coin_change` against scripted LLM
//! API test doubles on this host: with internet, isolated (`--disable-internet`), and through
//! `sforge proxy` in keyless mode. Node.js comes from a local mirror built from npm packages
//! (`agents_e2e/node_mirror.rs`); npm in the container trusts this machine's TLS-inspecting CA
//! through `SFORGE_CA_FILE`.
//!
//! The doubles (`agents_e2e/llm_double/`) play one conversation: the task prompt gets a shell
//! call that writes the reference solution and runs `sforge-submit`, the tool output a final
//! text; the stop hook's continuation and sforge's resume prompt get an API error that ends the
//! CLI process, so sforge resumes it until the run's short deadline.

// Tests observe the system directly (docker, iptables, /proc), independent of the product's
// process gateway.
#![allow(clippy::disallowed_methods)]

mod support;

// The request reader of the proxy tests' upstream double, and their `sforge proxy` process.
#[allow(dead_code, unused_imports)]
#[path = "proxy/doubles.rs"]
mod doubles;
#[allow(dead_code)]
#[path = "proxy/fake_upstream.rs"]
mod fake_upstream;
#[path = "agents_e2e/llm_double/mod.rs"]
mod llm_double;
#[path = "agents_e2e/node_mirror.rs"]
mod node_mirror;

use std::net::IpAddr;
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex, Weak};
use std::thread;
use std::time::{Duration, Instant};

use doubles::ProxyProcess;
use llm_double::{Api, LlmDouble, Turn};
use node_mirror::NodeMirror;
use support::run_case::{Case, RUN_LIMIT};
use support::BenchFixture;

const TASK: &str = "coin_change";
/// The agent's time budget (the install comes before it); each run ends at this deadline. The
/// scripted work (the CLI's start, a graded submission, the stop hook, a resume) takes 20–35 s
/// with the six runs of this binary at once on two cores, and over 45 s with other docker tests
/// beside them.
const AGENT_TIMEOUT: &str = "75";
/// This machine's CA bundle, which trusts the TLS-inspecting proxy in front of the npm registry.
const HOST_CA_FILE: &str = "/etc/ssl/certs/ca-certificates.crt";
const PROXY_ADMIN_SECRET: &str = "agents-e2e-proxy-admin-secret";

static FIXTURE: Mutex<Weak<BenchFixture>> = Mutex::new(Weak::new());
static MIRROR: Mutex<Weak<NodeMirror>> = Mutex::new(Weak::new());

fn fixture() -> Arc<BenchFixture> {
    support::built_benchmark(&FIXTURE, "sforge-test-agents", &[TASK])
}

fn gateway() -> IpAddr {
    IpAddr::V4(support::bridge_gateway().0)
}

fn mirror() -> Arc<NodeMirror> {
    support::shared_fixture(&MIRROR, || NodeMirror::start(gateway()))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Agent {
    ClaudeCode,
    Codex,
}

impl Agent {
    fn name(self) -> &'static str {
        match self {
            Agent::ClaudeCode => "claude-code",
            Agent::Codex => "codex",
        }
    }

    fn api(self) -> Api {
        match self {
            Agent::ClaudeCode => Api::Anthropic,
            Agent::Codex => Api::OpenAiResponses,
        }
    }

    /// The path an API base URL ends in for this agent: claude-code appends `/v1/messages`,
    /// codex `/responses` (which the `OpenAI` API serves under `/v1`).
    fn api_prefix(self) -> &'static str {
        match self {
            Agent::ClaudeCode => "",
            Agent::Codex => "/v1",
        }
    }

    /// A flag of sforge's run and resume commands for this agent, as the agent's command line
    /// in the container shows it.
    fn run_flag(self) -> &'static str {
        match self {
            Agent::ClaudeCode => "--dangerously-skip-permissions",
            Agent::Codex => "--dangerously-bypass-approvals-and-sandbox",
        }
    }

    /// The Work container variable that holds the API key (docs/compatibility.md#agents).
    fn key_variable(self) -> &'static str {
        match self {
            Agent::ClaudeCode => "ANTHROPIC_AUTH_TOKEN",
            Agent::Codex => "OPENAI_API_KEY",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Internet,
    Isolated,
    /// Through `sforge proxy --inject-key-from-env`: the container holds a run token only.
    Keyless,
}

/// The line in the tool's output after which every process's command line in the container
/// follows (printed in two pieces, so that the command itself does not contain it).
const COMMAND_LINES: &str = "--- command lines ---";

/// The shell command the scripted model runs: write the reference solution into the task's
/// directory, submit it, then print [`COMMAND_LINES`] and every process's command line in the
/// container.
fn solution_command(cwd: &str) -> String {
    let solution = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tasks/solutions/coin_change/full/change.py"),
    )
    .expect("read the reference solution");
    format!(
        "cd {cwd} && cat > change.py <<'SFORGE_DOUBLE_EOF'\n{solution}SFORGE_DOUBLE_EOF\n\
         SFORGE_SUBMIT_POLL_INTERVAL=1 sforge-submit\n\
         printf '%s lines ---\\n' '--- command'\n\
         for f in /proc/[0-9]*/cmdline; do tr '\\0' ' ' <\"$f\"; echo; done 2>/dev/null\n"
    )
}

/// Everything one agent run needs on the host: the double, the mirror, the key and, in keyless
/// mode, the proxy.
struct World {
    agent: Agent,
    mode: Mode,
    double: LlmDouble,
    mirror: Arc<NodeMirror>,
    proxy: Option<ProxyProcess>,
    /// The API key: given to `sforge run`, or (keyless) only to the proxy.
    key: String,
}

impl World {
    fn new(agent: Agent, mode: Mode, cwd: &str) -> Self {
        let double = LlmDouble::start(agent.api(), gateway(), &solution_command(cwd));
        let key = format!("sk-{}", support::unique_name(agent.name()));
        let proxy = (mode == Mode::Keyless).then(|| {
            // The proxy's target carries the API's path prefix, so the agent's base URL is the
            // proxy's root (as the README's table shows for both agents).
            let target = format!("http://{}{}", double.addr, agent.api_prefix());
            // On every address: `sforge run` calls its admin API at 127.0.0.1 (the host side of
            // `host.docker.internal`), the container comes through the bridge gateway.
            ProxyProcess::start_on(
                "0.0.0.0",
                &[
                    "--target",
                    &target,
                    "--inject-key-from-env",
                    "AGENTS_E2E_KEY",
                ],
                &[
                    ("AGENTS_E2E_KEY", key.as_str()),
                    ("SFORGE_PROXY_ADMIN_SECRET", PROXY_ADMIN_SECRET),
                ],
            )
        });
        Self {
            agent,
            mode,
            double,
            mirror: mirror(),
            proxy,
            key,
        }
    }

    /// `SFORGE_AGENT_API_BASE_URL` as the Work container reaches the double or the proxy.
    fn base_url(&self) -> String {
        match &self.proxy {
            Some(proxy) => format!("http://host.docker.internal:{}", proxy.addr.port()),
            None => format!(
                "http://host.docker.internal:{}{}",
                self.double.addr.port(),
                self.agent.api_prefix()
            ),
        }
    }

    /// `sforge run` of the task with the real agent.
    fn command(&self, case: &Case) -> Command {
        let mut cmd = case.fixture.bench.sforge_process(&case.log_dir());
        cmd.args(["run", "--run-id", &case.run_id, "--task", TASK])
            .args(["--agent", self.agent.name(), "--timeout", AGENT_TIMEOUT])
            .args(["--eval-interval", "0", "--judge-url"])
            .arg(format!("http://host.docker.internal:{}", case.port))
            .env("SFORGE_NODEJS_MIRROR_URL", self.mirror.url())
            .env("SFORGE_CA_FILE", HOST_CA_FILE)
            .env("SFORGE_AGENT_API_BASE_URL", self.base_url());
        if self.mode == Mode::Isolated {
            cmd.arg("--disable-internet");
        }
        if self.mode == Mode::Keyless {
            cmd.env("SFORGE_PROXY_ADMIN_SECRET", PROXY_ADMIN_SECRET);
        } else {
            cmd.env("SFORGE_AGENT_API_KEY", &self.key);
        }
        cmd
    }
}

/// Every host process's command line that contains `needle`.
fn host_command_lines_with(needle: &str) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| std::fs::read(entry.path().join("cmdline")).ok())
        .map(|raw| String::from_utf8_lossy(&raw).replace('\0', " "))
        .filter(|line| line.contains(needle))
        .collect()
}

/// The key the Work container holds, read from its environment while it runs, and the
/// container's command line (`Path`, `Args`, `Config.Cmd`) beside it.
fn container_key(case: &Case, variable: &str) -> Option<(String, String)> {
    let container = format!("sforge.run.{TASK}.{}", case.run_id);
    let output = support::run(
        support::docker().args([
            "inspect",
            "-f",
            "{{json .Config.Env}}\n{{json .Path}} {{json .Args}} {{json .Config.Cmd}}",
            &container,
        ]),
        None,
    );
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let (env, argv) = text.split_once('\n')?;
    let env: Vec<String> = serde_json::from_str(env).ok()?;
    let prefix = format!("{variable}=");
    let key = env.iter().find_map(|v| v.strip_prefix(&prefix))?;
    Some((key.to_owned(), argv.to_owned()))
}

/// Runs `sforge run` in the background until it exits. Meanwhile reads the key the Work
/// container holds (see [`container_key`]) and watches every command line on the host; panics
/// when one of them, or the container's, shows the key or `world.key`.
fn run_watching_argv(case: &Case, cmd: Command, world: &World) -> (support::SforgeRun, String) {
    let mut running = case.spawn(cmd);
    let until = Instant::now() + RUN_LIMIT;
    let mut held: Option<String> = None;
    while running.exited().is_none() && Instant::now() < until {
        if held.is_none() {
            if let Some((key, argv)) = container_key(case, world.agent.key_variable()) {
                assert!(!argv.contains(&key) && !argv.contains(&world.key), "{argv}");
                held = Some(key);
            }
        }
        for secret in std::iter::once(&world.key).chain(&held) {
            let leaks = host_command_lines_with(secret);
            assert!(
                leaks.is_empty(),
                "an API key is on a command line: {leaks:#?}"
            );
        }
        thread::sleep(Duration::from_millis(250));
    }
    let run = running.wait(Duration::from_secs(1));
    let held = held.unwrap_or_else(|| panic!("never saw the Work container's key\n{run}"));
    (run, held)
}

/// The run of `agent` in `mode`, with every assertion of this binary.
fn agent_solves_the_task(agent: Agent, mode: Mode) {
    let fixture = fixture();
    let cwd = fixture.bench.task(TASK)["cwd"]
        .as_str()
        .expect("the task has a cwd")
        .to_owned();
    let world = World::new(agent, mode, &cwd);
    // The case's agent script stays empty: the agent is a real CLI.
    let case = Case::new(fixture, "");
    let (run, held) = run_watching_argv(&case, world.command(&case), &world);
    run.expect_code(0);

    // Solved by the agent itself: its own submission is the best round.
    let result = case.json(TASK, "final_result.json");
    let best = result["best_round"].as_str().unwrap_or_default();
    assert!(
        best.starts_with("agent-"),
        "{result:#}\n{}",
        world.double.summary()
    );
    assert_eq!(result["best_score"].as_f64(), Some(100.0), "{result:#}");
    assert_eq!(result["best_pass_rate"].as_f64(), Some(1.0), "{result:#}");
    assert!(result["resume_count"].as_u64() >= Some(1), "{result:#}");
    case.assert_no_containers();

    let tool = assert_conversation(&world.double, &case.text(TASK, "run_agent.log"));
    assert_key_handling(&world, &case, &tool, &held);
    if mode == Mode::Isolated {
        let log = case.text(TASK, "run_agent.log");
        assert!(log.contains("isolation self-check passed"), "{log}");
        assert_no_rules_of(&case.run_id);
    }
    assert!(
        world.mirror.downloads() > 0,
        "Node.js did not come from the mirror"
    );
    eprintln!(
        "{} {mode:?}: {}\n{}",
        agent.name(),
        result["phase_seconds"],
        world.double.summary()
    );
}

/// The conversation the double saw: the tool ran in the container and submitted, the stop
/// hook's reason reached the model, and after the CLI exited sforge resumed it. Returns the
/// tool's output. `log` (the run log) goes into failure messages.
fn assert_conversation(double: &LlmDouble, log: &str) -> String {
    for turn in [Turn::ToolResult, Turn::StopHook, Turn::Resume] {
        assert!(
            !double.turns(turn).is_empty(),
            "the double received no {turn:?} request; it saw:\n{}\nrun_agent.log:\n{log}",
            double.summary()
        );
    }
    let outputs: Vec<String> = double
        .turns(Turn::ToolResult)
        .into_iter()
        .filter_map(|e| e.tool_output)
        .collect();
    let tool = outputs
        .into_iter()
        .find(|o| o.contains(COMMAND_LINES))
        .unwrap_or_else(|| panic!("no complete tool output:\n{}", double.summary()));
    assert!(tool.contains("Results of round agent-"), "{tool}");
    let hook = double.first(Turn::StopHook).body();
    assert!(hook.contains("Keep improving your solution"), "{hook}");
    let resume = double.first(Turn::Resume).body();
    assert!(resume.contains(llm_double::RESUME_TEXT), "{resume}");
    let order = double.exchanges();
    let at = |turn| order.iter().position(|e| e.turn == Some(turn));
    assert!(
        at(Turn::StopHook) < at(Turn::Resume),
        "resumed before the hook:\n{}",
        double.summary()
    );
    tool
}

/// The key reached the double in the header the CLI uses (`Authorization: Bearer`; in keyless
/// mode the proxy put it there) on every conversation request; neither it nor the key the
/// container `held` is on a command line in the container (`tool` lists them) or in a file of
/// the run's log directory. Keyless: the container held a run token, and the proxy metered it.
fn assert_key_handling(world: &World, case: &Case, tool: &str, held: &str) {
    let order = world.double.exchanges();
    let header = format!("Bearer {}", world.key);
    for exchange in order.iter().filter(|e| e.turn.is_some()) {
        let request = &exchange.request;
        assert_eq!(
            request.header("authorization"),
            Some(header.as_str()),
            "{request:?}"
        );
        assert_eq!(request.header("x-api-key"), None, "{request:?}");
    }
    let processes = tool.split(COMMAND_LINES).nth(1).unwrap_or_default();
    assert!(
        processes.contains(world.agent.run_flag()),
        "not the container's command lines: {processes}"
    );
    let secrets = [world.key.as_str(), held];
    assert!(
        !secrets.iter().any(|s| processes.contains(s)),
        "{processes}"
    );
    for file in support::files_under(&case.log_dir()) {
        let text = String::from_utf8_lossy(&std::fs::read(&file).unwrap_or_default()).into_owned();
        assert!(
            !secrets.iter().any(|s| text.contains(s)),
            "an API key is in {}",
            file.display()
        );
    }
    if world.mode != Mode::Keyless {
        assert_eq!(held, world.key);
        return;
    }
    assert!(held.starts_with("sfp-") && held != world.key, "{held}");
    // Every request that reached the double with the key came through the token; the scripted
    // replies report 1000 input tokens each, the errors none.
    let usage = case.json(TASK, "proxy_usage.json");
    let forwarded = order
        .iter()
        .filter(|e| e.request.header("authorization") == Some(header.as_str()))
        .count();
    assert_eq!(
        usage["requests"].as_u64(),
        Some(forwarded as u64),
        "{usage:#}"
    );
    assert!(usage["input_tokens"].as_u64() >= Some(2000), "{usage:#}");
    assert!(usage["errors"].as_u64() >= Some(1), "{usage:#}");
}

/// Panics if iptables or ip6tables still holds a rule that names the run.
fn assert_no_rules_of(run_id: &str) {
    let marker = format!("run={run_id} ");
    for program in ["iptables", "ip6tables"] {
        let rules = support::run_ok(Command::new(program).args(["-w", "-S"]), None);
        let rules = String::from_utf8_lossy(&rules.stdout).into_owned();
        assert!(
            !rules.contains(&marker),
            "{program} keeps rules of the run:\n{rules}"
        );
    }
}

/// Runs `agent` in every mode at once (the runs mostly wait for their deadlines), each in a
/// thread named after it; panics naming every mode that failed (their panics are printed above).
fn agent_solves_the_task_in_every_mode(agent: Agent) {
    let npm = Command::new("npm").arg("--version").output();
    if !npm.is_ok_and(|out| out.status.success()) {
        // The Node.js mirror is made from npm packages that the host's npm downloads.
        support::skip("no npm on this host (the Node.js mirror needs it)", true);
        return;
    }
    let modes = [Mode::Internet, Mode::Isolated, Mode::Keyless];
    let failed: Vec<Mode> = thread::scope(|scope| {
        let runs: Vec<_> = modes
            .into_iter()
            .map(|mode| {
                let name = format!("{}/{mode:?}", agent.name());
                let run = thread::Builder::new()
                    .name(name)
                    .spawn_scoped(scope, move || agent_solves_the_task(agent, mode))
                    .expect("start a run thread");
                (mode, run)
            })
            .collect();
        runs.into_iter()
            .filter_map(|(mode, run)| run.join().is_err().then_some(mode))
            .collect()
    });
    assert!(failed.is_empty(), "{} failed in {failed:?}", agent.name());
}

#[test]
fn claude_code_solves_the_task_with_internet_isolated_and_keyless() {
    require_docker!();
    agent_solves_the_task_in_every_mode(Agent::ClaudeCode);
}

#[test]
fn codex_solves_the_task_with_internet_isolated_and_keyless() {
    require_docker!();
    agent_solves_the_task_in_every_mode(Agent::Codex);
}
