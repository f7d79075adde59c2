//! The endpoints an isolated Work container may reach (the judge and the LLM API), resolved to
//! IPv4 addresses on the host: every address of a name is allowed and pinned in the container's
//! hosts file (DNS is blocked inside), `host.docker.internal` is the bridge gateway.

use std::net::{IpAddr, Ipv4Addr, ToSocketAddrs};

use super::plan::Allowed;
use super::IsolationError;

/// The name Docker containers use for the host (`--add-host host.docker.internal:host-gateway`).
pub const HOST_GATEWAY_NAME: &str = "host.docker.internal";

/// Where an endpoint's host points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The bridge gateway (known once the container exists).
    Gateway,
    /// Fixed addresses: an IP literal, or every IPv4 address a name resolved to.
    Addresses(Vec<Ipv4Addr>),
}

/// One allowed endpoint, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// What it is, for messages: `judge`, `API`.
    pub role: String,
    pub url: String,
    pub host: String,
    pub port: u16,
    pub target: Target,
}

impl Endpoint {
    /// Host names to pin in the container's hosts file (`name:ip`, for `--add-host`).
    #[must_use]
    pub fn pins(&self) -> Vec<String> {
        match &self.target {
            Target::Addresses(ips) if self.host.parse::<IpAddr>().is_err() => {
                ips.iter().map(|ip| format!("{}:{ip}", self.host)).collect()
            }
            _ => Vec::new(),
        }
    }

    /// The TCP destinations, given the container's gateway.
    #[must_use]
    pub fn allowed(&self, gateway: Ipv4Addr) -> Vec<Allowed> {
        let ips = match &self.target {
            Target::Gateway => vec![gateway],
            Target::Addresses(ips) => ips.clone(),
        };
        ips.into_iter()
            .map(|ip| Allowed {
                ip,
                port: self.port,
            })
            .collect()
    }
}

/// `scheme://host[:port]/…` → (host, port); the port defaults to 443 for https, else 80.
pub fn host_port(url: &str) -> Result<(String, u16), IsolationError> {
    let bad = |why: &str| IsolationError::Endpoint {
        url: crate::redact::redact_url(url),
        detail: why.to_owned(),
    };
    let (scheme, rest) = url.split_once("://").ok_or_else(|| bad("no scheme"))?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let default_port = if scheme.eq_ignore_ascii_case("https") {
        443
    } else {
        80
    };
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (host, after) = v6.split_once(']').ok_or_else(|| bad("unclosed ["))?;
        (host, after.strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    let port = match port {
        Some(p) => p.parse().map_err(|_| bad("the port is not a number"))?,
        None => default_port,
    };
    if host.is_empty() {
        return Err(bad("no host"));
    }
    Ok((host.to_ascii_lowercase(), port))
}

/// Resolve `url` for `role` with `lookup` (name → IPv4 addresses).
pub fn resolve(
    role: &str,
    url: &str,
    lookup: &dyn Fn(&str) -> std::io::Result<Vec<Ipv4Addr>>,
) -> Result<Endpoint, IsolationError> {
    let (host, port) = host_port(url)?;
    let target = if host == HOST_GATEWAY_NAME {
        Target::Gateway
    } else {
        match host.parse::<IpAddr>() {
            Ok(IpAddr::V4(ip)) => Target::Addresses(vec![ip]),
            Ok(IpAddr::V6(_)) => {
                return Err(IsolationError::Endpoint {
                    url: crate::redact::redact_url(url),
                    detail: "isolated containers reach IPv4 endpoints only".into(),
                })
            }
            Err(_) => {
                let mut ips = lookup(&host).map_err(|e| IsolationError::Resolve {
                    host: host.clone(),
                    detail: e.to_string(),
                })?;
                ips.sort();
                ips.dedup();
                if ips.is_empty() {
                    return Err(IsolationError::Resolve {
                        host,
                        detail: "no IPv4 address".into(),
                    });
                }
                Target::Addresses(ips)
            }
        }
    };
    Ok(Endpoint {
        role: role.to_owned(),
        url: crate::redact::redact_url(url),
        host,
        port,
        target,
    })
}

/// The system resolver (`getaddrinfo`), IPv4 answers only.
pub fn system_lookup(host: &str) -> std::io::Result<Vec<Ipv4Addr>> {
    Ok((host, 0)
        .to_socket_addrs()?
        .filter_map(|a| match a.ip() {
            IpAddr::V4(ip) => Some(ip),
            IpAddr::V6(_) => None,
        })
        .collect())
}

/// How long a plan waits for the resolver before it looks a host up at replay time instead.
pub const PLAN_LOOKUP_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3);

