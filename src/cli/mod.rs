//! Command-line definitions (clap derive only; no behaviour lives here).
//! Global flags may come before or after the subcommand; `sforge <cmd> --help` documents each one.
//! Doc comments here are the user-facing help text, hence plain prose without Markdown.
#![allow(clippy::doc_markdown)]

mod fetch_tasks;
mod run_settings;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

pub use fetch_tasks::FetchTasksArgs;
pub use run_settings::{BackendArg, RunSettingsArgs};

/// Evaluation harness for autonomous coding agents.
///
/// sforge builds task images, runs an agent in a Work container, grades its submissions in fresh
/// Judge containers and records the whole trajectory.
#[derive(Debug, Parser)]
#[command(
    name = "sforge",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags shared by every subcommand.
#[derive(Debug, Default, Clone, Args)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// Directory for build logs, run records and judge state [env: SFORGE_LOG_DIR] [default: ./logs]
    #[arg(long, value_name = "PATH", global = true)]
    pub log_dir: Option<PathBuf>,

    /// Directory holding BENCHMARK.yaml and the task JSON files [env: SFORGE_TASKS_DIR] [default: ./tasks]
    #[arg(long, value_name = "PATH", global = true)]
    pub tasks_dir: Option<PathBuf>,

    /// Do not stream progress to the console (results and errors are still printed)
    #[arg(long, global = true)]
    pub silent: bool,

    /// More log output on stderr: -v for info, -vv for every command sforge runs (RUST_LOG overrides)
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build the base, work and judge images of tasks (missing ones only, unless forced)
    Build(BuildArgs),
    /// Pull task images from a registry and tag them with their local names
    Pull(RegistryArgs),
    /// Tag task images for a registry and push them
    Push(RegistryArgs),
    /// Write every generated file of a task to a directory and print its docker commands
    Render(RenderArgs),
    /// Run an agent on tasks in Work containers, graded by the judge
    Run(Box<RunArgs>),
    /// Grade an archive for a task in a fresh judge container, without a judge server
    ///
    /// Exit status: 0 when the archive was graded (whatever the score), 2 when the judge
    /// rejected it (the reason is printed and kept in report.json), 1 when it could not be
    /// graded (images, engine, task), 130 when interrupted.
    Eval(EvalArgs),
    /// Red-team tasks' graders: grade a built-in corpus of adversarial submissions (runner
    /// shadowing for Python, node, cargo, go, Maven and Gradle; forged result lines;
    /// protected-file overwrites; leaks; resource abuse) with each task's real judge and report
    /// every route the judge would select over the task's baseline, every leak (also one the
    /// baseline already shows) and every round a resource attack leaves without the grader's
    /// result
    ///
    /// Routes that cannot be tried on a task (no judge-only word to recognise a leak by, no
    /// Python for the Python payloads) get a `not applicable` row saying why. Exit status: 0
    /// when every grader held (not-applicable rows included, unless --strict), 3 when any route
    /// succeeded or the baseline leaks, 1 when the audit could not run, an attack could not be
    /// graded (inconclusive) or, with --strict, a route was not applicable; 130 when
    /// interrupted. Reports go to <log_dir>/audits/<audit-id>/.
    Audit(AuditArgs),
    /// Run the judge server that grades submissions over HTTP
    ///
    /// Game tasks are played through its game routes, /api/v1/game/<run>/<task>/{new,
    /// <sid>/step, <sid>/status, <sid>/close, close-all}; each call carries the run's token
    /// (query token=<token> or the header Authorization: Bearer <token>), which only works for
    /// its own run and task. Each session runs in its own game container.
    Serve(ServeArgs),
    /// Run the API reverse proxy on the host: containers reach the model API through it
    Proxy(ProxyArgs),
    /// List the tasks of the benchmark in the tasks directory
    List(ListArgs),
    /// Download a benchmark's task files from its Hugging Face Hub dataset
    ///
    /// Files go to a staging directory beside the destination first, are checked against the
    /// sizes and hashes the Hub lists, then moved into place; an interrupted download resumes.
    /// Files you edited after an earlier fetch are never replaced without --force. Environment:
    /// HF_ENDPOINT (a mirror; default https://huggingface.co), HF_TOKEN (private or gated
    /// datasets), HF_HUB_OFFLINE=1 (no network: accept an earlier fetch), the proxy variables
    /// (SFORGE_HTTPS_PROXY > HTTPS_PROXY > https_proxy, likewise HTTP and NO_PROXY) and
    /// SFORGE_CA_FILE (extra CA certificates).
    FetchTasks(FetchTasksArgs),
    /// Show the fully resolved settings and where each value came from
    Config(Box<ConfigArgs>),
    /// Remove what sforge made and no running sforge uses: containers, pods, their Secrets and
    /// NetworkPolicies, iptables chains, secret temporary directories
    ///
    /// A resource is garbage when its expiry label has passed or the sforge process that made
    /// it no longer runs on this host; with --older-than, also when that cannot be told. Only
    /// your own resources unless --all-owners. Exit status 1 when a removal failed.
    Gc(GcArgs),
    /// Check everything a run needs on a backend, each problem with its fix
    ///
    /// Docker: client, engine, BuildKit, iptables rights, disk space, task images, and from
    /// inside a container: this host, the judge (with --judge-url) and the bridge
    /// MAC. Kubernetes: kubectl, the cluster, the namespace, the rights to create pods, secrets,
    /// network policies and pods/exec, and the task images in the registry. Both: the API base
    /// URL. Exit status 1 when a check fails.
    Doctor(DoctorArgs),
    /// Serve a read-only web UI over the recorded runs (logs/runs): scores over time, rounds,
    /// test output, the agent's trajectory
    ///
    /// Pages: / (runs), /run/RUN, /run/RUN/TASK, its rounds (…/submission/ROUND and …/diff),
    /// …/trajectory, /task/TASK (a task across runs), /compare/TASK?runs=A,B and
    /// /compare-runs?models=GROUP&models=GROUP; downloads at …/download and …/agent-output; the
    /// JSON behind them under /api/.
    ///
    /// It listens on loopback by default and has no authentication: bind another address only on
    /// a trusted network. Pages need no internet (nothing is loaded from a CDN). A task without
    /// final_result.json whose files did not change for SFORGE_VIZ_ABORT_THRESHOLD seconds (7200)
    /// is shown as aborted.
    Visualizer(VisualizerArgs),
}

