//! Token checks, key placement and the admin secret file.

use std::os::unix::fs::PermissionsExt;

use super::*;

fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
        .collect()
}

fn keyless() -> Keyless {
    Keyless::new("real-key".into(), KeyHeader::Auto, "s3cret".into())
}

#[test]
fn tokens_are_long_random_and_prefixed() {
    let k = keyless();
    let a = k.mint("run1", "task1").unwrap();
    let b = k.mint("run1", "task2").unwrap();
    assert!(
        a.starts_with(TOKEN_PREFIX) && a.len() == TOKEN_PREFIX.len() + 48,
        "{a}"
    );
    assert_ne!(a, b);
}

#[test]
fn only_known_unrevoked_tokens_authorize_and_requests_are_counted() {
    let k = keyless();
    let t = k.mint("run1", "task1").unwrap();
    assert_eq!(k.authorize(&h(&[("x-api-key", &t)])), Some(t.clone()));
    let bearer = format!("Bearer {t}");
    assert_eq!(
        k.authorize(&h(&[("Authorization", &bearer)])),
        Some(t.clone())
    );
    assert_eq!(k.authorize(&h(&[("x-api-key", "sfp-unknown")])), None);
    assert_eq!(
        k.authorize(&h(&[("Authorization", &format!("Basic {t}"))])),
        None
    );
    assert_eq!(k.authorize(&h(&[])), None);
    k.record(
        &t,
        Usage {
            input_tokens: 3,
            ..Usage::default()
        },
        true,
    );
    let final_usage = k.revoke(&t).unwrap();
    assert_eq!(final_usage["requests"], 2);
    assert_eq!(final_usage["input_tokens"], 3);
    assert_eq!(final_usage["errors"], 1);
    assert_eq!(final_usage["run_id"], "run1");
    assert_eq!(k.authorize(&h(&[("x-api-key", &t)])), None);
    assert_eq!(k.usage(&t).unwrap()["revoked"], true);
    assert_eq!(k.revoke("sfp-nope"), None);
}

#[test]
fn auto_key_header_follows_the_client_style() {
    let k = KeyHeader::Auto;
    assert_eq!(
        k.credential(&h(&[("X-Api-Key", "sfp-1")]), "K"),
        ("x-api-key".into(), "K".into())
    );
    assert_eq!(
        k.credential(&h(&[("Authorization", "Bearer sfp-1")]), "K"),
        ("Authorization".into(), "Bearer K".into())
    );
    assert_eq!(
        KeyHeader::parse("api-key").unwrap().credential(&[], "K"),
        ("api-key".into(), "K".into())
    );
    assert_eq!(
        KeyHeader::parse("Authorization").unwrap(),
        KeyHeader::Authorization
    );
    assert_eq!(
        KeyHeader::parse("bad header"),
        Err(KeyHeaderError::NotAHeaderName("bad header".into()))
    );
    assert_eq!(KeyHeader::parse(" "), Err(KeyHeaderError::Empty));
}

#[test]
fn admin_secret_is_compared_exactly() {
    let k = keyless();
    assert!(k.is_admin(&h(&[("X-SForge-Proxy-Admin", "s3cret")])));
    assert!(!k.is_admin(&h(&[("X-SForge-Proxy-Admin", "s3cre")])));
    assert!(!k.is_admin(&h(&[("X-SForge-Proxy-Admin", "s3cret!")])));
    assert!(!k.is_admin(&h(&[])));
    assert!(k.is_admin(&h(&[("X-SForge-Proxy-Admin", " s3cret ")])));
}

#[test]
fn debug_output_hides_the_key_and_secret() {
    let text = format!("{:?}", keyless());
    assert!(
        !text.contains("real-key") && !text.contains("s3cret"),
        "{text}"
    );
}

#[test]
fn generated_admin_secret_is_private_and_env_wins() {
    let dir = tempfile::tempdir().unwrap();
    let (secret, path) = admin_secret(None, dir.path()).unwrap();
    let path = path.unwrap();
    assert_eq!(fs::read_to_string(&path).unwrap().trim(), secret);
    assert_eq!(
        fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(secret.len(), 48);
    assert_eq!(
        admin_secret(Some("given"), dir.path()).unwrap(),
        ("given".into(), None)
    );
    let (again, _) = admin_secret(Some(""), dir.path()).unwrap();
    assert_ne!(again, secret);
}
