//! Masks secrets before settings are shown: API keys and tokens, passwords inside URLs, and
//! extra-env values whose names look secret, by the rules of [`crate::redact`]; and collects the
//! secret values settings hold, for masking in what servers answer.

use serde_json::Value;

use super::settings::{Settings, SECRET_SETTINGS};
use super::source::Source;
use crate::redact::{has_password, is_secret_env, is_secret_name, redact_url, Secrets, MASK};

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

/// Judge extra-env values at least this long are masked in judge answers whatever their name:
/// the variables exist for the judge alone, and masking a model name costs the agent little.
const MIN_EXTRA_ENV_SECRET: usize = 8;

/// Every secret value `settings` hold, for masking in what a server answers: API keys and
/// tokens, URLs carrying passwords (whole, and their passwords), agent extra-env entries with
/// secret-looking names, and every judge extra-env value whose name looks secret or that is at
/// least eight characters long.
pub fn add_secret_values(settings: &Settings, secrets: &mut Secrets) {
    for (name, value, _) in settings.entries() {
        if SECRET_SETTINGS.contains(&name) {
            if let Value::String(s) = &value {
                secrets.add(s);
            }
            continue;
        }
        add_url_passwords(&value, secrets);
    }
    for (name, value) in &settings.agent_extra_env.value {
        if is_secret_env(name, value) {
            secrets.add(value);
        }
    }
    for (name, value) in &settings.judge_extra_env.value {
        if is_secret_env(name, value) || value.len() >= MIN_EXTRA_ENV_SECRET {
            secrets.add(value);
        }
    }
}

/// Adds every string inside `value` that is a URL carrying a password.
fn add_url_passwords(value: &Value, secrets: &mut Secrets) {
    match value {
        Value::String(s) if has_password(s) => secrets.add(s),
        Value::Array(items) => items.iter().for_each(|v| add_url_passwords(v, secrets)),
        Value::Object(map) => map.values().for_each(|v| add_url_passwords(v, secrets)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Layer, Source, Sourced};

    #[test]
    fn secret_values_cover_keys_proxy_passwords_and_judge_env() {
        let map = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        };
        let set = |v: &str| Some(Sourced::new(Some(v.to_owned()), Source::Default));
        let layer = Layer {
            agent_api_key: set("sk-agent-123"),
            git_token: set("ghp_token1"),
            https_proxy: set("http://bob:pr0xy-pw@proxy:3128"),
            pypi_index_url: set("https://u:mirror-pw@pypi.corp/simple"),
            agent_model: set("plain-model-name"),
            agent_extra_env: Some(Sourced::new(
                map(&[("MY_TOKEN", "agent-tok"), ("MODEL", "agent-model-x")]),
                Source::Default,
            )),
            judge_extra_env: Some(Sourced::new(
                map(&[
                    ("SFORGE_JUDGE_API_KEY", "jk12"),
                    ("SFORGE_JUDGE_MODEL", "judge-model-long"),
                    ("LEVEL", "3"),
                ]),
                Source::Default,
            )),
            ..Layer::default()
        };
        let mut secrets = Secrets::new();
        add_secret_values(&Settings::merge(&[&layer]), &mut secrets);
        let text = "sk-agent-123 ghp_token1 pr0xy-pw mirror-pw agent-tok jk12 judge-model-long";
        assert_eq!(secrets.mask(text), "*** *** *** *** *** *** ***");
        let kept = "plain-model-name agent-model-x LEVEL=3 http://proxy:3128";
        assert_eq!(secrets.mask(kept), kept);
    }
}
