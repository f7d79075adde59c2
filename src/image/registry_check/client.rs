//! The HTTP side of the check: the manifest request, the plain-HTTP/HTTPS choice, and the
//! `Bearer` (token service) and `Basic` authentication rounds. Never logs or reports secrets.

use std::io::Read;

use super::challenge::{self, Challenge};
use super::credentials::{self, Credentials, Found};
use super::error::RegistryCheckError;
use super::options::CheckOptions;
use super::reference::{is_loopback, ImageRef};

/// Every manifest type a pod image can be: Docker v2 manifest and manifest list, OCI manifest
/// and index.
const ACCEPT: &str = "application/vnd.docker.distribution.manifest.v2+json, \
     application/vnd.docker.distribution.manifest.list.v2+json, \
     application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json";

/// How much of a response body is read (for error codes and excerpts).
const BODY_LIMIT: u64 = 16 * 1024;

/// What came back from one request.
struct Reply {
    status: u16,
    challenges: Vec<Challenge>,
    body: String,
}

/// One check of one image.
pub(super) struct Session<'a> {
    agent: ureq::Agent,
    image: &'a ImageRef,
    opts: &'a CheckOptions,
    scheme: &'static str,
}

fn excerpt(body: &str) -> String {
    let flat: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
    let cut: String = flat.chars().take(200).collect();
    if cut.len() < flat.len() {
        format!("{cut}…")
    } else {
        cut
    }
}

fn read_reply(response: ureq::Response) -> Reply {
    let status = response.status();
    let challenges = response
        .all("www-authenticate")
        .into_iter()
        .flat_map(challenge::parse)
        .collect();
    let mut body = String::new();
    let _ = response
        .into_reader()
        .take(BODY_LIMIT)
        .read_to_string(&mut body);
    Reply {
        status,
        challenges,
        body,
    }
}

/// Whether plain HTTP is allowed to `authority` (`host[:port]`): loopback, or listed as
/// insecure (by `host[:port]` or by host alone).
pub(super) fn plain_http_allowed(authority: &str, opts: &CheckOptions) -> bool {
    let host = super::reference::host_of(authority);
    is_loopback(authority)
        || opts
            .insecure
            .iter()
            .any(|entry| entry.eq_ignore_ascii_case(authority) || entry.eq_ignore_ascii_case(host))
}

/// The authority of an `http(s)://authority/...` URL.
fn url_authority(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    rest.split(['/', '?', '#']).next().unwrap_or(rest)
}

impl<'a> Session<'a> {
    pub(super) fn new(image: &'a ImageRef, opts: &'a CheckOptions) -> Self {
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(opts.connect_timeout)
            .timeout(opts.timeout)
            .user_agent(concat!("sforge/", env!("CARGO_PKG_VERSION")))
            .build();
        let scheme = if plain_http_allowed(&image.registry, opts) {
            "http"
        } else {
            "https"
        };
        Session {
            agent,
            image,
            opts,
            scheme,
        }
    }

    fn manifest_url(&self) -> String {
        format!(
            "{}://{}/v2/{}/manifests/{}",
            self.scheme, self.image.registry, self.image.repository, self.image.reference
        )
    }

    fn send(
        &self,
        request: ureq::Request,
        authorization: Option<&str>,
    ) -> Result<Reply, RegistryCheckError> {
        let url = request.url().to_owned();
        let request = match authorization {
            Some(value) => request.set("Authorization", value),
            None => request,
        };
        match request.call() {
            Ok(response) | Err(ureq::Error::Status(_, response)) => Ok(read_reply(response)),
            Err(ureq::Error::Transport(e)) => {
                let hint = if self.scheme == "https"
                    && !plain_http_allowed(&self.image.registry, self.opts)
                {
                    format!(
                        ". If {} serves plain HTTP, list it in SFORGE_INSECURE_REGISTRIES",
                        self.image.registry
                    )
                } else {
                    String::new()
                };
                Err(RegistryCheckError::Unreachable {
                    registry: self.image.registry.clone(),
                    url,
                    why: format!("{}{hint}", e.kind()).replace('\n', " ") + &detail(&e),
                })
            }
        }
    }

