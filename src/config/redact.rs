//! Masks secrets before settings are shown: API keys and tokens, passwords inside URLs, and
//! extra-env values whose names look secret, by the rules of [`crate::redact`].

use serde_json::Value;

use super::settings::{Settings, SECRET_SETTINGS};
use super::source::Source;
use crate::redact::{is_secret_name, redact_url, MASK};

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