/// Which tasks a command works on.
#[derive(Debug, Clone, Args)]
#[group(required = true, multiple = false)]
pub struct TaskSelection {
    /// Task ids (file names in the tasks directory, without .json)
    #[arg(long, num_args = 1.., value_name = "ID")]
    pub task: Vec<String>,

    /// Every task of the tasks directory, in file-name order
    #[arg(long)]
    pub all: bool,
}

#[derive(Debug, Args)]
pub struct BuildArgs {
    #[command(flatten)]
    pub select: TaskSelection,

    /// Rebuild work and judge images without cache (base images are kept if present)
    #[arg(long)]
    pub force_rebuild: bool,

    /// Rebuild base images too, without cache (implies --force-rebuild)
    #[arg(long)]
    pub force_rebuild_with_base: bool,

    /// Print the docker commands as a shell script instead of running them (existing images are
    /// still looked up); the generated files are written as usual
    #[arg(long)]
    pub dry_run: bool,

    /// Images built at the same time [default: number of CPUs]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: Option<u16>,
}

#[derive(Debug, Args)]
pub struct RegistryArgs {
    #[command(flatten)]
    pub select: TaskSelection,

    /// Registry prefix: images are <REGISTRY>/<local name> there [env: SFORGE_REGISTRY]
    #[arg(long, value_name = "REGISTRY")]
    pub registry: Option<String>,

    /// Print the docker commands as a shell script instead of running them
    #[arg(long)]
    pub dry_run: bool,

    /// Images transferred at the same time [default: 4]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: Option<u16>,
}

#[derive(Debug, Args)]
pub struct RenderArgs {
    /// The task to render
    #[arg(long, value_name = "ID")]
    pub task: String,

    /// Directory to write the files to (created if missing)
    #[arg(short, long, value_name = "DIR")]
    pub output: PathBuf,

    /// Container backend; k8s also writes the Pod, Secret (values shown as ***) and, for tasks
    /// without internet, NetworkPolicy YAML to <DIR>/k8s [env: SFORGE_BACKEND] [default: docker]
    #[arg(long, value_enum, value_name = "NAME")]
    pub backend: Option<BackendArg>,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Print JSON (one object per task, with its base/work/judge image names) instead of the table
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// Resolve the settings a run of this task would use (task JSON limits and experiment task
    /// overrides included)
    #[arg(long, value_name = "ID")]
    pub task: Option<String>,

    /// Print JSON instead of a table
    #[arg(long)]
    pub json: bool,

