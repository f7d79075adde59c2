//! Masks secrets before settings are shown: API keys and tokens, passwords inside URLs, and
//! extra-env values whose names look secret (…KEY, …TOKEN, …SECRET, …PASSWORD).

use serde_json::Value;

use super::settings::{Settings, SECRET_SETTINGS};
use super::source::Source;

const MASK: &str = "***";

/// `Settings::entries` with every secret replaced by `***`.
#[must_use]
pub fn redacted_entries(settings: &Settings) -> Vec<(&'static str, Value, &Source)> {
    settings
        .entries()
        .into_iter()
        .map(|(name, value, source)| {
            let value = if SECRET_SETTINGS.contains(&name) && !value.is_null() {
                Value::String(MASK.to_owned())
            } else {
                redact_value(value)
            };
            (name, value, source)
        })
        .collect()
}

fn redact_value(value: Value) -> Value {
    match value {
        Value::String(s) => Value::String(redact_url(&s)),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let v = if is_secret_name(&k) {
                        Value::String(MASK.to_owned())
                    } else {
                        redact_value(v)
                    };
                    (k, v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(redact_value).collect()),
        other => other,
    }
}

/// Whether an environment variable name suggests a secret value.
#[must_use]
pub fn is_secret_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    ["KEY", "TOKEN", "SECRET", "PASSWORD", "PASSWD", "CREDENTIAL"]
        .iter()
        .any(|word| upper.contains(word))
}

/// `scheme://user:password@host…` → `scheme://user:***@host…`; other text unchanged.
#[must_use]
pub fn redact_url(text: &str) -> String {
    let Some(scheme_end) = text.find("://") else {
        return text.to_owned();
    };
    let rest = &text[scheme_end + 3..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let Some(at) = rest[..authority_end].rfind('@') else {
        return text.to_owned();
    };
    let userinfo = &rest[..at];
    match userinfo.split_once(':') {
        Some((user, _password)) => {
            format!("{}{user}:{MASK}{}", &text[..scheme_end + 3], &rest[at..])
        }
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_passwords_are_masked() {
        assert_eq!(
            redact_url("http://bob:s3cret@proxy:3128/x"),
            "http://bob:***@proxy:3128/x"
        );
        assert_eq!(redact_url("http://proxy:3128"), "http://proxy:3128");
        assert_eq!(redact_url("http://bob@proxy"), "http://bob@proxy");
        assert_eq!(redact_url("not a url"), "not a url");
    }

    #[test]
    fn secret_looking_names() {
        assert!(is_secret_name("SFORGE_JUDGE_API_KEY") && is_secret_name("github_token"));
        assert!(!is_secret_name("ANTHROPIC_MODEL"));
    }
}
