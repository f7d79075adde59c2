//! Request targets of the proxy: only origin-form paths are accepted, decoded and checked before
//! they are joined to the `--target` prefix, so that no request can leave that prefix (dot
//! segments, percent-encoded dots, encoded slashes) or dodge the local `/_sforge/` paths.

use percent_encoding::percent_decode_str;

/// The first segment of the paths the proxy answers itself.
const LOCAL_SEGMENT: &str = "_sforge";
/// How many rounds of percent-decoding are checked for dot segments (an upstream, or something in
/// front of it, might decode more than once).
const DECODE_ROUNDS: usize = 3;

/// Why a request target is refused (400, never forwarded).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    #[error("absolute-form request targets ({0:?}) are not accepted: send the path only, e.g. /v1/messages")]
    AbsoluteForm(String),
    #[error("the request target {0:?} is not a path starting with /")]
    NotOriginForm(String),
    #[error("the request path {0:?} has a dot segment (., .., or encoded as %2e); it could leave the target's prefix")]
    DotSegment(String),
    #[error("the request path {0:?} has an encoded control character")]
    ControlCharacter(String),
}

/// A checked request target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestPath {
    /// The path and query as the client sent them, to append to the target's base URL.
    pub forward: String,
    /// The decoded path with empty segments removed (`/a/b`), for routing local requests.
    pub normalised: String,
}

impl RequestPath {
    /// Checks a request target; `*` (server-wide `OPTIONS`) stands for the base URL itself.
    pub fn parse(target: &str) -> Result<Self, PathError> {
        if target == "*" {
            return Ok(Self {
                forward: String::new(),
                normalised: "/".to_owned(),
            });
        }
        if target.contains("://") && !target.starts_with('/') {
            return Err(PathError::AbsoluteForm(target.to_owned()));
        }
        if !target.starts_with('/') {
            return Err(PathError::NotOriginForm(target.to_owned()));
        }
        let path = target.split(['?', '#']).next().unwrap_or_default();
        let mut decoded = path.to_owned();
        for _ in 0..DECODE_ROUNDS {
            if has_dot_segment(&decoded) {
                return Err(PathError::DotSegment(path.to_owned()));
            }
            let next = percent_decode_str(&decoded)
                .decode_utf8_lossy()
                .into_owned();
            if next.chars().any(char::is_control) {
                return Err(PathError::ControlCharacter(path.to_owned()));
            }
            if next == decoded {
                break;
            }
            decoded = next;
        }
        if has_dot_segment(&decoded) {
            return Err(PathError::DotSegment(path.to_owned()));
        }
        let segments: Vec<&str> = decoded.split('/').filter(|s| !s.is_empty()).collect();
        Ok(Self {
            forward: target.split('#').next().unwrap_or_default().to_owned(),
            normalised: format!("/{}", segments.join("/")),
        })
    }

    /// Whether the path belongs to the proxy itself (`/_sforge/…` in any spelling): such requests
    /// are answered locally and never forwarded.
    #[must_use]
    pub fn is_local(&self) -> bool {
        self.normalised
            .split('/')
            .nth(1)
            .is_some_and(|first| first.eq_ignore_ascii_case(LOCAL_SEGMENT))
    }

    /// The upstream URL: `base` (without its trailing `/`) followed by the path and query.
    #[must_use]
    pub fn join(&self, base: &str) -> String {
        format!("{base}{}", self.forward)
    }
}

/// Whether a path has a `.` or `..` segment, taking `\` as a separator too (some servers do).
fn has_dot_segment(path: &str) -> bool {
    path.split(['/', '\\']).any(|s| s == "." || s == "..")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(target: &str) -> RequestPath {
        RequestPath::parse(target).unwrap_or_else(|e| panic!("{target}: {e}"))
    }

    #[test]
    fn plain_paths_are_forwarded_as_sent() {
        let p = ok("/v1/messages?beta=true");
        assert_eq!(
            p.join("https://u/anthropic"),
            "https://u/anthropic/v1/messages?beta=true"
        );
        assert_eq!(ok("/").join("https://u/api"), "https://u/api/");
        assert_eq!(ok("*").join("https://u/api"), "https://u/api");
        assert_eq!(
            ok("/a%20b/c..d/.e/").join("http://u"),
            "http://u/a%20b/c..d/.e/"
        );
        assert_eq!(
            ok("/x?q=/../y").forward,
            "/x?q=/../y",
            "the query cannot leave the prefix"
        );
    }

    #[test]
    fn escapes_from_the_prefix_are_refused() {
        for bad in [
            "/../admin/secret",
            "/v1/../../admin",
            "/./v1",
            "/%2e%2e/admin",
            "/%2E%2e/admin",
            "/.%2e/admin",
            "/v1/%2e%2e%2f%2e%2e%2fadmin",
            "/v1%2f..%2fadmin",
            "/v1/..%5cadmin",
            "/v1\\..\\admin",
            "/%252e%252e/admin",
            "/v1/..",
        ] {
            assert!(
                matches!(RequestPath::parse(bad), Err(PathError::DotSegment(_))),
                "{bad}"
            );
        }
        for bad in ["http://other/admin", "https://u/x", "HTTP://other/x"] {
            assert!(
                matches!(RequestPath::parse(bad), Err(PathError::AbsoluteForm(_))),
                "{bad}"
            );
        }
        assert!(matches!(
            RequestPath::parse("other:80"),
            Err(PathError::NotOriginForm(_))
        ));
        assert!(matches!(
            RequestPath::parse("/a%00b"),
            Err(PathError::ControlCharacter(_))
        ));
    }

    #[test]
    fn local_paths_are_recognised_in_every_spelling() {
        for local in [
            "/_sforge/proxy/v1/tokens",
            "//_sforge/proxy/v1/tokens",
            "/%5fsforge/proxy/v1/usage",
            "/_SFORGE/x",
            "/_sforge",
        ] {
            assert!(ok(local).is_local(), "{local}");
        }
        assert_eq!(
            ok("/_sforge//proxy/v1/tokens/").normalised,
            "/_sforge/proxy/v1/tokens"
        );
        assert!(!ok("/v1/_sforge/x").is_local());
        assert!(!ok("/_sforgex/y").is_local());
    }
}
