//! One adversarial submission ([`Attack`]): its archive entries and how its grading is judged.

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
    /// How its grading is judged.
    pub check: Check,
    /// Why the route cannot try it on this task: it is then not graded and reported as
    /// `not applicable` (or as a leak the baseline already shows).
    pub skipped: Option<String>,
}

impl Attack {
    /// An attack (graded, like every attack, under the task's own eval timeout).
    #[must_use]
    pub fn new(
        route: &'static str,
        name: &str,
        about: &str,
        entries: Vec<Entry>,
        check: Check,
    ) -> Self {
        Self {
            route,
            name: name.to_owned(),
            about: about.to_owned(),
            entries,
            check,
            skipped: None,
        }
    }

    /// The row of an attack the route cannot try on this task, and why.
    #[must_use]
    pub fn not_applicable(
        route: &'static str,
        name: &str,
        about: &str,
        check: Check,
        reason: &str,
    ) -> Self {
        Self {
            skipped: Some(reason.to_owned()),
            ..Self::new(route, name, about, Vec::new(), check)
        }
    }
}
