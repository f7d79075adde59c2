//! Containers that end themselves when sforge is gone (docs/security.md#owned-resources).
//!
//! A Work container's PID 1 runs on a lease: it exits — and with it the agent — once the epoch
//! second in [`LEASE_FILE`] passes, or `lifetime` seconds after it started while the file does
//! not exist yet. A running sforge renews the lease every [`RENEW_EVERY`] (the [`LeaseKeeper`]),
//! so a killed sforge leaves a container that stops by itself: at the agent's deadline plus grace
//! (the lease never ends before it while the agent runs), or [`LEASE`] after the last renewal.
//! The agent is root in its container (sudo) and could tamper with the lease; the host side —
//! the process and expiry labels below, read by `sforge gc` — does not depend on it.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use super::{ExecSpec, Sandbox};
use crate::clock;

/// The file holding the lease's end (epoch seconds), written by sforge as root.
pub const LEASE_FILE: &str = "/tmp/.sforge-lease";
/// How long a renewal keeps the container alive.
pub const LEASE: Duration = Duration::from_secs(60);
/// How often a running sforge renews.
pub const RENEW_EVERY: Duration = Duration::from_secs(10);
/// The lifetime of a new container before its first renewal.
pub const FIRST_LEASE: Duration = Duration::from_secs(120);

/// The id of the sforge process that made a container (with [`HOST_LABEL`]: "is it still
/// running?").
pub const PID_LABEL: &str = "sforge.pid";
/// The host that sforge process runs on.
pub const HOST_LABEL: &str = "sforge.host";
/// The epoch second after which the container is garbage whatever its process does.
pub const EXPIRES_LABEL: &str = "sforge.expires";

/// Keeps a container alive doing nothing, and exits at once on SIGTERM (PID 1 ignores signals
/// it has no handler for, which is why a bare `sleep` or `tail -f` takes 10 s to stop).
pub const KEEP_ALIVE: &str = "trap 'exit 0' TERM INT; while :; do sleep 3600 & wait $!; done";

/// PID 1 of a leased container: `$1` is the lifetime before the first renewal. A lease file
/// that cannot be read as a number ends the container (fail closed); TERM ends it at once.
pub const LEASED_KEEP_ALIVE: &str = "trap 'exit 0' TERM INT; end=$(( $(date +%s) + $1 )); \
while :; do if [ -e /tmp/.sforge-lease ]; then end=$(cat /tmp/.sforge-lease); fi; \
[ \"$(date +%s)\" -lt \"$end\" ] || exit 0; sleep 2 & wait $!; done";

/// The PID 1 command of a container: leased when `lifetime` is given.
#[must_use]
pub fn keep_alive_argv(lifetime: Option<Duration>) -> Vec<String> {
    match lifetime {
        None => ["sh", "-c", KEEP_ALIVE].map(str::to_owned).to_vec(),
        Some(lifetime) => vec![
            "sh".to_owned(),
            "-c".to_owned(),
            LEASED_KEEP_ALIVE.to_owned(),
            "sforge-lease".to_owned(),
            lifetime.as_secs().to_string(),
        ],
    }
}

/// The labels that let `sforge gc` tell an orphan from a container in use: this process, this
/// host, and when the container is garbage in any case.
#[must_use]
pub fn process_labels(expires: u64) -> BTreeMap<String, String> {
    BTreeMap::from([
        (PID_LABEL.to_owned(), std::process::id().to_string()),
        (HOST_LABEL.to_owned(), host_name()),
        (EXPIRES_LABEL.to_owned(), expires.to_string()),
    ])
}

/// This machine's name as a label value (at most 63 characters of `[A-Za-z0-9._-]`).
#[must_use]
pub fn host_name() -> String {
    let raw = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let clean: String = raw
        .trim()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        .take(63)
        .collect();
    let clean = clean.trim_matches(|c: char| !c.is_ascii_alphanumeric());
    if clean.is_empty() {
        "unknown".to_owned()
    } else {
        clean.to_owned()
    }
}

/// The command that moves the lease's end to `end` (epoch seconds).
#[must_use]
pub fn renew_exec(end: u64) -> ExecSpec {
    ExecSpec {
        argv: vec![
            "sh".to_owned(),
            "-c".to_owned(),
            format!("echo \"$1\" > {LEASE_FILE}.new && mv -f {LEASE_FILE}.new {LEASE_FILE}"),
            "sforge-lease".to_owned(),
            end.to_string(),
        ],
        user: Some("root".to_owned()),
        timeout: Some(Duration::from_secs(10)),
        ..ExecSpec::default()
    }
}

