//! Paths the Hub lists are hostile input: each must be a plain relative path that stays inside
//! the destination (docs/fetch-tasks.md#safety).

/// The directory inside the destination that sforge keeps for itself (the manifest).
pub const RESERVED_DIR: &str = ".sforge-fetch";
/// Longest accepted path, in bytes.
const MAX_PATH_BYTES: usize = 1024;
/// Deepest accepted nesting.
const MAX_DEPTH: usize = 32;

/// Why a listed path is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PathProblem {
    #[error("it is empty")]
    Empty,
    #[error("it is absolute")]
    Absolute,
    #[error("it has a `..`, `.` or empty component")]
    Escapes,
    #[error("it contains a backslash, a control character or a drive prefix")]
    BadCharacter,
    #[error("it is longer than {MAX_PATH_BYTES} bytes or deeper than {MAX_DEPTH} levels")]
    TooLong,
    #[error("it is inside {RESERVED_DIR}/, which sforge keeps for its manifest")]
    Reserved,
}

/// Checks `path` (as listed, `/`-separated) and returns its components.
pub fn check(path: &str) -> Result<Vec<&str>, PathProblem> {
    if path.is_empty() {
        return Err(PathProblem::Empty);
    }
    if path.starts_with('/') {
        return Err(PathProblem::Absolute);
    }
    if path.len() > MAX_PATH_BYTES {
        return Err(PathProblem::TooLong);
    }
    if path.chars().any(|c| c == '\\' || c.is_control()) {
        return Err(PathProblem::BadCharacter);
    }
    let parts: Vec<&str> = path.split('/').collect();
    if parts.len() > MAX_DEPTH {
        return Err(PathProblem::TooLong);
    }
    if parts
        .iter()
        .any(|p| p.is_empty() || *p == "." || *p == "..")
    {
        return Err(PathProblem::Escapes);
    }
    // `C:x` would be a drive-relative path on Windows; refuse it everywhere.
    if parts[0].len() >= 2 && parts[0].as_bytes()[1] == b':' {
        return Err(PathProblem::BadCharacter);
    }
    if parts[0] == RESERVED_DIR {
        return Err(PathProblem::Reserved);
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_relative_paths_pass() {
        assert_eq!(check("BENCHMARK.yaml").unwrap(), vec!["BENCHMARK.yaml"]);
        assert_eq!(check("a/b.json").unwrap(), vec!["a", "b.json"]);
        assert!(check(".gitattributes").is_ok());
        assert!(check("..hidden").is_ok());
    }

    #[test]
    fn hostile_paths_are_refused() {
        let cases = [
            ("", PathProblem::Empty),
            ("/etc/passwd", PathProblem::Absolute),
            ("../x", PathProblem::Escapes),
            ("a/../../x", PathProblem::Escapes),
            ("a//b", PathProblem::Escapes),
            ("./a", PathProblem::Escapes),
            ("a/", PathProblem::Escapes),
            ("..", PathProblem::Escapes),
            ("a\\..\\x", PathProblem::BadCharacter),
            ("a\nb", PathProblem::BadCharacter),
            ("a\0b", PathProblem::BadCharacter),
            ("C:x", PathProblem::BadCharacter),
            (".sforge-fetch/manifest.json", PathProblem::Reserved),
        ];
        for (path, problem) in cases {
            assert_eq!(check(path), Err(problem), "{path:?}");
        }
        assert_eq!(check(&"a/".repeat(40)), Err(PathProblem::TooLong));
        assert_eq!(check(&"x".repeat(2000)), Err(PathProblem::TooLong));
    }
}
