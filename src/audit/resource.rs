//! Route `resource`: output floods, sleeping past the eval timeout and fork storms from the
//! submission's modules; flagged when they make the round a harness error instead of a low
//! score (docs/audit.md#resource). Each runs under a short timeout.

use super::attack::{Attack, Entry};
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
    let sleep = format!("import time\ntime.sleep({})\n", timeout + 30);
    [
        (
            "resource-output-flood",
            "prints 512 MiB at import",
            FLOOD.to_owned(),
        ),
        ("resource-sleep", "sleeps past the eval timeout", sleep),
        (
            "resource-fork-storm",
            "forks until refused, for ten seconds",
            FORK_STORM.to_owned(),
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

const FLOOD: &str = "import os\nline = b'sforge_audit flood ' * 4096 + b'\\n'\nfor _ in range(512 * 1024 * 1024 // len(line)):\n    try:\n        os.write(1, line)\n    except OSError:\n        break\n";

/// Forks for ten seconds at most (children sleep, then exit): bounded by the judge's process
/// limit, never by this code.
const FORK_STORM: &str = "import os, time\nend = time.time() + 10\nwhile time.time() < end:\n    try:\n        if os.fork() == 0:\n            time.sleep(max(0.0, end - time.time()))\n            os._exit(0)\n    except OSError:\n        time.sleep(0.05)\n";