    fn manifest(
        &self,
        method: &str,
        authorization: Option<&str>,
    ) -> Result<Reply, RegistryCheckError> {
        let request = self
            .agent
            .request(method, &self.manifest_url())
            .set("Accept", ACCEPT);
        self.send(request, authorization)
    }

    /// Whether the manifest exists.
    pub(super) fn exists(mut self) -> Result<bool, RegistryCheckError> {
        let mut reply = self.manifest("HEAD", None)?;
        if self.scheme == "http" && reply.status == 400 {
            // A TLS port answers a plain request with 400: the registry speaks HTTPS after all.
            self.scheme = "https";
            reply = self.manifest("HEAD", None)?;
        }
        let mut authorization = None;
        if reply.status == 401 {
            let value = self.authorize(&reply.challenges)?;
            reply = self.manifest("HEAD", Some(&value))?;
            if reply.status == 401 {
                return Err(self.auth_error(
                    "refused the credentials it was given (401): the repository may not exist, \
                     or the account may lack pull access to it",
                ));
            }
            authorization = Some(value);
        }
        match reply.status {
            200 => return Ok(true),
            404 => return Ok(false),
            _ => {}
        }
        // Some registries answer HEAD oddly (405, 400, 403 with no body): GET says why.
        let reply = self.manifest("GET", authorization.as_deref())?;
        let unknown = ["MANIFEST_UNKNOWN", "NAME_UNKNOWN"]
            .iter()
            .any(|code| reply.body.contains(&format!("\"{code}\"")));
        match reply.status {
            200..=299 => Ok(true),
            404 => Ok(false),
            _ if unknown => Ok(false),
            status => Err(RegistryCheckError::Status {
                registry: self.image.registry.clone(),
                url: self.manifest_url(),
                status,
                body: excerpt(&reply.body),
            }),
        }
    }

    fn config_dir(&self) -> String {
        self.opts.docker_config.as_ref().map_or_else(
            || "<no docker config directory>".to_owned(),
            |d| d.display().to_string(),
        )
    }

    fn auth_error(&self, why: &str) -> RegistryCheckError {
        RegistryCheckError::Auth {
            registry: self.image.registry.clone(),
            repository: self.image.repository.clone(),
            why: why.to_owned(),
        }
    }

    fn credentials(&self) -> Result<Found, RegistryCheckError> {
        let Some(dir) = &self.opts.docker_config else {
            return Ok(Found::Nothing);
        };
        credentials::lookup(dir, &self.image.registry)
            .map_err(|why| self.auth_error(&why.to_string()))
    }

    fn missing_credentials(&self, found: &Found) -> RegistryCheckError {
        let registry = &self.image.registry;
        let dir = self.config_dir();
        let helper_note = match found {
            Found::Helper(helper) => format!(
                ". The config names the credential helper docker-credential-{helper}, which \
                 sforge does not call (a known gap): write an `auths` entry with `auth` (base64 \
                 user:password) for {registry} into a config.json of its own and point \
                 DOCKER_CONFIG at its directory"
            ),
            _ => String::new(),
        };
        let why = format!(
            "needs credentials and {dir}/config.json has no `auths` entry with them for \
             {registry}: run `docker login {registry}` (DOCKER_CONFIG selects the \
             directory){helper_note}"
        );
        self.auth_error(&why)
    }

    /// The `Authorization` value that answers one of `challenges`.
    fn authorize(&self, challenges: &[Challenge]) -> Result<String, RegistryCheckError> {
        let found = self.credentials()?;
        let creds = match &found {
            Found::Credentials(c) => Some(c),
            _ => None,
        };
        if let Some(bearer) = challenges.iter().find(|c| c.scheme == "bearer") {
            return self
                .token(bearer, creds, &found)
                .map(|t| format!("Bearer {t}"));
        }
        if challenges.iter().any(|c| c.scheme == "basic") {
            if !self.plain_or_https(&self.manifest_url()) {
                return Err(self.auth_error("asks for Basic credentials over plain HTTP"));
            }
            return creds
                .map(Credentials::basic_header)
                .ok_or_else(|| self.missing_credentials(&found));
        }
        let schemes: Vec<&str> = challenges.iter().map(|c| c.scheme.as_str()).collect();
        Err(self.auth_error(&format!(
            "answered 401 without a Bearer or Basic challenge (schemes: {schemes:?})"
        )))
    }

