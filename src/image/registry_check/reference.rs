//! Image references as a registry sees them: `[host[:port]/]path/name[:tag][@digest]`, with
//! Docker Hub's defaults (`registry-1.docker.io`, `library/` for single-component names).

use std::fmt;
use std::net::IpAddr;
use std::sync::OnceLock;

use regex::Regex;

/// What is wrong with an image reference.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReferenceError {
    #[error("it is empty")]
    Empty,
    #[error(
        "the repository component {0:?} is not lower-case letters, digits and single separators \
         (. _ __ -)"
    )]
    Component(String),
    #[error("the tag {0:?} is not a valid tag")]
    Tag(String),
    #[error("the digest {0:?} is not <algorithm>:<hex> (e.g. sha256:…)")]
    Digest(String),
    #[error("the registry host {0:?} is not host[:port]")]
    Host(String),
    #[error("it names a registry but no repository")]
    NoRepository,
}

/// Where Docker Hub's registry API answers.
pub const DOCKER_HUB: &str = "registry-1.docker.io";

/// A parsed image reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    /// `host[:port]` as it goes into a URL (IPv6 addresses keep their brackets).
    pub registry: String,
    /// The repository path, e.g. `library/busybox` or `team/bench.work.task`.
    pub repository: String,
    /// What the manifest is looked up by: the digest when there is one, else the tag
    /// (`latest` when none is given).
    pub reference: String,
}

fn component_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$").expect("valid component regex")
    })
}

fn tag_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$").expect("valid tag regex"))
}

fn digest_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-fA-F0-9]{32,}$").expect("valid digest regex")
    })
}

fn host_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$")
            .expect("valid host regex")
    })
}

/// Whether the first path component names a registry host rather than a Docker Hub namespace
/// (Docker's rule: it has a dot or a port, or is `localhost`).
fn is_host(component: &str) -> bool {
    component.contains('.')
        || component.contains(':')
        || component.starts_with('[')
        || component == "localhost"
}

impl ImageRef {
    /// Parses `reference`; the error says what is wrong with it.
    pub fn parse(reference: &str) -> Result<Self, ReferenceError> {
        let text = reference.trim();
        if text.is_empty() {
            return Err(ReferenceError::Empty);
        }
        let (name_tag, digest) = match text.split_once('@') {
            Some((name, digest)) => (name, Some(digest)),
            None => (text, None),
        };
        let last_slash = name_tag.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match name_tag[last_slash..].rfind(':') {
            Some(i) => (
                &name_tag[..last_slash + i],
                Some(&name_tag[last_slash + i + 1..]),
            ),
            None => (name_tag, None),
        };
        let (registry, repository) = split_registry(name)?;
        for component in repository.split('/') {
            if !component_re().is_match(component) {
                return Err(ReferenceError::Component(component.to_owned()));
            }
        }
        if let Some(tag) = tag {
            if !tag_re().is_match(tag) {
                return Err(ReferenceError::Tag(tag.to_owned()));
            }
        }
        if let Some(digest) = digest {
            if !digest_re().is_match(digest) {
                return Err(ReferenceError::Digest(digest.to_owned()));
            }
        }
        let reference = digest.or(tag).unwrap_or("latest").to_owned();
        Ok(ImageRef {
            registry,
            repository,
            reference,
        })
    }

    /// The host without port or brackets.
    #[must_use]
    pub fn host(&self) -> &str {
        host_of(&self.registry)
    }
}

/// `(registry, repository)` of a name without tag or digest.
fn split_registry(name: &str) -> Result<(String, String), ReferenceError> {
    let (registry, path) = match name.split_once('/') {
        Some((first, rest)) if is_host(first) => {
            if !host_re().is_match(first) {
                return Err(ReferenceError::Host(first.to_owned()));
            }
            (first.to_owned(), rest.to_owned())
        }
        _ => ("docker.io".to_owned(), name.to_owned()),
    };
    if path.is_empty() {
        return Err(ReferenceError::NoRepository);
    }
    let hub = matches!(
        registry.as_str(),
        "docker.io" | "index.docker.io" | DOCKER_HUB
    );
    if hub {
        let repository = if path.contains('/') {
            path
        } else {
            format!("library/{path}")
        };
        return Ok((DOCKER_HUB.to_owned(), repository));
    }
    Ok((registry, path))
}

