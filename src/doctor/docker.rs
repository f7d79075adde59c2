//! The Docker backend's checks: client, engine, BuildKit, firewall rights, disk space, task
//! images, and — from inside a real container — the host, the judge and the bridge MAC.

use std::collections::BTreeSet;
use std::sync::Arc;

use super::check::{first_line, Check};
use super::probe::{HostListener, Probe};
use crate::config::{Settings, Source};
use crate::image::{parse_image_list, Docker, ImageBuilder};
use crate::isolation::Firewall;
use crate::process::{Cmd, Runner};
use crate::task::Task;

/// Free space under which a check fails, and under which it warns (bytes).
const DISK_FAIL: u64 = 2 << 30;
const DISK_WARN: u64 = 10 << 30;

pub(super) fn checks(settings: &Settings, runner: &Arc<dyn Runner>, tasks: &[Task]) -> Vec<Check> {
    let docker = Docker::new(&settings.docker.value);
    let mut out = vec![client(&settings.docker.value)];
    let engine = engine(runner.as_ref(), &settings.docker.value);
    let engine_ok = engine.status == super::Status::Pass;
    out.push(engine);
    out.push(firewall(settings, runner, tasks));
    if !engine_ok {
        // Every further docker command would wait on the same engine.
        let skipped = [
            "BuildKit",
            "disk space",
            "task images",
            "container to host",
            "bridge MAC",
        ];
        out.extend(skipped.map(|name| Check::skip(name, "needs the engine")));
        return out;
    }
    out.push(buildkit(runner.as_ref(), &docker));
    out.push(disk(runner.as_ref(), &settings.docker.value));
    let present = present_images(runner.as_ref(), &docker);
    out.push(images(tasks, &present));
    out.extend(from_a_container(settings, runner, tasks, &present));
    out
}

/// The client is found (not run: some clients wait for the engine even for `--version`).
fn client(program: &str) -> Check {
    match which::which(program) {
        Ok(path) => Check::pass("docker client", path.display().to_string()),
        Err(e) => Check::fail(
            "docker client",
            format!("{program}: {e}"),
            "install the docker CLI (Debian: apt-get install docker.io) or point SFORGE_DOCKER at it",
        ),
    }
}

fn engine(runner: &dyn Runner, program: &str) -> Check {
    let cmd = Cmd::new(program)
        .args(["version", "--format", "{{.Server.Version}}"])
        .read_only()
        .timeout(std::time::Duration::from_secs(15));
    match runner.run(&cmd) {
        Ok(out) => Check::pass(
            "docker engine",
            format!("version {}", out.stdout_str().trim()),
        ),
        Err(e) => Check::fail(
            "docker engine",
            first_line(&e.to_string()),
            "start the engine (scripts/setup.sh on Debian 12, or systemctl start docker); \
             check DOCKER_HOST and that you may use its socket",
        ),
    }
}

fn buildkit(runner: &dyn Runner, docker: &Docker) -> Check {
    let builder = ImageBuilder {
        runner,
        docker: docker.clone(),
        log_dir: std::env::temp_dir(),
        dry_run: true,
    };
    match builder.check_buildkit() {
        Ok(()) => Check::pass("BuildKit", "available (git credentials can reach builds)"),
        Err(e) => Check::warn(
            "BuildKit",
            format!("unavailable in {} {}", e.program, e.version),
            "needed only for SFORGE_GIT_USER/SFORGE_GIT_TOKEN: install the buildx plugin or set \
             SFORGE_DOCKER to a client with built-in BuildKit (Debian's /usr/bin/docker)",
        ),
    }
}

/// Firewall rights: a failure when a task needs isolation, a warning otherwise.
fn firewall(settings: &Settings, runner: &Arc<dyn Runner>, tasks: &[Task]) -> Check {
    let fw = Firewall::new(
        Arc::clone(runner),
        &settings.iptables.value,
        &settings.ip6tables.value,
        crate::owner::is_root(),
    );
    let Err(e) = fw.check_rights() else {
        return Check::pass("iptables rights", "sforge may change the firewall");
    };
    let isolated: Vec<&str> = tasks
        .iter()
        .filter(|t| !t.internet)
        .map(|t| t.task_id.as_str())
        .collect();
    let fix = "run as root, or allow passwordless `sudo -n iptables` and `sudo -n ip6tables` \
               (SFORGE_IPTABLES/SFORGE_IP6TABLES name other programs)";
    if isolated.is_empty() && settings.internet.value {
        Check::warn(
            "iptables rights",
            format!(
                "{} (needed only for --disable-internet)",
                first_line(&e.to_string())
            ),
            fix,
        )
    } else {
        let which = if isolated.is_empty() {
            "internet is off".to_owned()
        } else {
            format!("tasks without internet: {}", isolated.join(", "))
        };
        Check::fail(
            "iptables rights",
            format!("{} ({which})", first_line(&e.to_string())),
            fix,
        )
    }
}

