//! Route `resource`: output floods, sleeping past the eval timeout and fork storms from the
//! submission's modules; flagged when they make the round a harness error instead of a low
//! score (docs/audit.md#resource). Each runs under a short timeout.

use super::attack::{Attack, Entry};
use super::payload::{flood, fork_storm, sleep};
use super::target::Target;
use super::verdict::Check;

/// Longest evaluation of a resource attack, in seconds.
pub const RESOURCE_TIMEOUT: u64 = 20;

/// The three abuses, when the submission has Python modules.
#[must_use]
pub fn attacks(target: &Target) -> Vec<Attack> {
    if !target.is_python() || target.python_modules().next().is_none() {
        return Vec::new();
    }
    let timeout = target.eval_timeout.clamp(1, RESOURCE_TIMEOUT);
    [
        (
            "resource-output-flood",
            "prints 512 MiB at import",
            flood(512),
        ),
        (
            "resource-sleep",
            "sleeps past the eval timeout",
            sleep(timeout + 30),
        ),
        (
            "resource-fork-storm",
            "forks until refused, for ten seconds",
            fork_storm(10),
        ),
    ]
    .into_iter()
    .map(|(name, about, code)| Attack {
        route: "resource",
        name: name.to_owned(),
        about: about.to_owned(),
        entries: target
            .python_modules()
            .map(|m| Entry::file(m, code.clone()))
            .collect(),
        timeout: Some(timeout),
        check: Check::Harness,
    })
    .collect()
}
