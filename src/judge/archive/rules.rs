//! The reference's submit whitelist (`submit_paths`) and blacklist (`submit_exclude`), applied to
//! normalised names (docs/compatibility.md#grading: SForge 1.0 compared raw prefixes).

use std::borrow::Cow;
use std::fmt;

use super::fnmatch::fnmatch;
use super::path;

/// Which names of a submission may reach the judge's working directory.
#[derive(Debug, Clone, Copy)]
pub struct Rules<'a> {
    /// Paths the agent may submit, relative to `cwd`; `.` means everything.
    pub submit_paths: &'a [String],
    /// Patterns never taken from a submission (trailing `/` already stripped by the caller).
    pub submit_exclude: &'a [String],
}

/// Why `check` refused a name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Denial {
    NotSubmitted,
    Excluded(String),
}

impl fmt::Display for Denial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotSubmitted => f.write_str("not under any submit path"),
            Self::Excluded(pattern) => write!(f, "excluded by `{pattern}`"),
        }
    }
}

/// Whether a normalised member name may be extracted: it lies under a submit path (or one is
/// `.`), and no exclude equals it, is a directory prefix of it, or matches (fnmatch) its base name
/// or the whole name.
#[must_use]
pub fn is_allowed(name: &str, rules: &Rules) -> bool {
    check(name, rules).is_ok()
}

pub(super) fn check(name: &str, rules: &Rules) -> Result<(), Denial> {
    let submitted = rules.submit_paths.iter().any(|raw| {
        literal(raw).is_some_and(|sp| sp.is_empty() || name == sp || is_under(name, &sp))
    });
    if !submitted {
        return Err(Denial::NotSubmitted);
    }
    match excluding_pattern(name, rules.submit_exclude) {
        Some(pattern) => Err(Denial::Excluded(pattern.to_owned())),
        None => Ok(()),
    }
}

/// The first exclude pattern that removes `name`, if any.
pub(super) fn excluding_pattern<'p>(name: &str, excludes: &'p [String]) -> Option<&'p str> {
    let base = name.rsplit('/').next().unwrap_or(name);
    excludes.iter().map(String::as_str).find(|raw| {
        pattern(raw).is_some_and(|ex| {
            ex.is_empty()
                || name == ex
                || is_under(name, &ex)
                || fnmatch(base, &ex)
                || fnmatch(name, &ex)
        })
    })
}

/// Whether the directory `dir` (normalised; empty is the root) contains something an exclude
/// names: the root does whenever there is an exclude, and `a` does for an exclude `a/tests` or
/// `a/tests/*.py`. Base-name globs such as `*.secret` can match anywhere and are not considered.
pub(super) fn contains_excluded(dir: &str, excludes: &[String]) -> bool {
    excludes.iter().filter_map(|raw| pattern(raw)).any(|ex| {
        let fixed = match ex.find(['*', '?', '[']) {
            Some(meta) => ex[..meta].rsplit_once('/').map_or("", |(dir, _)| dir),
            None => &ex,
        };
        dir.is_empty() || (!fixed.is_empty() && (fixed == dir || is_under(fixed, dir)))
    })
}

fn is_under(name: &str, dir: &str) -> bool {
    name.strip_prefix(dir)
        .is_some_and(|rest| rest.starts_with('/'))
}

/// A submit path as a normalised name (`""` is the root); `None` matches nothing.
fn literal(raw: &str) -> Option<String> {
    let trimmed = raw.trim_end_matches('/');
    if trimmed.is_empty() {
        return None;
    }
    path::normalise(trimmed).ok().map(|c| c.join("/"))
}

/// An exclude pattern with `./` and `//` cleaned up; glob patterns keep their characters.
fn pattern(raw: &str) -> Option<Cow<'_, str>> {
    if raw.contains(['*', '?', '[']) {
        let mut p = raw.trim_end_matches('/');
        while let Some(rest) = p.strip_prefix("./") {
            p = rest;
        }
        return (!p.is_empty()).then_some(Cow::Borrowed(p));
    }
    literal(raw).map(Cow::Owned)
}

#[cfg(test)]
mod tests {
    use super::{contains_excluded, is_allowed, Rules};

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn follows_reference_semantics_on_normalised_names() {
        // (name, submit_paths, submit_exclude, allowed)
        let table: &[(&str, &[&str], &[&str], bool)] = &[
            ("src/a.py", &["."], &["tests"], true),
            ("tests/x.py", &["."], &["tests"], false),
            ("tests", &["."], &["tests"], false),
            ("tests/sub/x.py", &["."], &["tests"], false),
            ("tests_extra/x.py", &["."], &["tests"], true),
            ("src/tests/z.py", &["."], &["tests"], true),
            ("src/tests", &["."], &["tests"], false),
            ("src/a.py", &["src"], &[], true),
            ("src/a.py", &["src/"], &[], true),
            ("src/a.py", &["./src"], &[], true),
            ("srcx/a.py", &["src"], &[], false),
            ("src", &["src"], &[], true),
            ("lib/a.py", &["src", "lib"], &[], true),
            ("README.md", &["src"], &[], false),
            ("a.py", &[], &[], false),
            ("a.pyc", &["."], &["*.pyc"], false),
            ("src/deep/a.pyc", &["."], &["*.pyc"], false),
            ("src/a.py", &["."], &["src/*"], false),
            ("src/a/b.py", &["."], &["src/*"], false),
            ("test_x.py", &["."], &["test_*"], false),
            ("src/test_x.py", &["."], &["test_*"], false),
            (".git/config", &["."], &[".git"], false),
            ("a.py", &["."], &["."], false),
            ("a.py", &["."], &[""], true),
            ("a.py", &[""], &[], false),
            ("Tests/x.py", &["."], &["tests"], true),
            ("tests/x.py", &["."], &["./tests"], false),
            // Reference behaviour: a glob naming a directory does not reach inside it.
            ("tests", &["."], &["t?sts"], false),
            ("tests/x.py", &["."], &["t?sts"], true),
            ("tests/x.py", &["."], &["[st]ests"], true),
            ("tests/x.py", &["."], &["test*"], false),
        ];
        for &(name, paths, excludes, expected) in table {
            let (paths, excludes) = (strings(paths), strings(excludes));
            let rules = Rules {
                submit_paths: &paths,
                submit_exclude: &excludes,
            };
            assert_eq!(
                is_allowed(name, &rules),
                expected,
                "{name:?} with paths {paths:?} excludes {excludes:?}"
            );
        }
    }

    #[test]
    fn finds_directories_that_contain_excluded_paths() {
        let excludes = strings(&["a/tests", "b/*.py", "*.secret"]);
        assert!(contains_excluded("", &excludes));
        assert!(contains_excluded("a", &excludes));
        assert!(contains_excluded("b", &excludes));
        assert!(!contains_excluded("a/tests_x", &excludes));
        assert!(!contains_excluded("src", &excludes));
        assert!(!contains_excluded("", &[]));
    }
}
