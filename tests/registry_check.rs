//! The registry image check against a real registry (Debian's `docker-registry` on 127.0.0.1)
//! and against `AuthRegistry`, a token-auth registry TEST DOUBLE: no real registry with token
//! authentication can run here (it needs a separate token service and certificates), so a tiny
//! HTTP server plays both the registry and its token service, as the distribution spec
//! describes them, and records every request it gets.

// Tests observe the system directly, independent of the product's process gateway.
#![allow(clippy::disallowed_methods)]

mod support;

use std::io::{self, Read};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use sforge::http::{reason_phrase, BodyFraming, Limits, Request, Response, Server};
use sforge::image::{image_exists, pod_image_check, CheckOptions, RegistryCheckError};
use support::registry::{free_port, LocalRegistry};
use support::{docker, run_ok, unique_name, BUSYBOX_IMAGE};

#[test]
fn the_real_registry_has_a_pushed_image_and_lacks_other_tags_and_repositories() {
    require_docker!();
    let Some(registry) = LocalRegistry::start() else {
        return;
    };
    let repo = unique_name("sforge-test-regcheck");
    let remote = format!("{}/{repo}/busybox:present", registry.addr);
    run_ok(docker().args(["tag", BUSYBOX_IMAGE, &remote]), None);
    let pushed = support::run(docker().args(["push", &remote]), None);
    run_ok(docker().args(["image", "rm", &remote]), None);
    assert!(
        pushed.status.success(),
        "docker push: {}",
        String::from_utf8_lossy(&pushed.stderr)
    );
    let opts = CheckOptions::default();
    assert!(image_exists(&remote, &opts).expect("check the pushed image"));
    let other_tag = format!("{}/{repo}/busybox:absent", registry.addr);
    assert!(!image_exists(&other_tag, &opts).expect("check a missing tag"));
    let other_repo = format!("{}/{repo}/nothing:present", registry.addr);
    assert!(!image_exists(&other_repo, &opts).expect("check a missing repository"));
    let digest = format!("{}/{repo}/busybox@sha256:{}", registry.addr, "0".repeat(64));
    assert!(!image_exists(&digest, &opts).expect("check a missing digest"));

    let check = pod_image_check(opts, registry.addr.clone());
    check(&remote).expect("the hook accepts the pushed image");
    let err = check(&other_tag).expect_err("the hook refuses a missing image");
    assert_eq!(
        err.to_string(),
        format!(
            "image {other_tag} is not in the registry {}: push it (sforge push --registry {} \
             --task <id>) or fix SFORGE_K8S_IMAGE_REGISTRY",
            registry.addr, registry.addr
        )
    );
}

#[test]
fn an_unreachable_registry_is_named() {
    let addr = format!("127.0.0.1:{}", free_port());
    let err = image_exists(&format!("{addr}/app:1"), &CheckOptions::default()).unwrap_err();
    assert!(
        matches!(&err, RegistryCheckError::Unreachable { registry, .. } if *registry == addr),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains(&format!("cannot reach the registry {addr}")),
        "{err}"
    );
    let check = pod_image_check(CheckOptions::default(), addr.clone());
    let msg = check(&format!("{addr}/app:1")).unwrap_err().to_string();
    assert!(
        msg.contains(&format!("cannot reach the registry {addr}")),
        "{msg}"
    );
}

// ---- The token-auth registry test double.

const USER: &str = "alice";
const PASSWORD: &str = "wonder:land-S3CRET";
const TOKEN: &str = "tok-3f9a8b7c6d5e";
/// A service name that needs both quoting (comma) and URL encoding (space).
const SERVICE: &str = "double registry, test";

/// One request the double received.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    url: String,
    authorization: Option<String>,
}

/// How the double challenges unauthenticated manifest requests.
#[derive(Clone, Copy, PartialEq)]
enum Scheme {
    Bearer,
    Basic,
}

/// TEST DOUBLE of a registry with token authentication (plain HTTP on 127.0.0.1). Manifests of
/// `team/app:v1` exist. `/v2/…` answers 401 with a challenge unless the right token (or, in
/// Basic mode, the right credentials) comes along; `/token` checks Basic credentials and issues
/// the token. Stopped on drop.
struct AuthRegistry {
    addr: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    server: Option<Server>,
}

fn basic(user: &str, password: &str) -> String {
    let pair = format!("{user}:{password}");
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    )
}

