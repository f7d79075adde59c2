//! Lexical normalisation of member names and link targets: no file system is consulted, so a
//! name means the same thing on the host as it will inside the judge container.

use std::fmt;

/// Why a name or link target is unusable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PathError {
    Empty,
    NotUtf8,
    Nul,
    Control,
    Absolute,
    Escapes,
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Empty => "is empty",
            Self::NotUtf8 => "is not valid UTF-8",
            Self::Nul => "contains a NUL byte",
            Self::Control => "contains a control character",
            Self::Absolute => "is an absolute path",
            Self::Escapes => "escapes the archive root with `..`",
        })
    }
}

/// Decodes raw header bytes: UTF-8, no NUL, no control characters (they would corrupt logs
/// and one-name-per-line listings).
pub(super) fn decode(raw: &[u8]) -> Result<&str, PathError> {
    let text = std::str::from_utf8(raw).map_err(|_| PathError::NotUtf8)?;
    if text.contains('\0') {
        return Err(PathError::Nul);
    }
    if text.chars().any(char::is_control) {
        return Err(PathError::Control);
    }
    if text.is_empty() {
        return Err(PathError::Empty);
    }
    Ok(text)
}

/// Normalises a member name: drops empty and `.` components, resolves `..` lexically, and
/// rejects absolute names and names that leave the root. An empty result is the root itself.
pub(super) fn normalise(name: &str) -> Result<Vec<&str>, PathError> {
    if name.starts_with('/') {
        return Err(PathError::Absolute);
    }
    let mut stack = Vec::new();
    for component in name.split('/') {
        match component {
            "" | "." => {}
            ".." => {
                stack.pop().ok_or(PathError::Escapes)?;
            }
            normal => stack.push(normal),
        }
    }
    Ok(stack)
}

/// A link target resolved lexically from the link's directory.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Resolved<'a> {
    pub components: Vec<&'a str>,
    /// Names walked through on the way (each followed by more of the target), e.g. `a/b/d` for
    /// `d/../x` from `a/b`: if one of them is itself a symlink, the lexical answer is wrong.
    pub through: Vec<String>,
}

/// Resolves `target` lexically from the directory `base` (components of an already normalised
/// name); the result must stay inside the root.
pub(super) fn resolve<'a>(base: &[&'a str], target: &'a str) -> Result<Resolved<'a>, PathError> {
    if target.is_empty() {
        return Err(PathError::Empty);
    }
    if target.starts_with('/') {
        return Err(PathError::Absolute);
    }
    let mut stack = base.to_vec();
    let mut through = Vec::new();
    let mut last_was_name = false;
    for component in target.split('/') {
        match component {
            "" | "." => {}
            ".." => {
                stack.pop().ok_or(PathError::Escapes)?;
                last_was_name = false;
            }
            name => {
                stack.push(name);
                through.push(stack.join("/"));
                last_was_name = true;
            }
        }
    }
    if last_was_name {
        through.pop();
    }
    Ok(Resolved {
        components: stack,
        through,
    })
}

/// The relative path from directory `from` to `to`, using only leading `..` components, or `.`
/// when they are the same directory.
pub(super) fn relative(from: &[&str], to: &[&str]) -> String {
    let common = from.iter().zip(to).take_while(|(a, b)| a == b).count();
    let ups = std::iter::repeat_n("..", from.len() - common);
    let parts: Vec<&str> = ups.chain(to[common..].iter().copied()).collect();
    if parts.is_empty() {
        ".".to_owned()
    } else {
        parts.join("/")
    }
}

/// The proper ancestors of a normalised name, shortest first: `a/b/c` gives `a`, `a/b`.
pub(super) fn ancestors(name: &str) -> impl Iterator<Item = &str> {
    name.match_indices('/').map(move |(i, _)| &name[..i])
}

#[cfg(test)]
mod tests {
    use super::{ancestors, decode, normalise, relative, resolve, PathError};

    fn norm(name: &str) -> Result<String, PathError> {
        normalise(name).map(|c| c.join("/"))
    }

    #[test]
    fn normalises_lexically() {
        assert_eq!(norm("./tests/x").as_deref(), Ok("tests/x"));
        assert_eq!(norm("a/../tests/x").as_deref(), Ok("tests/x"));
        assert_eq!(norm("tests//x").as_deref(), Ok("tests/x"));
        assert_eq!(norm("a/./b/").as_deref(), Ok("a/b"));
        assert_eq!(norm("./").as_deref(), Ok(""));
        assert_eq!(norm("a/..").as_deref(), Ok(""));
        assert_eq!(norm("../evil"), Err(PathError::Escapes));
        assert_eq!(norm("a/../../evil"), Err(PathError::Escapes));
        assert_eq!(norm("/etc/passwd"), Err(PathError::Absolute));
        assert_eq!(norm("..."), Ok("...".to_owned()));
    }

    #[test]
    fn decodes_only_clean_text() {
        assert_eq!(decode(b"src/a.py"), Ok("src/a.py"));
        assert_eq!(decode(b""), Err(PathError::Empty));
        assert_eq!(decode(b"a\0b"), Err(PathError::Nul));
        assert_eq!(decode(b"a\nb"), Err(PathError::Control));
        assert_eq!(decode(b"\xff"), Err(PathError::NotUtf8));
    }

    #[test]
    fn resolves_targets_from_the_link_directory() {
        let base = ["src", "pkg"];
        let comps = |t| resolve(&base, t).map(|r| r.components);
        assert_eq!(comps("../../data"), Ok(vec!["data"]));
        assert_eq!(comps("x"), Ok(vec!["src", "pkg", "x"]));
        let hop = resolve(&base, "d/../e/./f/").expect("inside");
        assert_eq!(hop.through, ["src/pkg/d", "src/pkg/e"]);
        assert_eq!(hop.components, ["src", "pkg", "e", "f"]);
        assert_eq!(resolve(&base, "../../../etc"), Err(PathError::Escapes));
        assert_eq!(resolve(&base, "/etc"), Err(PathError::Absolute));
        assert_eq!(resolve(&base, ""), Err(PathError::Empty));
    }

    #[test]
    fn relative_paths_go_up_then_down() {
        assert_eq!(relative(&["src", "pkg"], &["data"]), "../../data");
        assert_eq!(relative(&["src"], &["src", "a.py"]), "a.py");
        assert_eq!(relative(&["src"], &["src"]), ".");
        assert_eq!(relative(&[], &["lib", "x"]), "lib/x");
    }

    #[test]
    fn lists_ancestors() {
        assert_eq!(ancestors("a/b/c").collect::<Vec<_>>(), ["a", "a/b"]);
        assert_eq!(ancestors("a").count(), 0);
    }
}
