//! What `sforge run` checks before any agent time is spent — a Work image without a program the
//! install needs, an unusable CA file, an API base URL at the wrong path — and the extra CA
//! certificates (`--ca-file`/`SFORGE_CA_FILE`) trusted inside the Work container, proven with a
//! real HTTPS server on this host whose certificate a test CA signed.

// Tests observe the system directly, independent of the product's process gateway.
#![allow(clippy::disallowed_methods)]

mod support;

use std::net::IpAddr;
use std::sync::{Arc, Mutex, Weak};

use support::pki::{HttpsServer, TestPki};
use support::run_case::Case;
use support::{BenchFixture, SforgeRun, TestBenchmark};

const COIN_CHANGE: &str = "coin_change";

static FIXTURE: Mutex<Weak<BenchFixture>> = Mutex::new(Weak::new());

fn fixture() -> Arc<BenchFixture> {
    support::built_benchmark(&FIXTURE, "sforge-test-inputs", &[COIN_CHANGE])
}

/// `sforge run` of the unbuilt example benchmark with `args`: for checks that must fail before
/// any image, container or run directory is made.
fn run_unbuilt(bench: &TestBenchmark, env: &[(&str, &str)], args: &[&str]) -> SforgeRun {
    let mut cmd = bench.sforge();
    cmd.envs(env.iter().copied())
        .args(["run", "--task", COIN_CHANGE])
        .args(args);
    SforgeRun::of(&mut cmd)
}

/// Exactly one line on stderr, starting with `error: `, holding every needle.
fn assert_one_line_error(run: &SforgeRun, needles: &[&str]) {
    run.expect_code(1);
    let lines: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| !l.trim().is_empty())
        .collect();
    assert_eq!(lines.len(), 1, "one error line expected\n{run}");
    assert!(lines[0].starts_with("error: "), "{run}");
    for needle in needles {
        assert!(lines[0].contains(needle), "expected {needle:?}\n{run}");
    }
}

#[test]
fn unusable_ca_files_are_refused_before_anything_starts() {
    let bench = TestBenchmark::new("sforge-test-inputs-ca");
    let missing = bench.root().join("missing.pem");
    let missing = missing.to_str().unwrap();
    let run = run_unbuilt(
        &bench,
        &[],
        &["--agent", "claude-code", "--ca-file", missing],
    );
    assert_one_line_error(
        &run,
        &["cannot read the CA file", missing, "flag --ca-file"],
    );

    let not_pem = bench.root().join("notes.txt");
    std::fs::write(&not_pem, "no certificate here\n").unwrap();
    let run = run_unbuilt(
        &bench,
        &[("SFORGE_CA_FILE", not_pem.to_str().unwrap())],
        &["--agent", "codex"],
    );
    assert_one_line_error(&run, &["holds no certificate", "env SFORGE_CA_FILE"]);
    assert!(
        !bench.log_dir().join("runs").exists(),
        "nothing may be made before the inputs are checked"
    );
}

#[test]
fn api_base_urls_at_the_wrong_path_are_refused_naming_the_right_one() {
    let bench = TestBenchmark::new("sforge-test-inputs-url");
    let claude = run_unbuilt(
        &bench,
        &[("SFORGE_AGENT_API_BASE_URL", "https://api.anthropic.com/v1")],
        &["--agent", "claude-code"],
    );
    assert_one_line_error(
        &claude,
        &[
            "use https://api.anthropic.com (without /v1)",
            "SFORGE_AGENT_API_BASE_URL",
        ],
    );
    let codex = run_unbuilt(
        &bench,
        &[(
            "SFORGE_AGENT_API_BASE_URL",
            "http://gateway.local:9090/v1/responses",
        )],
        &["--agent", "codex"],
    );
    assert_one_line_error(&codex, &["use http://gateway.local:9090/v1"]);
    assert!(!bench.log_dir().join("runs").exists());

    // `sforge config` only warns, and shows the settings anyway.
    let mut config = bench.sforge();
    config
        .env("SFORGE_AGENT_API_BASE_URL", "https://api.openai.com")
        .args(["config", "--agent", "codex"]);
    let config = SforgeRun::of(&mut config);
    config
        .expect_code(0)
        .expect_stdout("agent_api_base_url")
        .expect_output("warning: codex posts to <base>/responses");
}

/// A task of the shared benchmark whose work image is the built `coin_change` one without `jq`
/// (what `sforge-submit` needs), under an `image_tag` so nothing rebuilds it.
fn task_without_jq(fixture: &BenchFixture) -> String {
    let bench = &fixture.bench;
    let id = "no_jq";
    let built = bench.images(COIN_CHANGE);
    let tag = support::unique_name("t");
    let maker = support::unique_name("sforge-test-nojq");
    support::run_ok(
        support::docker().args([
            "run",
            "--name",
            &maker,
            "--label",
            support::TEST_LABEL,
            "--user",
            "root",
            &built.work,
            "rm",
            "-f",
            "/usr/bin/jq",
        ]),
        None,
    );
    let work = format!("{}.work.{id}:{tag}", bench.name());
    let committed = support::run(
        support::docker().args([
            "commit",
            "--change",
            "USER agent",
            "--change",
            "CMD [\"bash\"]",
            &maker,
            &work,
        ]),
        None,
    );
    support::run(support::docker().args(["rm", "-f", &maker]), None);
    assert!(committed.status.success(), "docker commit failed");
    let judge = format!("{}.judge.{id}:{tag}", bench.name());
    support::run_ok(support::docker().args(["tag", &built.judge, &judge]), None);
    let mut task = bench.task(COIN_CHANGE);
    task["task_id"] = id.into();
    for role in ["work", "judge"] {
        let spec = task[role].as_object_mut().unwrap();
        spec.remove("setup_cmds");
        spec.insert("image_tag".into(), tag.clone().into());
    }
    bench.write_task(&task);
    id.to_owned()
}

