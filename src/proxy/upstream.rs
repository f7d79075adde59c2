//! The upstream side: the validated `--target`, the choice of an upstream HTTP proxy (with the
//! no-proxy list) and the one shared `ureq` agent that reuses connections.

use std::sync::Arc;
use std::time::Duration;

/// Time allowed to open a connection to the upstream (or to the upstream proxy).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest silence allowed while reading from or writing to the upstream (a stream may run for
/// much longer as long as bytes keep coming).
const IO_TIMEOUT: Duration = Duration::from_secs(300);

/// Why the target or the upstream proxy cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    #[error("invalid --target {url:?}: {reason}; give a URL like https://api.anthropic.com")]
    Target { url: String, reason: String },
    #[error("invalid upstream proxy {url:?} (from {origin}): {reason}; give a URL like http://proxy.example.com:3128")]
    Proxy {
        url: String,
        origin: &'static str,
        reason: String,
    },
}

/// The upstream API base URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The URL without its trailing `/`; request paths are appended to it.
    pub base: String,
    pub scheme: String,
    pub host: String,
}

impl Target {
    pub fn parse(text: &str) -> Result<Self, UpstreamError> {
        let bad = |reason: &str| UpstreamError::Target {
            url: text.to_owned(),
            reason: reason.to_owned(),
        };
        let url = url::Url::parse(text.trim()).map_err(|e| bad(&e.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(bad("the scheme must be http or https"));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(bad(
                "a query or fragment cannot be combined with request paths",
            ));
        }
        let host = url.host_str().ok_or_else(|| bad("no host"))?.to_owned();
        Ok(Target {
            base: text.trim().trim_end_matches('/').to_owned(),
            scheme: url.scheme().to_owned(),
            host,
        })
    }
}

/// The proxy settings as resolved by the configuration (docs/compatibility.md#settings: `SFORGE_*`
/// > upper case > lower case; an empty value means none).
#[derive(Debug, Clone, Default)]
pub struct ProxyEnv {
    pub http_proxy: Option<String>,
    pub https_proxy: Option<String>,
    pub no_proxy: Option<String>,
}

/// The upstream proxy to use for `target`: the one for the target's scheme, else the other one
/// (both are plain HTTP proxies; `https` targets are tunnelled with CONNECT), unless the no-proxy
/// list names the target host. Returns the URL and the setting it came from.
#[must_use]
pub fn choose_proxy(target: &Target, env: &ProxyEnv) -> Option<(String, &'static str)> {
    if no_proxy_matches(env.no_proxy.as_deref().unwrap_or(""), &target.host) {
        return None;
    }
    let https = env.https_proxy.as_deref().filter(|p| !p.trim().is_empty());
    let http = env.http_proxy.as_deref().filter(|p| !p.trim().is_empty());
    let ordered = if target.scheme == "https" {
        [(https, "https_proxy"), (http, "http_proxy")]
    } else {
        [(http, "http_proxy"), (https, "https_proxy")]
    };
    ordered
        .into_iter()
        .find_map(|(p, origin)| p.map(|p| (p.trim().to_owned(), origin)))
}

/// Whether a `NO_PROXY`-style list (comma separated hosts or domain suffixes, `*` for all, an
/// optional leading `.` or `*.`, ports ignored) covers `host`.
#[must_use]
pub fn no_proxy_matches(list: &str, host: &str) -> bool {
    let host = host.trim_matches(['[', ']']).to_ascii_lowercase();
    list.split(',').map(str::trim).any(|entry| {
        if entry == "*" {
            return true;
        }
        let entry = entry.trim_start_matches("*.").trim_start_matches('.');
        let entry = if let Some(bracketed) = entry.strip_prefix('[') {
            bracketed.split(']').next().unwrap_or("")
        } else if entry.matches(':').count() == 1 {
            entry.split(':').next().unwrap_or("")
        } else {
            entry
        };
        let entry = entry.to_ascii_lowercase();
        !entry.is_empty() && (host == entry || host.ends_with(&format!(".{entry}")))
    })
}

/// The shared agent: no redirects, no proxy from the environment other than `proxy`, the
/// timeouts above, a pool of idle connections, and `tls` (see [`super::tls::client_config`]) in
/// place of ureq's default TLS setup when given.
pub fn agent(
    proxy: Option<(&str, &'static str)>,
    workers: usize,
    tls: Option<Arc<rustls::ClientConfig>>,
) -> Result<ureq::Agent, UpstreamError> {
    let mut builder = ureq::AgentBuilder::new()
        .redirects(0)
        .timeout_connect(CONNECT_TIMEOUT)
        .timeout_read(IO_TIMEOUT)
        .timeout_write(IO_TIMEOUT)
        .max_idle_connections(workers.max(8))
        .max_idle_connections_per_host(workers.max(8))
        .user_agent(concat!("sforge-proxy/", env!("CARGO_PKG_VERSION")));
    if let Some(config) = tls {
        builder = builder.tls_config(config);
    }
    if let Some((url, origin)) = proxy {
        let bad = |reason: String| UpstreamError::Proxy {
            url: url.to_owned(),
            origin,
            reason,
        };
        let full = if url.contains("://") {
            url.to_owned()
        } else {
            format!("http://{url}")
        };
        let parsed = url::Url::parse(&full).map_err(|e| bad(e.to_string()))?;
        if parsed.scheme() != "http" || parsed.host_str().is_none() {
            return Err(bad("only http://host:port proxies are supported".to_owned()));
        }
        builder = builder.proxy(ureq::Proxy::new(&full).map_err(|e| bad(e.to_string()))?);
    }
    Ok(builder.build())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(http: Option<&str>, https: Option<&str>, no: Option<&str>) -> ProxyEnv {
        ProxyEnv {
            http_proxy: http.map(str::to_owned),
            https_proxy: https.map(str::to_owned),
            no_proxy: no.map(str::to_owned),
        }
    }

    #[test]
    fn target_keeps_its_prefix_without_trailing_slash() {
        let t = Target::parse("https://api.example.com/anthropic/").unwrap();
        assert_eq!(t.base, "https://api.example.com/anthropic");
        assert_eq!(t.host, "api.example.com");
        assert_eq!(t.scheme, "https");
        assert_eq!(
            Target::parse("http://127.0.0.1:8000").unwrap().base,
            "http://127.0.0.1:8000"
        );
    }

    #[test]
    fn bad_targets_are_refused_with_the_reason() {
        for bad in ["api.example.com", "ftp://x", "http://x/?q=1", "not a url"] {
            let err = Target::parse(bad).unwrap_err().to_string();
            assert!(err.contains(bad) && err.contains("https://"), "{err}");
        }
    }

    #[test]
    fn proxy_follows_the_scheme_then_falls_back() {
        let https = Target::parse("https://api.example.com").unwrap();
        let http = Target::parse("http://10.0.0.1:8000").unwrap();
        let both = env(Some("http://h:1"), Some("http://s:2"), None);
        assert_eq!(
            choose_proxy(&https, &both),
            Some(("http://s:2".into(), "https_proxy"))
        );
        assert_eq!(
            choose_proxy(&http, &both),
            Some(("http://h:1".into(), "http_proxy"))
        );
        let only_https = env(None, Some("http://s:2"), None);
        assert_eq!(
            choose_proxy(&http, &only_https),
            Some(("http://s:2".into(), "https_proxy"))
        );
        assert_eq!(choose_proxy(&https, &env(Some(""), Some(" "), None)), None);
        assert_eq!(choose_proxy(&https, &ProxyEnv::default()), None);
    }

    #[test]
    fn no_proxy_list_bypasses_the_proxy() {
        let t = Target::parse("https://api.example.com").unwrap();
        let e = env(None, Some("http://s:2"), Some("localhost, .example.com"));
        assert_eq!(choose_proxy(&t, &e), None);
        assert!(no_proxy_matches("*", "anything"));
        assert!(no_proxy_matches("example.com:443", "api.example.com"));
        assert!(no_proxy_matches("*.example.com", "example.com"));
        assert!(no_proxy_matches("127.0.0.1", "127.0.0.1"));
        assert!(no_proxy_matches("::1", "[::1]"));
        assert!(no_proxy_matches("[::1]:9090", "::1"));
        assert!(!no_proxy_matches("ample.com", "example.com"));
        assert!(!no_proxy_matches("", "example.com"));
        assert!(!no_proxy_matches("other.org,,", "example.com"));
    }

    #[test]
    fn agent_refuses_a_bad_proxy_url() {
        for bad in [
            "http://h:notaport",
            "https://h:1",
            "socks5://h:1",
            "http://",
        ] {
            let err = agent(Some((bad, "https_proxy")), 4, None)
                .unwrap_err()
                .to_string();
            assert!(err.contains("https_proxy") && err.contains(bad), "{err}");
        }
        assert!(agent(Some(("proxy.example.com:3128", "http_proxy")), 4, None).is_ok());
    }
}
