//! Secrets shown as `***` (docs/security.md#secrets): which variable names and values hold
//! secrets, passwords inside URLs, masking known secret values in any text shown to users (and,
//! through [`Secrets`], in every spelling), and comparing secrets in constant time.

mod scrub;

pub use scrub::{Secrets, MIN_SECRET_LEN};

/// Shown instead of every secret value.
pub const MASK: &str = "***";

/// Whether a variable name suggests a secret value (…KEY, …TOKEN, …SECRET, …PASSWORD, …).
#[must_use]
pub fn is_secret_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    ["KEY", "TOKEN", "SECRET", "PASSWORD", "PASSWD", "CREDENTIAL"]
        .iter()
        .any(|word| upper.contains(word))
}

/// Whether `name=value` must be handled as a secret: a secret-looking name, or a URL value
/// carrying a password.
#[must_use]
pub fn is_secret_env(name: &str, value: &str) -> bool {
    is_secret_name(name) || has_password(value)
}

/// Whether `text` is a URL carrying `user:password@`.
#[must_use]
pub fn has_password(text: &str) -> bool {
    password_span(text).is_some()
}

/// `scheme://user:password@host…` → `scheme://user:***@host…`; other text unchanged.
#[must_use]
pub fn redact_url(text: &str) -> String {
    match password_span(text) {
        Some((start, end)) => format!("{}{MASK}{}", &text[..start], &text[end..]),
        None => text.to_owned(),
    }
}

/// Where the password of `scheme://user:password@…` lies in `text` (byte range).
fn password_span(text: &str) -> Option<(usize, usize)> {
    let authority_start = text.find("://")? + 3;
    let rest = &text[authority_start..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let at = rest[..authority_end].rfind('@')?;
    let colon = rest[..at].find(':')?;
    Some((authority_start + colon + 1, authority_start + at))
}

/// `text` with every occurrence of each non-empty secret replaced by `***`.
#[must_use]
pub fn mask<'a>(text: &str, secrets: impl IntoIterator<Item = &'a str>) -> String {
    secrets
        .into_iter()
        .filter(|secret| !secret.is_empty())
        .fold(text.to_owned(), |acc, secret| acc.replace(secret, MASK))
}

/// A URL without its `user:password@` part (the user shown as `***`), for printing.
#[must_use]
pub fn redact_userinfo(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if !parsed.username().is_empty() || parsed.password().is_some() => {
            let _ = parsed.set_username(MASK);
            let _ = parsed.set_password(None);
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

/// Whether `given` is `expected`, compared in time independent of where they differ; an empty
/// `expected` never matches (a secret that was never set opens nothing).
#[must_use]
pub fn secrets_match(given: &str, expected: &str) -> bool {
    let (a, b) = (given.as_bytes(), expected.as_bytes());
    let mut diff = u8::from(a.len() != b.len());
    for (i, x) in b.iter().enumerate() {
        diff |= x ^ a.get(i).copied().unwrap_or(0);
    }
    diff == 0 && !expected.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_passwords_are_found_and_masked() {
        assert_eq!(
            redact_url("http://bob:s3cret@proxy:3128/x"),
            "http://bob:***@proxy:3128/x"
        );
        assert_eq!(redact_url("http://bob:@proxy"), "http://bob:***@proxy");
        assert_eq!(redact_url("http://proxy:3128"), "http://proxy:3128");
        assert_eq!(redact_url("http://bob@proxy"), "http://bob@proxy");
        assert_eq!(redact_url("http://proxy/a:b@c"), "http://proxy/a:b@c");
        assert_eq!(redact_url("not a url"), "not a url");
        assert!(has_password("https://u:p@h") && !has_password("https://u@h:1"));
    }

    #[test]
    fn secret_looking_names_and_values() {
        assert!(is_secret_name("SFORGE_JUDGE_API_KEY") && is_secret_name("github_token"));
        assert!(!is_secret_name("ANTHROPIC_MODEL"));
        assert!(is_secret_env("HTTP_PROXY", "http://u:p@proxy:3128"));
        assert!(!is_secret_env("HTTP_PROXY", "http://proxy:3128"));
    }

    #[test]
    fn userinfo_is_hidden() {
        assert_eq!(redact_userinfo("http://u:pw@p:3128"), "http://***@p:3128/");
        assert_eq!(redact_userinfo("http://p:3128"), "http://p:3128");
    }

    #[test]
    fn secrets_match_only_when_equal_and_non_empty() {
        assert!(secrets_match("abc", "abc"));
        assert!(!secrets_match("abd", "abc"));
        assert!(!secrets_match("ab", "abc"));
        assert!(!secrets_match("abcd", "abc"));
        assert!(!secrets_match(" abc", "abc"));
        assert!(!secrets_match("", ""));
    }

    #[test]
    fn known_secrets_are_masked_and_empty_ones_ignored() {
        assert_eq!(
            mask("clone https://bot:ghp_x@h", ["ghp_x", ""]),
            "clone https://bot:***@h"
        );
    }
}
