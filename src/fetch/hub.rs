//! The Hub's HTTP API as fetch uses it (docs/fetch-tasks.md#routes): one dataset, redirects
//! followed by hand (the token goes to the Hub's own origin only), errors mapped to
//! [`FetchError`]s that say what to do, every body read bounded by the caller.

use std::io::Read;
use std::time::Duration;

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use url::Url;

use super::error::FetchError;
use super::options::HubSettings;
use crate::proxy::upstream::{choose_proxy, Target};

/// Characters kept as they are in a path segment; everything else is percent-encoded.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');
const MAX_REDIRECTS: usize = 5;
/// Pauses before the second and third try of a request that failed in passing.
const RETRY_DELAYS: [Duration; 2] = [Duration::from_secs(1), Duration::from_secs(2)];
/// Bytes of an error body read for its message.
const MAX_ERROR_BODY: u64 = 4096;

/// A client for one dataset repository of one Hub.
pub struct Hub {
    agent: ureq::Agent,
    endpoint: Url,
    token: Option<String>,
    pub repo: String,
    pub revision: String,
}

impl Hub {
    pub fn new(settings: &HubSettings, repo: &str, revision: &str) -> Result<Self, FetchError> {
        let bad = |reason: &str| FetchError::BadEndpoint {
            url: crate::redact::redact_userinfo(&settings.endpoint),
            reason: reason.to_owned(),
        };
        let endpoint = Url::parse(&settings.endpoint).map_err(|e| bad(&e.to_string()))?;
        if !endpoint.username().is_empty() || endpoint.password().is_some() {
            return Err(bad(
                "credentials in the URL are not supported; give the token in HF_TOKEN",
            ));
        }
        if !matches!(endpoint.scheme(), "http" | "https") || endpoint.host_str().is_none() {
            return Err(bad("expected an http(s)://host URL"));
        }
        if endpoint.query().is_some() || endpoint.fragment().is_some() {
            return Err(bad("a query or fragment is not allowed"));
        }
        let mut builder = ureq::AgentBuilder::new()
            .redirects(0)
            .timeout_connect(Duration::from_secs(30))
            .timeout_read(Duration::from_secs(60))
            .timeout_write(Duration::from_secs(60))
            .user_agent(concat!(
                "sforge/",
                env!("CARGO_PKG_VERSION"),
                " fetch-tasks"
            ));
        if let Some(ca) = &settings.ca_file {
            let config = crate::proxy::tls::client_config(ca)
                .map_err(|e| FetchError::Network(format!("SFORGE_CA_FILE: {e}")))?;
            builder = builder.tls_config(config);
        }
        let target = Target {
            base: settings.endpoint.clone(),
            scheme: endpoint.scheme().to_owned(),
            host: endpoint.host_str().unwrap_or_default().to_owned(),
        };
        if let Some((proxy, origin)) = choose_proxy(&target, &settings.proxy) {
            let full = if proxy.contains("://") {
                proxy.clone()
            } else {
                format!("http://{proxy}")
            };
            let parsed = ureq::Proxy::new(&full)
                .map_err(|e| FetchError::Network(format!("{origin} {proxy:?}: {e}")))?;
            builder = builder.proxy(parsed);
        }
        Ok(Hub {
            agent: builder.build(),
            endpoint,
            token: settings.token.clone(),
            repo: repo.to_owned(),
            revision: revision.to_owned(),
        })
    }

    /// The endpoint, for messages.
    pub fn endpoint(&self) -> &str {
        self.endpoint.as_str().trim_end_matches('/')
    }

    /// `<endpoint>/<segments...>`, each segment percent-encoded (a revision like `refs/pr/1`
    /// becomes one segment, as the Hub expects).
    pub fn url(&self, segments: &[&str]) -> Url {
        let mut text = self.endpoint().to_owned();
        for segment in segments {
            text.push('/');
            text.extend(utf8_percent_encode(segment, SEGMENT));
        }
        Url::parse(&text).expect("an encoded path on a valid base is a valid URL")
    }

    /// `<endpoint>/datasets/<repo>/resolve/<commit>/<path>`, the path's `/` kept.
    pub fn resolve_url(&self, commit: &str, path: &str) -> Url {
        let (org, name) = self.repo.split_once('/').unwrap_or((&self.repo, ""));
        let mut segments = vec!["datasets", org, name, "resolve", commit];
        segments.extend(path.split('/'));
        self.url(&segments)
    }

    /// Whether `url` is on the Hub's own origin (the only one that sees the token).
    pub fn is_own_origin(&self, url: &Url) -> bool {
        url.scheme() == self.endpoint.scheme()
            && url.host_str() == self.endpoint.host_str()
            && url.port_or_known_default() == self.endpoint.port_or_known_default()
    }

