//! What a route is made of: the adversarial submissions it builds for a task ([`Attack`]) and
//! how their gradings are judged; [`ROUTES`] lists every route of the corpus.

use super::target::Target;
use super::verdict::Check;

/// One entry of an adversarial archive, relative to the task's `cwd`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// A regular file (mode 0644, or 0755 when `executable`).
    File {
        path: String,
        data: Vec<u8>,
        executable: bool,
    },
    /// A symbolic link to `target`.
    Symlink { path: String, target: String },
    /// A hard link to an earlier entry `target` of the same archive.
    Hardlink { path: String, target: String },
}

impl Entry {
    /// A regular, non-executable file.
    #[must_use]
    pub fn file(path: impl Into<String>, data: impl Into<Vec<u8>>) -> Self {
        Entry::File {
            path: path.into(),
            data: data.into(),
            executable: false,
        }
    }

    /// An executable file.
    #[must_use]
    pub fn script(path: impl Into<String>, data: impl Into<Vec<u8>>) -> Self {
        Entry::File {
            path: path.into(),
            data: data.into(),
            executable: true,
        }
    }
}

/// One adversarial submission.
#[derive(Debug, Clone)]
pub struct Attack {
    /// The route it belongs to (`shadow`, `forge`, …).
    pub route: &'static str,
    /// Names the variant, unique within the task (`shadow-conftest`, …).
    pub name: String,
    /// What it tries, for the report.
    pub about: String,
    pub entries: Vec<Entry>,
    /// Overrides the task's eval timeout (seconds).
    pub timeout: Option<u64>,
    /// How its grading is judged.
    pub check: Check,
}

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
        attacks: super::shadow::attacks,
    },
    Route {
        name: "forge",
        about: "print forged result lines from the submitted code at import and at exit",
        attacks: super::forge::attacks,
    },
    Route {
        name: "protected",
        about: "overwrite or remove protected (submit_exclude) files",
        attacks: super::protected::attacks,
    },
    Route {
        name: "leak",
        about: "print judge-side files and environment into the report",
        attacks: super::leak::attacks,
    },
    Route {
        name: "resource",
        about: "flood the output, sleep past the timeout, fork-storm",
        attacks: super::resource::attacks,
    },
];