fn respond(
    request: &mut Response<'_>,
    status: u16,
    headers: &[(&str, String)],
    body: &str,
) -> io::Result<()> {
    let headers: Vec<(String, String)> = headers
        .iter()
        .map(|(n, v)| ((*n).to_owned(), v.clone()))
        .collect();
    let framing = BodyFraming::Length(body.len() as u64);
    request.start(status, reason_phrase(status), &headers, framing)?;
    request.write(body.as_bytes())?;
    request.end()
}

fn handle(
    req: &mut Request<'_>,
    request: &mut Response<'_>,
    addr: &str,
    scheme: Scheme,
    seen: &Mutex<Vec<Seen>>,
) -> io::Result<()> {
    let authorization = req.head.header("authorization").map(str::to_owned);
    let url = req.head.target.clone();
    seen.lock().unwrap().push(Seen {
        method: req.head.method.clone(),
        url: url.clone(),
        authorization: authorization.clone(),
    });
    req.body.read_to_end(&mut Vec::new())?;
    let json = [("Content-Type", "application/json".to_owned())];
    if url.starts_with("/token") {
        if authorization.as_deref() == Some(basic(USER, PASSWORD).as_str()) {
            return respond(
                request,
                200,
                &json,
                &format!(r#"{{"access_token":"{TOKEN}"}}"#),
            );
        }
        return respond(request, 401, &json, r#"{"details":"bad credentials"}"#);
    }
    let Some(rest) = url.strip_prefix("/v2/") else {
        return respond(request, 404, &[], "");
    };
    let (repo, reference) = rest.split_once("/manifests/").unwrap_or((rest, ""));
    let accepted = match scheme {
        Scheme::Bearer => format!("Bearer {TOKEN}"),
        Scheme::Basic => basic(USER, PASSWORD),
    };
    if authorization.as_deref() != Some(accepted.as_str()) {
        let challenge = match scheme {
            Scheme::Bearer => format!(
                r#"Bearer realm="http://{addr}/token",service="{SERVICE}",scope="repository:{repo}:pull""#
            ),
            Scheme::Basic => r#"Basic realm="double, basic""#.to_owned(),
        };
        return respond(request, 401, &[("WWW-Authenticate", challenge)], "");
    }
    if repo == "team/app" && reference == "v1" {
        let oci = (
            "Content-Type",
            "application/vnd.oci.image.index.v1+json".to_owned(),
        );
        respond(request, 200, &[oci], "{}")
    } else {
        respond(
            request,
            404,
            &json,
            r#"{"errors":[{"code":"MANIFEST_UNKNOWN"}]}"#,
        )
    }
}

impl AuthRegistry {
    fn start(scheme: Scheme) -> Self {
        Self::start_on("127.0.0.1", scheme)
    }

    /// The double listening on `ip` (a local address: loopback or the docker bridge).
    fn start_on(ip: &str, scheme: Scheme) -> Self {
        let listener = TcpListener::bind(format!("{ip}:0")).expect("bind the double");
        let port = listener.local_addr().expect("an address").port();
        let addr = format!("{ip}:{port}");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let handler = {
            let (addr, seen) = (addr.clone(), Arc::clone(&seen));
            move |req: &mut Request<'_>, res: &mut Response<'_>| {
                handle(req, res, &addr, scheme, &seen)
            }
        };
        let server = Server::start(
            listener,
            "registry-double",
            Limits::new(1 << 20),
            Arc::new(handler),
        )
        .expect("start the double");
        Self {
            addr,
            seen,
            server: Some(server),
        }
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

impl Drop for AuthRegistry {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            let _ = server.stop(Duration::from_secs(5));
        }
    }
}

/// A Docker config directory whose `config.json` is `json`.
fn docker_config(json: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temporary directory");
    std::fs::write(dir.path().join("config.json"), json).expect("write config.json");
    dir
}

fn config_for(addr: &str, user: &str, password: &str) -> tempfile::TempDir {
    let auth = basic(user, password);
    let auth = auth.trim_start_matches("Basic ");
    docker_config(&format!(
        r#"{{"auths":{{"http://{addr}":{{"auth":"{auth}"}}}}}}"#
    ))
}

fn options(dir: &tempfile::TempDir) -> CheckOptions {
    CheckOptions {
        docker_config: Some(dir.path().to_owned()),
        ..CheckOptions::default()
    }
}

#[test]
fn the_token_flow_asks_for_pull_scope_with_basic_credentials_and_retries_with_the_token() {
    let registry = AuthRegistry::start(Scheme::Bearer);
    let config = config_for(&registry.addr, USER, PASSWORD);
    let opts = options(&config);
    assert!(image_exists(&format!("{}/team/app:v1", registry.addr), &opts).unwrap());
    assert!(!image_exists(&format!("{}/team/app:v2", registry.addr), &opts).unwrap());

    let seen = registry.seen();
    let tokens: Vec<&Seen> = seen
        .iter()
        .filter(|s| s.url.starts_with("/token"))
        .collect();
    assert_eq!(tokens.len(), 2, "{seen:#?}");
    for request in &tokens {
        let query = request.url.split_once('?').map_or("", |(_, q)| q);
        let mut params: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        params.sort();
        assert_eq!(
            params,
            [
                ("scope".to_owned(), "repository:team/app:pull".to_owned()),
                ("service".to_owned(), SERVICE.to_owned()),
            ],
            "{request:?}"
        );
        assert_eq!(request.authorization, Some(basic(USER, PASSWORD)));
    }
    // Credentials go only to the token service; the registry sees the token.
    for request in seen.iter().filter(|s| s.url.starts_with("/v2/")) {
        assert_eq!(request.method, "HEAD", "{request:?}");
        let auth = request.authorization.as_deref();
        assert!(
            auth.is_none() || auth == Some(&format!("Bearer {TOKEN}")),
            "{request:?}"
        );
    }
}

#[test]
fn wrong_credentials_give_a_clear_error_without_the_secret() {
    let registry = AuthRegistry::start(Scheme::Bearer);
    let config = config_for(&registry.addr, USER, "not-the-password");
    let err = image_exists(&format!("{}/team/app:v1", registry.addr), &options(&config))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("refused the credentials of user \"alice\"")
            && err.contains(&format!("docker login {}", registry.addr))
            && err.contains(&registry.addr),
        "{err}"
    );
    assert!(
        !err.contains("not-the-password") && !err.contains(TOKEN),
        "{err}"
    );
}

#[test]
fn missing_credentials_say_how_to_log_in_and_name_an_uncalled_helper() {
    let registry = AuthRegistry::start(Scheme::Bearer);
    let image = format!("{}/team/app:v1", registry.addr);
    let none = docker_config("{}");
    let err = image_exists(&image, &options(&none))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(&format!("run `docker login {}`", registry.addr)),
        "{err}"
    );
    assert!(!err.contains("helper"), "{err}");
    let helper = docker_config(r#"{"credsStore":"secretservice"}"#);
    let err = image_exists(&image, &options(&helper))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("docker-credential-secretservice") && err.contains("known gap"),
        "{err}"
    );
}