/// Test hook: comma-separated host names a plan treats as unresolvable, so that tests can
/// replay the lookup of a name that does resolve on this machine.
pub const UNRESOLVED_HOOK: &str = "SFORGE_TEST_PLAN_UNRESOLVED_HOSTS";

/// [`system_lookup`] that gives up after [`PLAN_LOOKUP_TIMEOUT`] (the resolver cannot be
/// interrupted: its thread is left to finish on its own).
pub fn plan_lookup(host: &str) -> std::io::Result<Vec<Ipv4Addr>> {
    let hooked = std::env::var(UNRESOLVED_HOOK).unwrap_or_default();
    if hooked
        .split(',')
        .any(|h| h.trim().eq_ignore_ascii_case(host))
    {
        return Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("test hook {UNRESOLVED_HOOK}"),
        ));
    }
    let (tx, rx) = std::sync::mpsc::channel();
    let name = host.to_owned();
    std::thread::spawn(move || {
        let _ = tx.send(system_lookup(&name));
    });
    rx.recv_timeout(PLAN_LOOKUP_TIMEOUT).unwrap_or_else(|_| {
        Err(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            format!("no answer within {}s", PLAN_LOOKUP_TIMEOUT.as_secs()),
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fake(host: &str) -> std::io::Result<Vec<Ipv4Addr>> {
        match host {
            "api.example.test" => Ok(vec![
                Ipv4Addr::new(10, 1, 0, 2),
                Ipv4Addr::new(10, 1, 0, 1),
                Ipv4Addr::new(10, 1, 0, 2),
            ]),
            "judge.lan" => Ok(vec![Ipv4Addr::new(192, 168, 1, 5)]),
            _ => Err(std::io::Error::other("no such host")),
        }
    }

    #[test]
    fn urls_to_host_and_port() {
        assert_eq!(
            host_port("https://API.example.test").unwrap(),
            ("api.example.test".into(), 443)
        );
        assert_eq!(host_port("http://h:9090/v1?x").unwrap(), ("h".into(), 9090));
        assert_eq!(host_port("http://u:p@h/").unwrap(), ("h".into(), 80));
        assert_eq!(host_port("http://[::1]:8/").unwrap(), ("::1".into(), 8));
        assert!(host_port("h:80").is_err());
        assert!(host_port("http://h:x").is_err());
    }

    #[test]
    fn every_address_is_allowed_and_pinned() {
        let api = resolve("API", "https://api.example.test/v1", &fake).unwrap();
        assert_eq!(
            api.pins(),
            ["api.example.test:10.1.0.1", "api.example.test:10.1.0.2"]
        );
        let gw = Ipv4Addr::new(172, 17, 0, 1);
        assert_eq!(api.allowed(gw).len(), 2);
        assert!(api.allowed(gw).iter().all(|a| a.port == 443));
        let judge = resolve("judge", "http://judge.lan:8080", &fake).unwrap();
        assert_eq!(judge.pins(), ["judge.lan:192.168.1.5"]);
    }

    #[test]
    fn gateway_and_literals_are_not_pinned() {
        let j = resolve("judge", "http://host.docker.internal:8080", &fake).unwrap();
        assert_eq!(j.target, Target::Gateway);
        assert!(j.pins().is_empty());
        let gw = Ipv4Addr::new(172, 17, 0, 1);
        assert_eq!(j.allowed(gw), [Allowed { ip: gw, port: 8080 }]);
        let ip = resolve("API", "http://10.0.0.12:9090", &fake).unwrap();
        assert!(ip.pins().is_empty());
        assert!(resolve("API", "http://[fd00::1]:9090", &fake).is_err());
    }

    #[test]
    fn resolution_failure_names_the_host() {
        let err = resolve("API", "https://nowhere.test", &fake)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("nowhere.test") && err.contains("no such host"),
            "{err}"
        );
    }
}
