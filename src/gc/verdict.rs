//! What gc decides about one resource, from its labels and age alone.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::judge::GRADER_LABEL;
use crate::process::ProcessError;
use crate::sandbox::lease::{EXPIRES_LABEL, HOST_LABEL, PID_LABEL};

/// What to look at.
#[derive(Debug, Clone, Default)]
pub struct GcOptions {
    /// Everyone's resources, not only the caller's.
    pub all_owners: bool,
    /// Only resources created longer ago than this; those without an owning process too.
    pub older_than: Option<Duration>,
    /// Report what would be removed, remove nothing.
    pub dry_run: bool,
}

/// Why gc failed to look (removals that fail are reported per resource instead).
#[derive(Debug, thiserror::Error)]
pub enum GcError {
    #[error("cannot list {what}: {source}")]
    List {
        what: &'static str,
        #[source]
        source: ProcessError,
    },
    #[error("cannot read the {what} listing: {detail}")]
    Parse { what: &'static str, detail: String },
}

/// One resource gc found, and what it decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// `container`, `pod`, `secret`, `networkpolicy`, `chain` or `directory`.
    pub kind: &'static str,
    pub name: String,
    pub verdict: Verdict,
    /// Set when the removal was tried and failed.
    pub failed: Option<String>,
}

/// Remove (with the reason) or keep (with the reason).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Remove(String),
    Keep(String),
}

/// What the labels and the engine say about one resource.
#[derive(Debug, Clone, Default)]
pub struct Candidate {
    pub labels: BTreeMap<String, String>,
    /// Creation time, epoch seconds.
    pub created: Option<u64>,
}

/// The facts a verdict depends on besides the resource.
pub struct Facts<'a> {
    pub owner: &'a str,
    pub host: &'a str,
    pub now: u64,
    pub alive: &'a dyn Fn(u32) -> bool,
}

/// The verdict for `c`.
#[must_use]
pub fn decide(c: &Candidate, opts: &GcOptions, facts: &Facts<'_>) -> Verdict {
    let label = |k: &str| c.labels.get(k).map(String::as_str);
    let owner = label("sforge.owner").unwrap_or("unknown");
    if !opts.all_owners && owner != facts.owner {
        return Verdict::Keep(format!("owned by {owner} (--all-owners to include)"));
    }
    if let (Some(min), Some(created)) = (opts.older_than, c.created) {
        if facts.now.saturating_sub(created) < min.as_secs() {
            return Verdict::Keep("younger than --older-than".to_owned());
        }
    }
    if let Some(expires) = label(EXPIRES_LABEL).and_then(|v| v.parse::<u64>().ok()) {
        if expires <= facts.now {
            return Verdict::Remove(format!("expired {}", ago(facts.now - expires)));
        }
    }
    let pid = label(PID_LABEL)
        .or_else(|| label(GRADER_LABEL))
        .and_then(|v| v.parse::<u32>().ok());
    let host = label(HOST_LABEL);
    match (pid, host) {
        (Some(pid), Some(h)) if h != facts.host => older_than_or_keep(
            opts,
            &format!("made by sforge process {pid} on host {h}, which gc cannot check"),
        ),
        (Some(pid), _) if (facts.alive)(pid) => {
            Verdict::Keep(format!("in use by sforge process {pid}"))
        }
        (Some(pid), _) => Verdict::Remove(format!("its sforge process {pid} is gone")),
        (None, _) => older_than_or_keep(opts, "no owning process recorded"),
    }
}

fn older_than_or_keep(opts: &GcOptions, why: &str) -> Verdict {
    match opts.older_than {
        Some(d) => Verdict::Remove(format!("older than {}", humantime::format_duration(d))),
        None => Verdict::Keep(format!("{why} (--older-than to include)")),
    }
}

fn ago(seconds: u64) -> String {
    let d = Duration::from_secs(seconds);
    format!("{} ago", humantime::format_duration(d))
}

/// Whether process `pid` runs on this host.
#[must_use]
pub fn process_alive(pid: u32) -> bool {
    pid != 0 && std::path::Path::new(&format!("/proc/{pid}")).exists()
}

/// Epoch seconds of an RFC 3339 time (`docker inspect`'s `Created`, Kubernetes'
/// `creationTimestamp`).
#[must_use]
pub fn epoch(text: &str) -> Option<u64> {
    let t = humantime::parse_rfc3339_weak(text.trim_end_matches('Z').split('.').next()?).ok()?;
    t.duration_since(std::time::UNIX_EPOCH)
        .ok()
        .map(|d| d.as_secs())
}