/// The host part of an authority `host[:port]` (brackets of IPv6 addresses removed).
#[must_use]
pub fn host_of(authority: &str) -> &str {
    if let Some(rest) = authority.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    authority.split(':').next().unwrap_or(authority)
}

/// Whether `authority` (`host[:port]`) is this machine: `localhost`, `127.0.0.0/8` or `::1`.
#[must_use]
pub fn is_loopback(authority: &str) -> bool {
    let host = host_of(authority);
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sep = if self.reference.contains(':') {
            '@'
        } else {
            ':'
        };
        write!(
            f,
            "{}/{}{sep}{}",
            self.registry, self.repository, self.reference
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(text: &str) -> (String, String, String) {
        let r = ImageRef::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        (r.registry, r.repository, r.reference)
    }

    fn owned(a: &str, b: &str, c: &str) -> (String, String, String) {
        (a.to_owned(), b.to_owned(), c.to_owned())
    }

    #[test]
    fn hub_short_names_get_the_library_namespace_and_latest() {
        assert_eq!(
            parts("busybox"),
            owned(DOCKER_HUB, "library/busybox", "latest")
        );
        assert_eq!(
            parts("ubuntu:24.04"),
            owned(DOCKER_HUB, "library/ubuntu", "24.04")
        );
        assert_eq!(
            parts("seededge/bench.work.task:abc"),
            owned(DOCKER_HUB, "seededge/bench.work.task", "abc")
        );
        assert_eq!(
            parts("docker.io/nginx"),
            owned(DOCKER_HUB, "library/nginx", "latest")
        );
        assert_eq!(
            parts("index.docker.io/team/app:1"),
            owned(DOCKER_HUB, "team/app", "1")
        );
    }

    #[test]
    fn hosts_with_ports_and_nested_paths() {
        assert_eq!(
            parts("127.0.0.1:5000/bench.work.coin_change:e34e156e6b40"),
            owned("127.0.0.1:5000", "bench.work.coin_change", "e34e156e6b40")
        );
        assert_eq!(parts("localhost/a/b/c:t"), owned("localhost", "a/b/c", "t"));
        assert_eq!(
            parts("registry.example.com:8443/org/team/img"),
            owned("registry.example.com:8443", "org/team/img", "latest")
        );
        assert_eq!(parts("[::1]:5000/x:y"), owned("[::1]:5000", "x", "y"));
        assert_eq!(ImageRef::parse("[::1]:5000/x").unwrap().host(), "::1");
        assert_eq!(
            ImageRef::parse("registry.example.com:8443/x")
                .unwrap()
                .host(),
            "registry.example.com"
        );
    }

    #[test]
    fn digests_win_over_tags() {
        let hex = "a".repeat(64);
        assert_eq!(
            parts(&format!("reg.io/app@sha256:{hex}")),
            owned("reg.io", "app", &format!("sha256:{hex}"))
        );
        assert_eq!(
            parts(&format!("reg.io:5000/app:1.0@sha256:{hex}")),
            owned("reg.io:5000", "app", &format!("sha256:{hex}"))
        );
        let parsed = ImageRef::parse(&format!("app@sha256:{hex}")).unwrap();
        assert_eq!(
            parsed.to_string(),
            format!("{DOCKER_HUB}/library/app@sha256:{hex}")
        );
    }

    #[test]
    fn bad_references_say_what_is_wrong() {
        for (text, why) in [
            ("", "empty"),
            ("reg/App:1", "repository component \"App\""),
            ("reg.io/app:bad tag", "tag"),
            ("reg.io/app@sha256:xyz", "digest"),
            ("reg.io/", "no repository"),
            ("bad_host.io:x/app", "registry host"),
            ("a//b", "repository component \"\""),
        ] {
            let err = ImageRef::parse(text).expect_err(text).to_string();
            assert!(err.contains(why), "{text}: {err}");
        }
    }

    #[test]
    fn loopback_hosts() {
        for yes in [
            "localhost:5000",
            "127.0.0.1:5000",
            "127.3.4.5",
            "[::1]:5000",
            "LOCALHOST",
        ] {
            assert!(is_loopback(yes), "{yes}");
        }
        for no in [
            "10.0.0.1:5000",
            "reg.io",
            "[::2]:5000",
            "localhost.example.com",
        ] {
            assert!(!is_loopback(no), "{no}");
        }
    }
}
