//! Keyless mode: the client holds only a run token, the upstream sees only the real key, and
//! usage is counted per token.

use sforge::proxy::{ProxyAdmin, ProxyClientError};

use super::doubles::{FakeUpstream, ProxyProcess};
use super::{agent, fetch};

const REAL_KEY: &str = "sk-real-key-never-leaves-the-host";
const SECRET: &str = "admin-secret-for-tests";

fn keyless_proxy(upstream: &FakeUpstream) -> ProxyProcess {
    ProxyProcess::start(
        &[
            "--target",
            &upstream.url(),
            "--inject-key-from-env",
            "REAL_API_KEY",
        ],
        &[
            ("REAL_API_KEY", REAL_KEY),
            ("SFORGE_PROXY_ADMIN_SECRET", SECRET),
        ],
    )
}

#[test]
fn run_token_is_swapped_for_the_real_key() {
    let upstream = FakeUpstream::start();
    let proxy = keyless_proxy(&upstream);
    let admin = ProxyAdmin::new(&proxy.url(), SECRET);
    let token = admin.mint("run-1", "task-a").unwrap();
    assert!(token.starts_with("sfp-"), "{token}");

    let url = format!("{}/echo", proxy.url());
    let (status, _) = fetch(agent().post(&url).set("x-api-key", &token), Some(b"a"));
    assert_eq!(status, 200);
    let bearer = format!("Bearer {token}");
    let (status, _) = fetch(agent().post(&url).set("Authorization", &bearer), Some(b"b"));
    assert_eq!(status, 200);

    let seen = upstream.requests();
    assert_eq!(seen[0].header("x-api-key"), Some(REAL_KEY));
    assert_eq!(seen[0].header("authorization"), None);
    assert_eq!(
        seen[1].header("authorization"),
        Some(format!("Bearer {REAL_KEY}").as_str())
    );
    assert_eq!(seen[1].header("x-api-key"), None);
    for r in &seen {
        assert!(
            !format!("{:?}", r.headers).contains(&token),
            "token reached the upstream"
        );
    }
    assert!(!proxy.stderr().contains(REAL_KEY), "the key was logged");
    assert_eq!(admin.usage(&token).unwrap()["requests"], 2);
}

#[test]
fn missing_unknown_or_revoked_tokens_get_401_and_nothing_reaches_the_upstream() {
    let upstream = FakeUpstream::start();
    let proxy = keyless_proxy(&upstream);
    let admin = ProxyAdmin::new(&proxy.url(), SECRET);
    let token = admin.mint("run-1", "task-a").unwrap();
    let revoked = admin.revoke(&token).unwrap();
    assert_eq!(revoked["revoked"], true);
    assert_eq!(revoked["run_id"], "run-1");
    let url = format!("{}/echo", proxy.url());
    for key in [
        None,
        Some("sfp-unknown"),
        Some(REAL_KEY),
        Some(token.as_str()),
    ] {
        let mut request = agent().post(&url);
        if let Some(key) = key {
            request = request.set("x-api-key", key);
        }
        let (status, response) = fetch(request, Some(b"x"));
        assert_eq!(status, 401, "{key:?}");
        let body = response.into_string().unwrap();
        assert!(body.contains("token") && !body.contains(REAL_KEY), "{body}");
    }
    assert!(upstream.requests().is_empty());
    // The record stays readable after the revocation.
    assert_eq!(admin.usage(&token).unwrap()["requests"], 0);
}

#[test]
fn admin_api_needs_the_secret() {
    let upstream = FakeUpstream::start();
    let proxy = keyless_proxy(&upstream);
    let wrong = ProxyAdmin::new(&proxy.url(), "wrong");
    let err = wrong.mint("run", "task").unwrap_err();
    assert!(
        matches!(err, ProxyClientError::Status { status: 401, .. }),
        "{err}"
    );
    let (status, _) = fetch(
        agent().get(&format!("{}/_sforge/proxy/v1/usage?token=x", proxy.url())),
        None,
    );
    assert_eq!(status, 401);
    assert!(upstream.requests().is_empty());
}

#[test]
fn usage_from_json_and_streams_is_counted_per_token() {
    let upstream = FakeUpstream::start();
    let proxy = keyless_proxy(&upstream);
    let admin = ProxyAdmin::new(&proxy.url(), SECRET);
    let (anthropic, openai) = (admin.mint("r", "a").unwrap(), admin.mint("r", "b").unwrap());
    for path in ["/usage/anthropic-json", "/usage/anthropic-sse"] {
        let req = agent()
            .post(&format!("{}{path}", proxy.url()))
            .set("x-api-key", &anthropic);
        let (status, response) = fetch(req, Some(b"{}"));
        assert_eq!(status, 200);
        assert!(!response.into_string().unwrap().is_empty());
    }
    for path in [
        "/usage/openai-chat-sse",
        "/usage/openai-responses-sse",
        "/status/500",
    ] {
        let bearer = format!("Bearer {openai}");
        let req = agent()
            .post(&format!("{}{path}", proxy.url()))
            .set("Authorization", &bearer);
        let _ = fetch(req, Some(b"{}")).1.into_string().unwrap();
    }
    let a = admin.usage(&anthropic).unwrap();
    assert_eq!(
        (a["requests"].as_u64(), a["errors"].as_u64()),
        (Some(2), Some(0))
    );
    assert_eq!(a["input_tokens"], 11 + 20);
    assert_eq!(a["output_tokens"], 5 + 9);
    assert_eq!(a["cache_read_input_tokens"], 7);
    assert_eq!(a["cache_creation_input_tokens"], 2);
    assert_eq!(a["task"], "a");
    let b = admin.usage(&openai).unwrap();
    assert_eq!(
        (b["requests"].as_u64(), b["errors"].as_u64()),
        (Some(3), Some(1))
    );
    assert_eq!(
        (b["input_tokens"].as_u64(), b["output_tokens"].as_u64()),
        (Some(1100), Some(440))
    );
    let err = admin.usage("sfp-nope").unwrap_err();
    assert!(
        matches!(err, ProxyClientError::Status { status: 404, .. }),
        "{err}"
    );
}

#[test]
fn generated_secret_is_written_privately_and_missing_key_is_an_error() {
    use std::os::unix::fs::PermissionsExt;
    let upstream = FakeUpstream::start();
    let proxy = ProxyProcess::start(
        &[
            "--target",
            &upstream.url(),
            "--inject-key-from-env",
            "REAL_API_KEY",
        ],
        &[("REAL_API_KEY", REAL_KEY)],
    );
    let path = proxy.log_dir.path().join("proxy/admin_secret");
    let secret = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert!(
        !proxy.stderr().contains(secret.trim()),
        "the secret was printed"
    );
    assert!(ProxyAdmin::new(&proxy.url(), secret.trim())
        .mint("r", "t")
        .is_ok());

    let Err((code, stderr)) = ProxyProcess::try_start(
        &[
            "--target",
            &upstream.url(),
            "--inject-key-from-env",
            "REAL_API_KEY",
        ],
        &[("REAL_API_KEY", "")],
    ) else {
        panic!("started without a key");
    };
    assert_eq!(code, Some(1));
    assert!(stderr.contains("REAL_API_KEY"), "{stderr}");
}