#[test]
fn a_work_image_without_a_needed_program_fails_at_once_naming_it_and_the_fix() {
    require_docker!();
    let fixture = fixture();
    let task = task_without_jq(&fixture);
    let case = Case::new(Arc::clone(&fixture), "echo agent-ran\nexit 0\n");
    let run = case.run(&[&task], &["--timeout", "60"]);
    run.expect_code(1);
    let log = case.text(&task, "run_agent.log");
    let result = case.json(&task, "final_result.json");
    let error = result["error"].as_str().unwrap_or_default();
    for needle in [
        "lacks jq (sforge-submit)",
        "add jq to extra_packages of base image 'python' in",
        "BENCHMARK.yaml",
        "--force-rebuild-with-base",
    ] {
        assert!(error.contains(needle), "{needle:?} missing: {error}\n{run}");
    }
    assert!(!error.contains('\n'), "one line: {error}");
    assert!(
        !case.text(&task, "agent_output.txt").contains("agent-ran"),
        "the agent must not start\n{log}"
    );
    case.assert_no_containers();
}

/// The agent's probes of `url` from inside the Work container, one verdict line each: curl and
/// Python with the variables sforge sets, and curl with the system store alone.
const TRUST_PROBES: &str = r#"
url="$1"
if curl -fsS --max-time 10 "$url" >/dev/null; then echo "CURL trusts"; else echo "CURL refuses"; fi
if python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=10).read()' "$url" 2>/dev/null
then echo "PYTHON trusts"; else echo "PYTHON refuses"; fi
if env -u SSL_CERT_FILE -u CURL_CA_BUNDLE curl -fsS --max-time 10 "$url" >/dev/null; then echo "SYSTEM trusts"; else echo "SYSTEM refuses"; fi
echo "NODE_EXTRA_CA_CERTS=${NODE_EXTRA_CA_CERTS:-unset}"
grep -c 'PRIVATE KEY' "${NODE_EXTRA_CA_CERTS:-/dev/null}" || true
exit 0
"#;

#[test]
fn the_work_container_trusts_the_extra_ca_for_curl_python_and_the_system_store() {
    require_docker!();
    let fixture = fixture();
    let (gateway, _) = support::bridge_gateway();
    let pki = TestPki::new("sforge work CA test", &["host.docker.internal"]);
    let server = HttpsServer::start(IpAddr::V4(gateway), Arc::clone(&pki.server), "hello");
    let url = format!("https://host.docker.internal:{}/", server.addr.port());
    // The CA file as users get it from IT: the certificate next to a private key, which must
    // never reach the container.
    let bundle = fixture
        .bench
        .root()
        .join(support::unique_name("corp-ca") + ".pem");
    let key = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIKnLkPAgTD0tAVn2sP8z3pLSUcbhOxuGqUCDvJ6n2WjP\n-----END PRIVATE KEY-----\n";
    let ca = std::fs::read_to_string(&pki.ca_file).unwrap();
    std::fs::write(&bundle, format!("{key}{ca}")).unwrap();
    let script = format!("set -- {url}\n{TRUST_PROBES}");

    let trusted = Case::new(Arc::clone(&fixture), &script);
    trusted
        .run(
            &[COIN_CHANGE],
            &["--timeout", "60", "--ca-file", bundle.to_str().unwrap()],
        )
        .expect_code(0);
    let output = trusted.text(COIN_CHANGE, "agent_output.txt");
    for verdict in ["CURL trusts", "PYTHON trusts", "SYSTEM trusts"] {
        assert!(output.contains(verdict), "{verdict:?} expected:\n{output}");
    }
    assert!(
        output.contains(
            "NODE_EXTRA_CA_CERTS=/usr/local/share/ca-certificates/sforge-extra-ca.crt\n0\n"
        ),
        "node's extra certificates, without the key:\n{output}"
    );
    let copy = trusted.text(COIN_CHANGE, "_extra_ca.pem");
    assert!(
        copy.contains("BEGIN CERTIFICATE") && !copy.contains("PRIVATE KEY"),
        "{copy}"
    );
    trusted.assert_no_containers();

    // The control: without the setting nothing trusts the server, so the test can fail.
    let untrusted = Case::new(Arc::clone(&fixture), &script);
    untrusted
        .run(&[COIN_CHANGE], &["--timeout", "60"])
        .expect_code(0);
    let output = untrusted.text(COIN_CHANGE, "agent_output.txt");
    for verdict in ["CURL refuses", "PYTHON refuses", "SYSTEM refuses"] {
        assert!(output.contains(verdict), "{verdict:?} expected:\n{output}");
    }
    untrusted.assert_no_containers();
}

#[test]
fn resources_are_owned_by_the_effective_user_when_user_is_unset() {
    require_docker!();
    let fixture = fixture();
    let me = support::run_ok(std::process::Command::new("id").arg("-un"), None);
    let me = String::from_utf8_lossy(&me.stdout).trim().to_owned();
    // `sforge()` clears the environment: no USER, no LOGNAME, as in root shells and CI jobs.
    let mut cmd = fixture.bench.sforge();
    cmd.args([
        "run",
        "--task",
        COIN_CHANGE,
        "--agent",
        "codex",
        "--dry-run",
    ]);
    let run = SforgeRun::of(&mut cmd);
    run.expect_code(0)
        .expect_stdout(&format!("--label 'sforge.owner={me}'"));
    assert!(!run.stdout.contains("owner=unknown"), "{run}");
}