    /// Whether credentials may go to `url`: HTTPS, or plain HTTP to a host allowed it.
    fn plain_or_https(&self, url: &str) -> bool {
        url.starts_with("https://") || plain_http_allowed(url_authority(url), self.opts)
    }

    /// A token from the challenge's realm for pulling the repository.
    fn token(
        &self,
        challenge: &Challenge,
        creds: Option<&Credentials>,
        found: &Found,
    ) -> Result<String, RegistryCheckError> {
        let realm = challenge
            .param("realm")
            .filter(|r| r.starts_with("https://") || r.starts_with("http://"))
            .ok_or_else(|| self.auth_error("sent a Bearer challenge without an http(s) realm"))?;
        if creds.is_some() && !self.plain_or_https(realm) {
            return Err(self.auth_error(&format!(
                "sends credentials to the token service {realm} over plain HTTP; refused (list \
                 its host in SFORGE_INSECURE_REGISTRIES if that is intended)"
            )));
        }
        let mut request = self.agent.get(realm).query(
            "scope",
            &format!("repository:{}:pull", self.image.repository),
        );
        if let Some(service) = challenge.param("service") {
            request = request.query("service", service);
        }
        let basic = creds.map(Credentials::basic_header);
        let reply = self.send(request, basic.as_deref())?;
        match (reply.status, creds) {
            (200, _) => {}
            (401 | 403, None) => return Err(self.missing_credentials(found)),
            (401 | 403, Some(c)) => {
                return Err(self.auth_error(&format!(
                "token service {realm} refused the credentials of user {:?} from {}/config.json \
                     (HTTP {}): run `docker login {}` again",
                c.user,
                self.config_dir(),
                reply.status,
                self.image.registry
            )))
            }
            (status, _) => {
                return Err(self.auth_error(&format!(
                    "token service {realm} answered HTTP {status}: {}",
                    excerpt(&reply.body)
                )))
            }
        }
        let json: serde_json::Value = serde_json::from_str(&reply.body).map_err(|e| {
            self.auth_error(&format!("token service {realm} did not answer JSON ({e})"))
        })?;
        ["token", "access_token"]
            .iter()
            .find_map(|k| json.get(k).and_then(serde_json::Value::as_str))
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| {
                self.auth_error(&format!(
                    "token service {realm} answered without a `token` or `access_token`"
                ))
            })
    }
}

/// The transport error's own message, when it has one (never headers, so no secrets).
fn detail(e: &ureq::Transport) -> String {
    e.message().map(|m| format!(": {m}")).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_goes_to_loopback_and_listed_hosts_only() {
        let opts = CheckOptions {
            insecure: vec!["reg.lan:5000".to_owned(), "other.lan".to_owned()],
            ..CheckOptions::default()
        };
        for yes in [
            "127.0.0.1:5000",
            "localhost",
            "[::1]:80",
            "reg.lan:5000",
            "other.lan:1234",
        ] {
            assert!(plain_http_allowed(yes, &opts), "{yes}");
        }
        for no in ["reg.lan:5001", "reg.lan", "10.1.1.1:5000"] {
            assert!(!plain_http_allowed(no, &opts), "{no}");
        }
        assert_eq!(url_authority("http://a.b:1/token?x=y"), "a.b:1");
    }

    #[test]
    fn excerpts_are_short_and_flat() {
        assert_eq!(excerpt("a\n  b"), "a b");
        assert_eq!(excerpt(&"x".repeat(500)).chars().count(), 201);
    }
}
