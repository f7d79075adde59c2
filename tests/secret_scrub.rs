//! Nothing secret flows back to the agent (docs/security.md#secrets), on the real Docker engine:
//! a submission whose code dumps its judge container's environment (raw, base64,
//! percent-encoded, the proxy password decoded) into the summary, metrics and test names of its
//! result. Through a real `sforge run`, what `sforge-submit --details`, `sforge-submit --list`,
//! `/result` and `/history` show the agent holds `***` instead of every secret value, while the
//! host-side record of the grading shows the values were printed. And the proxy credentials reach
//! only judge containers of tasks whose grading may use the network. Archive entry names the
//! agent chose are escaped in the grading log.

// Tests observe the system directly, independent of the product's process gateway.
#![allow(clippy::disallowed_methods)]

mod support;

use std::fmt::Write as _;
use std::io::Read as _;
use std::sync::{Arc, Mutex, Weak};

use base64::Engine as _;
use serde_json::{json, Value};
use support::run_case::{Case, RUN_LIMIT};
use support::{BenchFixture, SforgeRun, TestBenchmark};

/// Internet on: its judge containers get the proxies.
const ONLINE: &str = "leaky";
/// Internet off: its judge containers grade offline, without the proxies.
const OFFLINE: &str = "leaky_offline";

/// Submitted code that dumps its environment into a structured result, in several spellings.
const LEAK_PY: &str = r#"import base64, json, os, urllib.parse
env = dict(os.environ)
details = []
for name, value in sorted(env.items()):
    b64 = base64.b64encode(("x" + value).encode()).decode()
    details.append({"name": name + "=" + value, "status": "FAILED",
                    "message": "b64=" + b64 + " url=" + urllib.parse.quote(value, safe="")})
    password = urllib.parse.urlsplit(value).password if "@" in value else None
    if password:
        details.append({"name": "decoded", "status": "FAILED",
                        "message": urllib.parse.unquote(password)})
print(json.dumps({"valid": True, "score": 1, "metrics": env, "details": details,
                  "summary": " ".join(f"{k}={v}" for k, v in sorted(env.items()))}))
"#;

static FIXTURE: Mutex<Weak<BenchFixture>> = Mutex::new(Weak::new());

fn fixture() -> Arc<BenchFixture> {
    support::shared_fixture(&FIXTURE, || {
        let bench = TestBenchmark::new("sforge-test-scrub");
        bench.write_task(&leaky_task(ONLINE, true));
        bench.write_task(&leaky_task(OFFLINE, false));
        let mut build = bench.sforge();
        build.args(["--silent", "build", "--task", ONLINE, "--task", OFFLINE]);
        SforgeRun::of(&mut build).expect_code(0);
        BenchFixture { bench }
    })
}

/// A `structured_json` task whose grader naively runs the submitted `leak.py` in-process.
fn leaky_task(id: &str, internet: bool) -> Value {
    let cwd = format!("/home/workspace/{id}");
    json!({
        "task_id": id,
        "name": format!("Secret scrubbing test task {id}"),
        "base_image": "python",
        "platform": "linux/amd64",
        "cwd": cwd,
        "submit_paths": ["."],
        "submit_exclude": ["tests/"],
        "internet": internet,
        "work": {
            "setup_cmds": [format!("mkdir -p {cwd}")],
            "agent_query": "Nothing to do: this task exercises the judge.",
        },
        "judge": {
            "setup_cmds": [format!("mkdir -p {cwd}")],
            "eval_cmd": "python3 leak.py",
            "eval_timeout": 60,
            "parser": "structured_json",
            "score_direction": "maximize",
            "selection": "score_first",
        },
    })
}

/// `label` and 24 random hex digits: a value nothing contains by accident.
fn random_secret(label: &str) -> String {
    let mut bytes = [0_u8; 12];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut random| random.read_exact(&mut bytes))
        .expect("read /dev/urandom");
    bytes.iter().fold(label.to_owned(), |mut text, byte| {
        let _ = write!(text, "{byte:02x}");
        text
    })
}

/// The secrets of one test and the environment that gives them to sforge.
struct Secrets {
    api_key: String,
    /// A judge extra-env value under a name that does not look secret.
    note: String,
    /// The proxy password as the URL spells it (`%21` for `!`) and decoded.
    password: String,
    decoded: String,
    proxy: String,
}

impl Secrets {
    fn new() -> Self {
        let (key, note, pw) = (
            random_secret("judgekey"),
            random_secret("judgenote"),
            random_secret("pw"),
        );
        let password = format!("{pw}%21");
        Self {
            proxy: format!("http://bob:{password}@proxy.invalid:3128"),
            decoded: format!("{pw}!"),
            password,
            api_key: key,
            note,
        }
    }