#[test]
fn a_basic_challenge_is_answered_with_the_configured_credentials() {
    let registry = AuthRegistry::start(Scheme::Basic);
    let config = config_for(&registry.addr, USER, PASSWORD);
    let opts = options(&config);
    assert!(image_exists(&format!("{}/team/app:v1", registry.addr), &opts).unwrap());
    assert!(!image_exists(&format!("{}/team/none:v1", registry.addr), &opts).unwrap());
    assert!(registry.seen().iter().all(|s| !s.url.starts_with("/token")));
    let wrong = config_for(&registry.addr, USER, "nope");
    let err = image_exists(&format!("{}/team/app:v1", registry.addr), &options(&wrong))
        .unwrap_err()
        .to_string();
    assert!(err.contains("refused the credentials"), "{err}");
}

/// The docker bridge's gateway address: local to this machine, but not loopback.
fn bridge_ip() -> String {
    support::bridge_gateway().0.to_string()
}

#[test]
fn non_loopback_registries_get_https_unless_listed_as_insecure() {
    require_docker!();
    let registry = AuthRegistry::start_on(&bridge_ip(), Scheme::Bearer);
    let config = config_for(&registry.addr, USER, PASSWORD);
    let image = format!("{}/team/app:v1", registry.addr);
    let mut opts = CheckOptions {
        timeout: Duration::from_secs(5),
        ..options(&config)
    };
    let started = Instant::now();
    let err = image_exists(&image, &opts).unwrap_err();
    assert!(
        matches!(&err, RegistryCheckError::Unreachable { url, .. } if url.starts_with("https://")),
        "{err}"
    );
    assert!(
        err.to_string().contains("SFORGE_INSECURE_REGISTRIES"),
        "{err}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    assert!(
        registry.seen().is_empty(),
        "no plain request: {:?}",
        registry.seen()
    );

    opts.insecure = vec![registry.addr.clone()];
    assert!(image_exists(&image, &opts).unwrap());
    assert!(registry.seen().iter().any(|s| s.url.starts_with("/token")));
}