    /// GET `url` with `headers`, following up to five redirects; a status of 400 or more
    /// becomes an error. Also returns the first response's headers that matter for downloads.
    pub fn get(&self, url: Url, headers: &[(&str, &str)]) -> Result<Reply, FetchError> {
        let mut url = url;
        let mut first: Option<FirstHop> = None;
        for _ in 0..=MAX_REDIRECTS {
            let response = self.call(&url, headers)?;
            first.get_or_insert_with(|| FirstHop::of(&response));
            let status = response.status();
            if (300..400).contains(&status) && status != 304 {
                url = Self::redirect_target(&url, response.header("Location"))?;
                continue;
            }
            if status >= 400 {
                return Err(self.status_error(&url, response));
            }
            return Ok(Reply {
                response,
                first: first.unwrap_or_default(),
            });
        }
        Err(FetchError::Redirects { url: shown(&url) })
    }

    /// One GET of `url` (the token only for the Hub's own origin), tried again after
    /// [`RETRY_DELAYS`] when the connection fails or the answer is 429 or 5xx (as
    /// `huggingface_hub` does); the last answer or failure counts.
    fn call(&self, url: &Url, headers: &[(&str, &str)]) -> Result<ureq::Response, FetchError> {
        let mut delays = RETRY_DELAYS.iter();
        loop {
            let mut request = self.agent.request_url("GET", url);
            for (name, value) in headers {
                request = request.set(name, value);
            }
            if let (Some(token), true) = (&self.token, self.is_own_origin(url)) {
                request = request.set("Authorization", &format!("Bearer {token}"));
            }
            let (outcome, why) = match request.call() {
                Ok(response) | Err(ureq::Error::Status(_, response)) => {
                    let status = response.status();
                    let why = format!("HTTP {status}");
                    (
                        Ok(response),
                        (status == 429 || status >= 500).then_some(why),
                    )
                }
                Err(ureq::Error::Transport(e)) => {
                    let reason = transport_reason(&e);
                    let failure = FetchError::Unreachable {
                        url: shown(url),
                        reason: reason.clone(),
                    };
                    (Err(failure), Some(reason))
                }
            };
            match (why, delays.next()) {
                (Some(why), Some(delay)) => {
                    log::warn!("{} failed ({why}); trying again in {delay:?}", shown(url));
                    std::thread::sleep(*delay);
                }
                _ => return outcome,
            }
        }
    }

    fn redirect_target(from: &Url, location: Option<&str>) -> Result<Url, FetchError> {
        let refuse = |to: &str, reason| FetchError::BadRedirect {
            from: shown(from),
            to: printable(to.split('?').next().unwrap_or_default()),
            reason,
        };
        let location = location.ok_or_else(|| refuse("", "no Location header"))?;
        let to = from
            .join(location)
            .map_err(|_| refuse(location, "not a URL"))?;
        match (from.scheme(), to.scheme()) {
            (_, "https") | ("http", "http") => Ok(to),
            ("https", "http") => Err(refuse(location, "it downgrades https to http")),
            _ => Err(refuse(location, "only http(s) is followed")),
        }
    }

    fn status_error(&self, url: &Url, response: ureq::Response) -> FetchError {
        let status = response.status();
        let code = response.header("X-Error-Code").unwrap_or("").to_owned();
        let mut message = response.header("X-Error-Message").map(str::to_owned);
        if message.is_none() {
            let mut body = String::new();
            let _ = response
                .into_reader()
                .take(MAX_ERROR_BODY)
                .read_to_string(&mut body);
            message = serde_json::from_str::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_owned))
                .or((!body.trim().is_empty()).then_some(body));
        }
        let message = message
            .map(|m| format!(": {}", printable(&m)))
            .unwrap_or_default();
        let repo = self.repo.clone();
        match (status, code.as_str()) {
            (_, "RepoNotFound") => FetchError::RepoNotFound {
                repo,
                endpoint: self.endpoint().to_owned(),
            },
            (_, "RevisionNotFound") => FetchError::RevisionNotFound {
                repo,
                revision: self.revision.clone(),
            },
            (401, _) if self.token.is_some() => FetchError::BadToken { repo, message },
            (401 | 404, _) if self.token.is_none() => FetchError::RepoNotFound {
                repo,
                endpoint: self.endpoint().to_owned(),
            },
            (403, _) | (_, "GatedRepo") => FetchError::Forbidden { repo, message },
            _ => FetchError::Http {
                url: shown(url),
                status,
                message,
            },
        }
    }
}

/// A successful answer and what the first hop of its redirect chain said.
pub struct Reply {
    pub response: ureq::Response,
    pub first: FirstHop,
}