fn disk(runner: &dyn Runner, program: &str) -> Check {
    let root = Cmd::new(program)
        .args(["info", "--format", "{{.DockerRootDir}}"])
        .read_only();
    let dir = runner
        .run(&root)
        .map(|o| o.stdout_str().trim().to_owned())
        .unwrap_or_default();
    let free = free_bytes(runner, &dir);
    match free {
        None => Check::skip(
            "disk space",
            format!("cannot read the free space of {dir:?}"),
        ),
        Some(b) if b < DISK_FAIL => Check::fail(
            "disk space",
            format!("{} free under {dir}", gib(b)),
            "free space (docker image prune, sforge gc) or move the engine's data root",
        ),
        Some(b) if b < DISK_WARN => Check::warn(
            "disk space",
            format!("{} free under {dir}", gib(b)),
            "task images and judge containers need several GiB",
        ),
        Some(b) => Check::pass("disk space", format!("{} free under {dir}", gib(b))),
    }
}

/// Free bytes of the file system holding `dir`, from `df` (a remote engine's root is simply
/// not found here).
fn free_bytes(runner: &dyn Runner, dir: &str) -> Option<u64> {
    if dir.is_empty() || !std::path::Path::new(dir).exists() {
        return None;
    }
    let out = runner
        .run(&Cmd::new("df").args(["-Pk", dir]).read_only())
        .ok()?;
    let text = out.stdout_str();
    let kib: u64 = text
        .lines()
        .nth(1)?
        .split_whitespace()
        .nth(3)?
        .parse()
        .ok()?;
    Some(kib * 1024)
}

#[allow(clippy::cast_precision_loss, reason = "GiB with one decimal")]
fn gib(bytes: u64) -> String {
    format!("{:.1} GiB", bytes as f64 / f64::from(1u32 << 30))
}

fn present_images(runner: &dyn Runner, docker: &Docker) -> BTreeSet<String> {
    runner
        .run(&docker.list_images())
        .map(|o| parse_image_list(&o.stdout_str()))
        .unwrap_or_default()
}

fn images(tasks: &[Task], present: &BTreeSet<String>) -> Check {
    if tasks.is_empty() {
        return Check::skip("task images", "no tasks directory");
    }
    let missing: Vec<String> = tasks
        .iter()
        .flat_map(|t| [t.images.work.to_string(), t.images.judge.to_string()])
        .filter(|image| !present.contains(image))
        .collect();
    if missing.is_empty() {
        return Check::pass(
            "task images",
            format!("all {} tasks' work and judge images present", tasks.len()),
        );
    }
    Check::warn(
        "task images",
        format!("{} missing, e.g. {}", missing.len(), missing[0]),
        "sforge build --all (run and eval also build missing images first)",
    )
}

/// The host (a port sforge opens) and the configured judge, reached from a container started
/// like a Work container; and the bridge MAC isolation derives an IPv6 address from.
fn from_a_container(
    settings: &Settings,
    runner: &Arc<dyn Runner>,
    tasks: &[Task],
    present: &BTreeSet<String>,
) -> Vec<Check> {
    let Some(image) = tasks
        .iter()
        .map(|t| t.images.work.to_string())
        .find(|image| present.contains(image))
    else {
        return ["container to host", "bridge MAC"]
            .map(|n| {
                Check::skip(
                    n,
                    "no work image present to probe from (sforge build --all)",
                )
            })
            .to_vec();
    };
    let listener = match HostListener::start() {
        Ok(l) => l,
        Err(e) => {
            return vec![Check::skip(
                "container to host",
                format!("cannot open a port: {e}"),
            )]
        }
    };
    let probe = match Probe::start(runner, &settings.docker.value, &image) {
        Ok(p) => p,
        Err(e) => {
            return vec![Check::fail(
                "container to host",
                format!(
                    "cannot start a container from {image}: {}",
                    first_line(&e.to_string())
                ),
                "check the engine's log; sforge run starts containers the same way",
            )]
        }
    };
    let mut out = vec![probe.reach_host(listener.port()), probe.mac()];
    if settings.judge_url.source != Source::Default {
        out.push(probe.reach_judge(&settings.judge_url.value));
    }
    out
}