    fn env(&self) -> [(&'static str, String); 2] {
        [
            (
                "SFORGE_JUDGE_EXTRA_ENV",
                format!(
                    "SFORGE_JUDGE_API_KEY={},JUDGE_NOTE={}",
                    self.api_key, self.note
                ),
            ),
            ("SFORGE_HTTP_PROXY", self.proxy.clone()),
        ]
    }

    /// Every spelling that must not reach the agent.
    fn spellings(&self) -> Vec<String> {
        let b64 = base64::engine::general_purpose::STANDARD.encode(format!("x{}", self.api_key));
        vec![
            self.api_key.clone(),
            self.note.clone(),
            self.password.clone(),
            self.decoded.clone(),
            self.proxy.clone(),
            // Past the characters the leading "x" shares with the key.
            b64[4..b64.len() - 4].to_owned(),
        ]
    }
}

/// The agent: submits `leak.py`, then prints what the judge tells it every way it can ask.
const AGENT: &str = r#"export SFORGE_SUBMIT_POLL_INTERVAL=1
cat > leak.py <<'PY'
@LEAK@
PY
echo "=== submit"
sforge-submit --details; echo "submit exit=$?"
echo "=== list"
sforge-submit --list
echo "=== history"
history="$(curl -sS "$SFORGE_JUDGE_URL/api/v1/history?token=$SFORGE_TOKEN")"
echo "$history"
echo "=== result"
for id in $(jq -r '.entries[].submission_id // empty' <<<"$history"); do
    curl -sS "$SFORGE_JUDGE_URL/api/v1/result/$id"; echo
done
echo "=== done"
"#;

#[test]
fn the_agent_sees_secret_values_only_as_stars() {
    require_docker!();
    let secrets = Secrets::new();
    let case = Case::new(fixture(), &AGENT.replace("@LEAK@", LEAK_PY));
    let mut cmd = case.command(
        &[ONLINE],
        &["--disable-auto-eval", "--no-final-eval", "--timeout", "120"],
    );
    cmd.envs(secrets.env());
    let mut cmd = assert_cmd::Command::from_std(cmd);
    cmd.timeout(RUN_LIMIT);
    let run = SforgeRun::of(&mut cmd);
    run.expect_code(0);
    let output = case.text(ONLINE, "agent_output.txt");
    for marker in [
        "submit exit=0",
        "Results of round agent-1",
        "Submission history: 1 total",
        "\"report\":",
        "=== done",
    ] {
        assert!(output.contains(marker), "no {marker:?} in:\n{output}");
    }
    for secret in secrets.spellings() {
        assert!(
            !output.contains(&secret),
            "{secret} reached the agent:\n{output}"
        );
    }
    for masked in [
        "SFORGE_JUDGE_API_KEY=***",
        "JUDGE_NOTE=***",
        "HTTP_PROXY=***",
        "[FAILED] decoded: ***",
    ] {
        assert!(output.contains(masked), "no {masked:?} in:\n{output}");
    }
    // Control: the grading really printed the values; the operator's record keeps them.
    let printed = std::fs::read_to_string(
        case.task_dir(ONLINE)
            .join("submissions/agent-1/test_output.txt"),
    )
    .expect("the host keeps the grading output");
    for secret in secrets.spellings() {
        assert!(printed.contains(&secret), "{secret} not in:\n{printed}");
    }
    case.assert_no_containers();
}

/// `sforge eval --json` (operator-facing, not masked) of `leak.py` for `task`, with the secrets.
fn eval_leak(bench: &TestBenchmark, task: &str, secrets: &Secrets) -> String {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("src")).unwrap();
    std::fs::write(dir.path().join("src/leak.py"), LEAK_PY).unwrap();
    let archive = dir.path().join("leak.tar.gz");
    std::fs::write(&archive, support::tar_gz_of_dir(&dir.path().join("src"))).unwrap();
    let mut cmd = bench.sforge();
    cmd.envs(secrets.env())
        .args(["--silent", "eval", "--json", "--task", task, "--archive"])
        .arg(&archive);
    let run = SforgeRun::of(&mut cmd);
    run.expect_code(0);
    run.stdout
}

#[test]
fn proxy_credentials_reach_only_judges_that_may_use_the_network() {
    require_docker!();
    let fixture = fixture();
    let secrets = Secrets::new();
    let online = eval_leak(&fixture.bench, ONLINE, &secrets);
    assert!(online.contains(&secrets.password), "{online}");
    let offline = eval_leak(&fixture.bench, OFFLINE, &secrets);
    assert!(offline.contains(&secrets.api_key), "{offline}");
    for secret in [&secrets.password, &secrets.decoded] {
        assert!(!offline.contains(secret.as_str()), "{offline}");
    }
}

/// A `.tar.gz` holding one regular file for each of `names` (written raw, unchecked).
fn tar_gz_with_names(names: &[&[u8]]) -> Vec<u8> {
    let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
        Vec::new(),
        flate2::Compression::default(),
    ));
    for name in names {
        let mut header = tar::Header::new_gnu();
        header.as_old_mut().name[..name.len()].copy_from_slice(name);
        header.set_size(1);
        header.set_mode(0o644);
        header.set_entry_type(tar::EntryType::Regular);
        header.set_cksum();
        builder.append(&header, &b"x"[..]).unwrap();
    }
    builder.into_inner().unwrap().finish().unwrap()
}

#[test]
fn rejected_archive_names_are_escaped_in_the_grading_log() {
    require_docker!();
    let fixture = fixture();
    let bench = &fixture.bench;
    let run_id = support::unique_name("names");
    let archive = bench.root().join(format!("{run_id}.tar.gz"));
    std::fs::write(
        &archive,
        tar_gz_with_names(&[b"evil\nfake: forged log line", b"bell\x07\x1b[2J"]),
    )
    .unwrap();
    let mut cmd = bench.sforge();
    cmd.args([
        "--silent", "eval", "--json", "--task", OFFLINE, "--run-id", &run_id,
    ])
    .arg("--archive")
    .arg(&archive);
    SforgeRun::of(&mut cmd).expect_code(0);
    let log = std::fs::read_to_string(
        bench
            .submission_dir(&run_id, OFFLINE, "manual-1")
            .join("run_instance.log"),
    )
    .unwrap();
    assert!(
        log.contains(r#"rejected "evil\nfake: forged log line""#),
        "{log}"
    );
    assert!(log.contains(r#"rejected "bell\u{7}\u{1b}[2J""#), "{log}");
    assert!(
        !log.lines().any(|line| line.starts_with("fake:")) && !log.contains('\u{1b}'),
        "{log}"
    );
}