/// Renews a container's lease until dropped. The lease never ends before the floor (the
/// agent's deadline plus grace, once the agent runs).
pub struct LeaseKeeper {
    floor: Arc<AtomicU64>,
    wake: Arc<(Mutex<Wake>, Condvar)>,
    thread: Option<JoinHandle<()>>,
}

/// What the renewing thread is woken for besides its period.
#[derive(Debug, Default)]
struct Wake {
    stop: bool,
    renew_now: bool,
}

impl LeaseKeeper {
    /// Starts renewing `container`'s lease now and every [`RENEW_EVERY`].
    #[must_use]
    pub fn start(sandbox: Arc<dyn Sandbox>, container: String) -> Self {
        let floor = Arc::new(AtomicU64::new(0));
        let wake = Arc::new((Mutex::new(Wake::default()), Condvar::new()));
        let (f, w) = (Arc::clone(&floor), Arc::clone(&wake));
        let thread = std::thread::Builder::new()
            .name("lease".to_owned())
            .spawn(move || renew_until_stopped(sandbox.as_ref(), &container, &f, &w))
            .map_err(|e| log::warn!("cannot start renewing the container's lease: {e}"))
            .ok();
        LeaseKeeper {
            floor,
            wake,
            thread,
        }
    }

    /// From now on the lease does not end before `epoch` (seconds), and ends there if this
    /// process dies well before it: renewed at once.
    pub fn hold_until(&self, epoch: u64) {
        self.floor.store(epoch, Ordering::SeqCst);
        self.signal(|w| w.renew_now = true);
    }

    fn signal(&self, change: impl FnOnce(&mut Wake)) {
        let (lock, wake) = &*self.wake;
        change(&mut lock.lock().unwrap_or_else(PoisonError::into_inner));
        wake.notify_all();
    }
}

impl Drop for LeaseKeeper {
    fn drop(&mut self) {
        self.signal(|w| w.stop = true);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn renew_until_stopped(
    sandbox: &dyn Sandbox,
    container: &str,
    floor: &AtomicU64,
    wake: &(Mutex<Wake>, Condvar),
) {
    let (lock, signal) = wake;
    loop {
        let end = lease_end(clock::epoch_seconds(), floor.load(Ordering::SeqCst));
        if let Err(e) = sandbox.exec(container, &renew_exec(end), &mut |_| {}) {
            log::debug!("cannot renew the lease of {container}: {e}");
        }
        let guard = lock.lock().unwrap_or_else(PoisonError::into_inner);
        let mut guard = signal
            .wait_timeout_while(guard, RENEW_EVERY, |w| !w.stop && !w.renew_now)
            .unwrap_or_else(PoisonError::into_inner)
            .0;
        if guard.stop {
            return;
        }
        guard.renew_now = false;
    }
}

/// The lease's end renewed at `now`. Well before the floor it is the floor itself, so a sforge
/// killed while the agent runs leaves a container that ends exactly at the agent's deadline
/// plus grace; close to or after the floor it is [`LEASE`] from now.
#[allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "epoch seconds"
)]
fn lease_end(now: f64, floor: u64) -> u64 {
    let now = now.max(0.0).ceil() as u64;
    if floor >= now + 3 * RENEW_EVERY.as_secs() {
        floor
    } else {
        now + LEASE.as_secs()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lease_holds_the_floor_and_otherwise_runs_a_minute() {
        assert_eq!(lease_end(1000.2, 0), 1061);
        assert_eq!(lease_end(1000.0, 5000), 5000);
        // Within three renewals of the floor, a minute from now (the floor may pass before
        // the next renewal).
        assert_eq!(lease_end(4980.0, 5000), 5040);
        assert_eq!(lease_end(6000.0, 5000), 6060);
    }

    #[test]
    fn labels_name_this_process_and_a_clean_host() {
        let labels = process_labels(42);
        assert_eq!(labels[PID_LABEL], std::process::id().to_string());
        assert_eq!(labels[EXPIRES_LABEL], "42");
        let host = &labels[HOST_LABEL];
        assert!(!host.is_empty() && host.len() <= 63, "{host}");
        assert!(host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')));
    }

    #[test]
    fn a_leased_container_runs_its_script_with_the_lifetime() {
        let argv = keep_alive_argv(Some(Duration::from_secs(120)));
        assert_eq!(argv[2], LEASED_KEEP_ALIVE);
        assert_eq!(argv[4], "120");
        assert!(LEASED_KEEP_ALIVE.contains(LEASE_FILE));
        assert_eq!(keep_alive_argv(None)[2], KEEP_ALIVE);
    }
}
