//! Keyless mode: the real API key stays in the proxy, clients present per-run tokens
//! (`sfp-…`), and each token's requests, errors and token usage are counted.

use std::collections::HashMap;
use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde_json::{json, Value};

use super::headers::find;
use super::meter::Usage;
use crate::ids::random_hex;
use crate::redact::secrets_match;

/// Prefix of every run token.
pub const TOKEN_PREFIX: &str = "sfp-";
/// Header carrying the admin secret on admin API requests.
pub const ADMIN_HEADER: &str = "x-sforge-proxy-admin";

/// Why a `--key-header` value is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyHeaderError {
    #[error("the key header name is empty")]
    Empty,
    #[error("{0:?} is not a header name")]
    NotAHeaderName(String),
}

/// Which header carries the real key upstream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyHeader {
    /// `x-api-key: <key>` when the client sent its token in `x-api-key` (Anthropic style),
    /// `Authorization: Bearer <key>` otherwise (`OpenAI` style).
    Auto,
    /// `Authorization: Bearer <key>`.
    Authorization,
    /// `<name>: <key>`.
    Named(String),
}

impl KeyHeader {
    /// `auto`, `authorization` (Bearer) or any other header name (the raw key as its value).
    pub fn parse(text: &str) -> Result<Self, KeyHeaderError> {
        let lower = text.trim().to_ascii_lowercase();
        match lower.as_str() {
            "auto" => Ok(KeyHeader::Auto),
            "authorization" => Ok(KeyHeader::Authorization),
            "" => Err(KeyHeaderError::Empty),
            name if name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b)) =>
            {
                Ok(KeyHeader::Named(name.to_owned()))
            }
            _ => Err(KeyHeaderError::NotAHeaderName(text.to_owned())),
        }
    }

    /// The header (name, value) carrying `key`, given the client's request headers.
    #[must_use]
    pub fn credential(&self, incoming: &[(String, String)], key: &str) -> (String, String) {
        let bearer = || ("Authorization".to_owned(), format!("Bearer {key}"));
        match self {
            KeyHeader::Auto if find(incoming, "x-api-key").is_some() => {
                ("x-api-key".to_owned(), key.to_owned())
            }
            KeyHeader::Auto | KeyHeader::Authorization => bearer(),
            KeyHeader::Named(name) => (name.clone(), key.to_owned()),
        }
    }
}

/// The token a client presented: `x-api-key: <token>` or `Authorization: Bearer <token>`.
#[must_use]
pub fn presented_token(headers: &[(String, String)]) -> Option<&str> {
    if let Some(key) = find(headers, "x-api-key") {
        return Some(key.trim());
    }
    let auth = find(headers, "authorization")?.trim();
    let (scheme, rest) = auth.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
}

/// What is counted for one token.
#[derive(Debug, Clone, Default)]
struct Account {
    run_id: String,
    task: String,
    requests: u64,
    errors: u64,
    usage: Usage,
    revoked: bool,
}

impl Account {
    fn to_json(&self) -> Value {
        json!({
            "run_id": self.run_id,
            "task": self.task,
            "requests": self.requests,
            "input_tokens": self.usage.input_tokens,
            "output_tokens": self.usage.output_tokens,
            "cache_read_input_tokens": self.usage.cache_read_input_tokens,
            "cache_creation_input_tokens": self.usage.cache_creation_input_tokens,
            "errors": self.errors,
            "revoked": self.revoked,
        })
    }
}

/// The keyless state: the real key, the admin secret and the accounts of the minted tokens.
/// Revoked tokens stop authorizing at once but their usage stays readable until the proxy exits.
pub struct Keyless {
    real_key: String,
    key_header: KeyHeader,
    admin_secret: String,
    accounts: Mutex<HashMap<String, Account>>,
}

impl std::fmt::Debug for Keyless {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyless")
            .field("real_key", &"***")
            .field("key_header", &self.key_header)
            .field("admin_secret", &"***")
            .finish_non_exhaustive()
    }
}

impl Keyless {
    #[must_use]
    pub fn new(real_key: String, key_header: KeyHeader, admin_secret: String) -> Self {
        Keyless {
            real_key,
            key_header,
            admin_secret,
            accounts: Mutex::new(HashMap::new()),
        }
    }

    fn accounts(&self) -> std::sync::MutexGuard<'_, HashMap<String, Account>> {
        self.accounts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether the request carries the admin secret.
    #[must_use]
    pub fn is_admin(&self, headers: &[(String, String)]) -> bool {
        find(headers, ADMIN_HEADER)
            .is_some_and(|given| secrets_match(given.trim(), &self.admin_secret))
    }

    /// The token of an authorized request (known and not revoked), counting the request.
    #[must_use]
    pub fn authorize(&self, headers: &[(String, String)]) -> Option<String> {
        let token = presented_token(headers)?;
        let mut accounts = self.accounts();
        let account = accounts.get_mut(token).filter(|a| !a.revoked)?;
        account.requests += 1;
        Some(token.to_owned())
    }

    /// The header carrying the real key for this request.
    #[must_use]
    pub fn credential(&self, incoming: &[(String, String)]) -> (String, String) {
        self.key_header.credential(incoming, &self.real_key)
    }

    /// Adds one response's usage (and whether it failed) to a token's account.
    pub fn record(&self, token: &str, usage: Usage, failed: bool) {
        if let Some(account) = self.accounts().get_mut(token) {
            account.usage.add(usage);
            account.errors += u64::from(failed);
        }
    }

    /// Mints a new token (192 random bits) for a run and task.
    pub fn mint(&self, run_id: &str, task: &str) -> io::Result<String> {
        let token = format!("{TOKEN_PREFIX}{}", random_hex(48)?);
        let account = Account {
            run_id: run_id.to_owned(),
            task: task.to_owned(),
            ..Account::default()
        };
        self.accounts().insert(token.clone(), account);
        Ok(token)
    }

    /// The usage record of a token, revoked or not.
    #[must_use]
    pub fn usage(&self, token: &str) -> Option<Value> {
        self.accounts().get(token).map(Account::to_json)
    }

    /// Revokes a token and returns its final usage record.
    #[must_use]
    pub fn revoke(&self, token: &str) -> Option<Value> {
        let mut accounts = self.accounts();
        let account = accounts.get_mut(token)?;
        account.revoked = true;
        Some(account.to_json())
    }
}

/// The admin secret: `from_env` (`SFORGE_PROXY_ADMIN_SECRET`) when non-empty, else a new random
/// one written (mode 0600) to `<log_dir>/proxy/admin_secret`, whose path is returned with it.
pub fn admin_secret(
    from_env: Option<&str>,
    log_dir: &Path,
) -> io::Result<(String, Option<PathBuf>)> {
    if let Some(secret) = from_env.map(str::trim).filter(|s| !s.is_empty()) {
        return Ok((secret.to_owned(), None));
    }
    let dir = log_dir.join("proxy");
    fs::create_dir_all(&dir)?;
    let secret = random_hex(48)?;
    let path = dir.join("admin_secret");
    let staging = dir.join(format!(".admin_secret.{}", std::process::id()));
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&staging)?;
    file.write_all(format!("{secret}\n").as_bytes())?;
    file.sync_all()?;
    fs::rename(&staging, &path)?;
    Ok((secret, Some(path)))
}

#[cfg(test)]
mod tests;