    #[command(flatten)]
    pub run: RunSettingsArgs,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// A task to audit (repeatable)
    #[arg(
        long,
        value_name = "ID",
        required_unless_present = "all",
        conflicts_with = "all"
    )]
    pub task: Vec<String>,

    /// Audit every task of the benchmark
    #[arg(long)]
    pub all: bool,

    /// Gradings at once [default: as serve's --judge-concurrency]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=64))]
    pub jobs: Option<u16>,

    /// Print the findings as JSON instead of tables
    #[arg(long)]
    pub json: bool,

    /// Exit 1 when a route could not be tried on some task (a `not applicable` row)
    #[arg(long)]
    pub strict: bool,

    /// Container backend [env: SFORGE_BACKEND] [default: docker]
    #[arg(long, value_enum, value_name = "NAME")]
    pub backend: Option<BackendArg>,
}

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// The task to grade against (with --run: only this task's submissions)
    #[arg(long, value_name = "ID", required_unless_present = "run")]
    pub task: Option<String>,

    /// The submission: a .tar.gz of files relative to the task's cwd, or - to read it from
    /// stdin. Several are graded in parallel, each as its own manual-N round
    #[arg(
        long,
        value_name = "PATH",
        num_args = 1..,
        required_unless_present = "run",
        conflicts_with = "run"
    )]
    pub archive: Vec<PathBuf>,

    /// Grade every recorded submission of this run again with the current judge images (after
    /// fixing a grader): new reports go beside the old ones, in submissions/<round>/regrade-<time>-<id>/,
    /// and the comparison (old score -> new score per round) into the run directory
    #[arg(long, value_name = "RUN_ID", conflicts_with_all = ["run_id", "timeout"])]
    pub run: Option<String>,

    /// Gradings at once when several submissions are graded [default: as serve's
    /// --judge-concurrency]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=64))]
    pub jobs: Option<u16>,

    /// Warm judge containers kept ready while several submissions are graded
    /// [env: SFORGE_JUDGE_POOL] [default: 1]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(0..=64))]
    pub judge_pool: Option<u32>,

    /// Run id for the log directory and the judge container [default: 12 random hex digits]
    #[arg(long, value_name = "ID")]
    pub run_id: Option<String>,

    /// Seconds the evaluation may take [default: the task's judge.eval_timeout]
    #[arg(long, value_name = "N")]
    pub timeout: Option<u64>,

    /// CPU limit of the judge container (whole CPUs)
    #[arg(long, value_name = "N")]
    pub judge_cpu_limit: Option<u32>,

    /// Memory limit of the judge container, e.g. 8g
    #[arg(long, value_name = "SIZE")]
    pub judge_mem_limit: Option<String>,

    /// Print the full report as JSON
    #[arg(long)]
    pub json: bool,

    /// Print the docker (or kubectl) commands of the grading as a shell script instead: judge
    /// image builds when missing, the judge container, the copies, eval.sh, the removal. The
    /// archive is checked for real; the checked copy is kept under <log-dir>/runs/<run>/<task>/plan/
    #[arg(long, conflicts_with_all = ["run", "json"])]
    pub dry_run: bool,

    /// Container backend [env: SFORGE_BACKEND] [default: docker]
    #[arg(long, value_enum, value_name = "NAME")]
    pub backend: Option<BackendArg>,
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Container backend to check [env: SFORGE_BACKEND] [default: docker]
    #[arg(long, value_enum, value_name = "NAME")]
    pub backend: Option<BackendArg>,

    /// The judge URL runs will give their containers (as in `sforge run --judge-url`): check
    /// that a container reaches it
    #[arg(long, value_name = "URL")]
    pub judge_url: Option<String>,

    /// Print the checks as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct GcArgs {
    /// Print what would be removed, remove nothing
    #[arg(long)]
    pub dry_run: bool,

    /// Include every user's resources, not only yours
    #[arg(long)]
    pub all_owners: bool,

    /// Only resources created longer ago than this (e.g. 2h, 1d), and then also those whose
    /// process cannot be checked
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub older_than: Option<std::time::Duration>,

    /// Container backend [env: SFORGE_BACKEND] [default: docker]
    #[arg(long, value_enum, value_name = "NAME")]
    pub backend: Option<BackendArg>,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on
    #[arg(long, default_value = "0.0.0.0")]
    pub host: String,

    /// Port to listen on
    #[arg(long, default_value_t = 8080)]
    pub port: u16,

    /// Judge containers grading at the same time; more submissions wait in a FIFO queue
    /// [default: four times the CPUs, 2 to 16]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub judge_concurrency: Option<u16>,

    /// Warm judge containers kept ready per registered run and task, so that a submission does
    /// not wait for one to start; each grades one submission and is replaced
    /// [env: SFORGE_JUDGE_POOL] [default: 1]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(0..=64))]
    pub judge_pool: Option<u32>,

    /// Largest accepted submission upload, in MiB
    #[arg(long, value_name = "MIB", default_value_t = 256)]
    pub max_upload_mib: u64,

    /// On Ctrl-C/SIGTERM, seconds to let running gradings finish; unfinished ones are graded
    /// again at the next start
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    pub shutdown_grace: u64,

    /// Game tasks: active game sessions (containers) per run and task; starting one more
    /// archives the oldest
    #[arg(long, value_name = "N", default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=64))]
    pub game_sessions_per_run: u32,

    /// Game tasks: active game sessions in all; beyond, new sessions are refused (503)
    #[arg(long, value_name = "N", default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub game_sessions_max: u32,

    /// Game tasks: seconds without a call after which a game session is archived and its
    /// container removed
    #[arg(long, value_name = "SECS", default_value_t = 600, value_parser = clap::value_parser!(u64).range(1..))]
    pub game_idle_timeout: u64,

    /// Print what starting the server would run (builds of missing judge images) as a shell
    /// script, and the server's settings as comments; start nothing
    #[arg(long)]
    pub dry_run: bool,
}