/// The headers of the Hub's own answer to a resolve request (before any CDN redirect).
#[derive(Debug, Clone, Default)]
pub struct FirstHop {
    /// `X-Linked-Etag` (an LFS file's SHA-256), else `ETag` (a small file's git blob id).
    pub etag: Option<String>,
    /// `X-Linked-Size`, else `Content-Length` of a direct answer.
    pub size: Option<u64>,
    pub commit: Option<String>,
}

impl FirstHop {
    fn of(response: &ureq::Response) -> Self {
        let clean = |v: &str| {
            v.trim()
                .trim_start_matches("W/")
                .trim_matches('"')
                .to_owned()
        };
        let redirected = (300..400).contains(&response.status());
        let etag = response
            .header("X-Linked-Etag")
            .or_else(|| response.header("ETag"))
            .map(clean);
        let size = response
            .header("X-Linked-Size")
            .or_else(|| {
                (!redirected && response.header("Content-Range").is_none())
                    .then(|| response.header("Content-Length"))
                    .flatten()
            })
            .and_then(|v| v.trim().parse().ok());
        FirstHop {
            etag,
            size,
            commit: response.header("X-Repo-Commit").map(str::to_owned),
        }
    }
}

/// A URL for messages: without the query (a CDN's signed parameters) or fragment.
pub fn shown(url: &Url) -> String {
    let mut url = url.clone();
    url.set_query(None);
    url.set_fragment(None);
    url.to_string()
}

/// A server-controlled text made safe to print: control characters dropped, at most 200 chars.
pub fn printable(text: &str) -> String {
    let clean: String = text
        .trim()
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(200)
        .collect();
    clean
}

fn transport_reason(e: &ureq::Transport) -> String {
    let mut reason = e.kind().to_string();
    if let Some(message) = e.message() {
        reason = format!("{reason}: {message}");
    }
    if let Some(source) = std::error::Error::source(e) {
        reason = format!("{reason}: {source}");
    }
    printable(&reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hub(endpoint: &str, token: Option<&str>) -> Hub {
        let settings = HubSettings {
            endpoint: endpoint.into(),
            token: token.map(str::to_owned),
            ..HubSettings::default()
        };
        Hub::new(&settings, "org/name", "refs/pr/1").unwrap()
    }

    #[test]
    fn urls_encode_each_segment() {
        let h = hub("https://hub.example/prefix", None);
        assert_eq!(
            h.url(&["api", "datasets", "org", "name", "revision", "refs/pr/1"])
                .as_str(),
            "https://hub.example/prefix/api/datasets/org/name/revision/refs%2Fpr%2F1"
        );
        assert_eq!(
            h.resolve_url("c0ffee", "dir/a b#?.json").as_str(),
            "https://hub.example/prefix/datasets/org/name/resolve/c0ffee/dir/a%20b%23%3F.json"
        );
    }

    #[test]
    fn only_the_hubs_own_origin_is_trusted_with_the_token() {
        let h = hub("https://hub.example", Some("hf_x"));
        let own = |u: &str| h.is_own_origin(&Url::parse(u).unwrap());
        assert!(own("https://hub.example/api/x"));
        assert!(own("https://hub.example:443/x"));
        assert!(!own("http://hub.example/x"));
        assert!(!own("https://cdn.hub.example/x"));
        assert!(!own("https://hub.example:8443/x"));
    }

    #[test]
    fn redirects_may_not_downgrade_or_leave_http() {
        let from = Url::parse("https://hub.example/a/b").unwrap();
        let to = |l: &str| Hub::redirect_target(&from, Some(l)).map(|u| u.to_string());
        assert_eq!(to("/c").unwrap(), "https://hub.example/c");
        assert_eq!(
            to("https://cdn.example/x?sig=1").unwrap(),
            "https://cdn.example/x?sig=1"
        );
        let err = to("http://cdn.example/x?sig=secret")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("downgrades") && !err.contains("secret"),
            "{err}"
        );
        assert!(to("file:///etc/passwd").is_err());
        assert!(Hub::redirect_target(&from, None).is_err());
    }

    #[test]
    fn endpoints_are_checked() {
        for (bad, why) in [
            ("ftp://hub", "http(s)"),
            ("not a url", "relative URL"),
            ("https://user:pw@hub", "HF_TOKEN"),
            ("https://hub/?q=1", "query"),
        ] {
            let settings = HubSettings {
                endpoint: bad.into(),
                ..HubSettings::default()
            };
            let err = Hub::new(&settings, "o/n", "main")
                .err()
                .unwrap()
                .to_string();
            assert!(err.contains(why) && !err.contains(":pw@"), "{bad}: {err}");
        }
    }

    #[test]
    fn server_text_is_made_printable() {
        assert_eq!(printable(" a\nb\u{1b}[31m "), "a b [31m");
        assert_eq!(printable(&"x".repeat(500)).len(), 200);
    }
}
