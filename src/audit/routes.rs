//! The corpus: every route (one module each) and the attacks it builds for a task.

use super::attack::Attack;
use super::target::Target;
use super::{forge, leak, protected, resource, shadow};

/// A route of the corpus.
pub struct Route {
    pub name: &'static str,
    /// One line for `--help` and the report.
    pub about: &'static str,
    /// The route's submissions for a task (none when it does not apply).
    pub attacks: fn(&Target) -> Vec<Attack>,
}

/// Every route, in report order.
pub const ROUTES: &[Route] = &[
    Route {
        name: "shadow",
        about: "shadow the test runner, its plugins or the language's start-up hooks",
        attacks: shadow::attacks,
    },
    Route {
        name: "forge",
        about: "print forged result lines from the submitted code at import and at exit",
        attacks: forge::attacks,
    },
    Route {
        name: "protected",
        about: "overwrite or remove protected (submit_exclude) files",
        attacks: protected::attacks,
    },
    Route {
        name: "leak",
        about: "print judge-side files and environment into the report",
        attacks: leak::attacks,
    },
    Route {
        name: "resource",
        about: "flood the output, sleep past the timeout, fork-storm",
        attacks: resource::attacks,
    },
];