/// `sforge proxy`: forwards every request to --target, streaming responses (SSE) as they come.
/// Upstream HTTP proxy: SFORGE_HTTPS_PROXY > HTTPS_PROXY > https_proxy (and the HTTP variants),
/// honouring SFORGE_NO_PROXY/NO_PROXY; none set means direct connections. https targets are
/// tunnelled through it with CONNECT; --ca-file trusts a TLS-inspecting proxy's CA.
#[derive(Debug, Args)]
pub struct ProxyArgs {
    /// Upstream API base URL, for example https://api.anthropic.com (a path prefix is kept)
    #[arg(long, value_name = "URL")]
    pub target: String,

    /// PEM file of extra CA certificates to trust for an https --target, in addition to the
    /// built-in web PKI roots (a private API gateway, or a corporate proxy that inspects TLS).
    /// Default: SFORGE_PROXY_CA_FILE
    #[arg(long, value_name = "PEM")]
    pub ca_file: Option<std::path::PathBuf>,

    /// Address to listen on
    #[arg(long, default_value = "0.0.0.0")]
    pub host: String,

    /// Port to listen on
    #[arg(long, default_value_t = 9090)]
    pub port: u16,

    /// Keyless mode: the name of the host environment variable holding the real API key. Clients
    /// must then present a run token minted through the admin API (secret from
    /// SFORGE_PROXY_ADMIN_SECRET, else generated into <log-dir>/proxy/admin_secret)
    #[arg(long, value_name = "VAR")]
    pub inject_key_from_env: Option<String>,

    /// Keyless mode: the header carrying the real key upstream. auto: x-api-key when the client
    /// sent its token in x-api-key (Anthropic style), else Authorization: Bearer (OpenAI style);
    /// authorization: always Bearer; any other name: that header with the raw key
    #[arg(
        long,
        value_name = "HEADER",
        default_value = "auto",
        requires = "inject_key_from_env"
    )]
    pub key_header: String,

    /// Connections served at once, each on its own thread; beyond them new connections get 503
    #[arg(long, value_name = "N", default_value_t = 256, value_parser = clap::value_parser!(u16).range(1..))]
    pub workers: u16,

    /// On Ctrl-C/SIGTERM, seconds to let requests in flight finish
    #[arg(long, value_name = "SECS", default_value_t = 5)]
    pub shutdown_grace: u64,
}

/// `sforge visualizer`: the web UI over the run directories.
#[derive(Debug, Args)]
pub struct VisualizerArgs {
    /// Directory of the runs to show [default: <log-dir>/runs]
    #[arg(long, value_name = "PATH")]
    pub runs_dir: Option<PathBuf>,

    /// Address to listen on (there is no authentication: 0.0.0.0 shows your runs to the network)
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,

    /// Port to listen on (0 picks a free one)
    #[arg(long, default_value_t = 8000)]
    pub port: u16,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Tasks to run (several run in parallel); or list them in an --experiment file
    #[arg(long, num_args = 1.., value_name = "ID")]
    pub task: Vec<String>,

    /// Run id: the name of the run's log directory [default: 12 random hex digits]
    #[arg(long, value_name = "ID")]
    pub run_id: Option<String>,

    /// With --agent script: the shell script to run as the agent inside the Work container
    #[arg(long, value_name = "PATH")]
    pub agent_script: Option<PathBuf>,

    /// Do not grade the final code as one last auto round when the agent stops
    #[arg(long)]
    pub no_final_eval: bool,

    /// Print the run (docker, kubectl and iptables commands) as a shell script to replay by
    /// hand and write its files to the run directory, without starting anything (no judge is
    /// contacted). Works offline: checks that cannot answer become warnings, unresolved hosts
    /// are looked up when the script runs, secrets are read from its environment then
    #[arg(long)]
    pub dry_run: bool,

    /// Tasks in flight at once [default: all of them]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub parallel: Option<u16>,

    /// Seconds between TERM and KILL when the agent's time is up
    #[arg(long, value_name = "SECS", default_value_t = 10)]
    pub grace: u64,

    /// Also write every phase change and graded round to FILE, one JSON object per line
    #[arg(long, value_name = "FILE")]
    pub events: Option<PathBuf>,

    #[command(flatten)]
    pub settings: RunSettingsArgs,
}
