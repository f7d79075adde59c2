//! `sforge gc`: finds what sforge made and no running sforge uses any more — containers, pods
//! with their Secrets and network policies, iptables chains, secret temporary directories — and
//! removes it. Only the caller's own by default (`--all-owners` widens it); never anything
//! without sforge's labels or names.
//!
//! A resource is garbage when its expiry label has passed, or when the sforge process named by
//! its labels (`sforge.pid`/`sforge.grader-pid` on `sforge.host`) no longer runs on this host.
//! Without such labels (resources of older versions, or made on another host), only
//! `--older-than` makes it garbage (docs/security.md#owned-resources).

mod docker;
mod k8s;
mod tempdirs;
mod verdict;

use std::sync::Arc;

pub use verdict::{
    decide, epoch, process_alive, Candidate, Facts, Found, GcError, GcOptions, Verdict,
};

use crate::config::{Backend, Settings};
use crate::process::Runner;

/// Finds garbage on the configured backend, removes it (unless a dry run) and returns every
/// resource looked at, in the order handled.
///
/// # Errors
/// When the engine or the cluster cannot be listed.
pub fn collect(
    settings: &Settings,
    runner: &Arc<dyn Runner>,
    opts: &GcOptions,
) -> Result<Vec<Found>, GcError> {
    let owner = crate::owner::current_owner();
    let host = crate::sandbox::lease::host_name();
    let facts = Facts {
        owner: &owner,
        host: &host,
        now: crate::clock::epoch_secs(),
        alive: &process_alive,
    };
    let mut found = match settings.backend.value {
        Backend::Docker => docker::collect(settings, runner, opts, &facts)?,
        Backend::K8s => k8s::collect(settings, runner.as_ref(), opts, &facts)?,
    };
    found.extend(tempdirs::collect(opts, &facts));
    Ok(found)
}

#[cfg(test)]
mod tests;
