//! [`Secrets`]: the secret values a server holds, in every spelling they are searched for (raw,
//! percent-encoded and -decoded, base64 at any alignment, hex), masked as `***` in text and JSON
//! answers (docs/security.md#secrets).

use std::fmt::{self, Write as _};
use std::sync::OnceLock;

use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use percent_encoding::{percent_decode_str, utf8_percent_encode, NON_ALPHANUMERIC};
use regex::Regex;
use serde_json::Value;

use super::{has_password, MASK};

/// Values shorter than this are not searched for: masking every `1` or `abc` in an output
/// would destroy it, and such a value is no secret worth the name.
pub const MIN_SECRET_LEN: usize = 4;
/// Encoded spellings (base64, hex) are searched for only for values at least this long:
/// shorter ones give patterns that match innocent text.
const MIN_ENCODED_LEN: usize = 8;

/// A set of secret values and a matcher for all their spellings. `Debug` shows only how many.
#[derive(Clone, Default)]
pub struct Secrets {
    patterns: Vec<String>,
    /// Built at the first use after a change.
    matcher: OnceLock<Option<Regex>>,
}

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secrets({} patterns)", self.patterns.len())
    }
}

impl Secrets {
    /// No secrets: masks nothing.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether nothing is searched for.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// Adds `value` (when at least [`MIN_SECRET_LEN`] long) in all its spellings; a URL with
    /// `user:password@` also adds its password and `user:password` (raw and decoded).
    pub fn add(&mut self, value: &str) {
        if let Some((userinfo, password)) = url_credentials(value) {
            for part in [userinfo, password] {
                self.add_spellings(part);
                self.add_spellings(&percent_decode_str(part).decode_utf8_lossy());
            }
        }
        self.add_spellings(value);
        self.matcher = OnceLock::new();
    }

    /// Adds every value of `values` (see [`Secrets::add`]).
    pub fn extend<'a>(&mut self, values: impl IntoIterator<Item = &'a str>) {
        for value in values {
            self.add(value);
        }
    }

    fn add_spellings(&mut self, value: &str) {
        if value.len() < MIN_SECRET_LEN {
            return;
        }
        let mut spellings = vec![value.to_owned()];
        let encoded = utf8_percent_encode(value, NON_ALPHANUMERIC).to_string();
        spellings.push(encoded.to_ascii_lowercase());
        spellings.push(encoded);
        spellings.push(form_urlencoded::byte_serialize(value.as_bytes()).collect());
        if value.len() >= MIN_ENCODED_LEN {
            spellings.extend(base64_spellings(value.as_bytes()));
            let hex = hex(value.as_bytes());
            spellings.push(hex.to_ascii_uppercase());
            spellings.push(hex);
        }
        for spelling in spellings {
            if spelling.len() >= MIN_SECRET_LEN && !self.patterns.contains(&spelling) {
                self.patterns.push(spelling);
            }
        }
    }

    /// The patterns, longest first so that a whole URL is masked before its parts.
    fn by_length(&self) -> Vec<&str> {
        let mut patterns: Vec<&str> = self.patterns.iter().map(String::as_str).collect();
        patterns.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        patterns
    }

    /// One alternation of all patterns (leftmost-first: the longest wins at each position).
    fn matcher(&self) -> Option<&Regex> {
        self.matcher
            .get_or_init(|| {
                let alternation: Vec<String> =
                    self.by_length().into_iter().map(regex::escape).collect();
                // Escaped literals always compile; beyond the size limit `mask` falls back to
                // replacing pattern by pattern.
                (!alternation.is_empty())
                    .then(|| Regex::new(&alternation.join("|")).ok())
                    .flatten()
            })
            .as_ref()
    }

    /// `text` with every spelling of every secret replaced by `***`.
    #[must_use]
    pub fn mask(&self, text: &str) -> String {
        match self.matcher() {
            Some(re) => re.replace_all(text, MASK).into_owned(),
            None => super::mask(text, self.by_length()),
        }
    }

    /// Masks every string of a JSON value, object keys included.
    pub fn mask_json(&self, value: &mut Value) {
        if self.is_empty() {
            return;
        }
        match value {
            Value::String(s) => *s = self.mask(s),
            Value::Array(items) => items.iter_mut().for_each(|v| self.mask_json(v)),
            Value::Object(map) => {
                let entries = std::mem::take(map);
                for (key, mut v) in entries {
                    self.mask_json(&mut v);
                    map.insert(self.mask(&key), v);
                }
            }
            _ => {}
        }
    }
}

/// Lowercase hex digits of `bytes`.
fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .fold(String::with_capacity(2 * bytes.len()), |mut out, b| {
            let _ = write!(out, "{b:02x}");
            out
        })
}

/// `(user:password, password)` of a URL carrying a password.
fn url_credentials(text: &str) -> Option<(&str, &str)> {
    if !has_password(text) {
        return None;
    }
    let start = text.find("://")? + 3;
    let rest = &text[start..];
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let userinfo = &rest[..rest[..end].rfind('@')?];
    let password = &userinfo[userinfo.find(':')? + 1..];
    Some((userinfo, password))
}

/// The base64 text (standard and URL-safe alphabets) that any encoding containing `bytes`
/// contains, whatever the offset of `bytes` in the encoded data: for each of the three
/// alignments, the characters that depend on `bytes` alone.
fn base64_spellings(bytes: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    for offset in 0..3 {
        let mut data = vec![0u8; offset];
        data.extend_from_slice(bytes);
        // Characters mixing bits of the padding bytes before, or of unknown bytes after.
        let skip = [0, 2, 3][offset];
        let whole = (offset + bytes.len()) / 3 * 4;
        for engine in [&STANDARD_NO_PAD, &URL_SAFE_NO_PAD] {
            let encoded = engine.encode(&data);
            // A last partial group: its first `n % 3` characters depend on `bytes` alone.
            let end = whole + (offset + bytes.len()) % 3;
            if end > skip {
                out.push(encoded[skip..end.min(encoded.len())].to_owned());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secrets(values: &[&str]) -> Secrets {
        let mut s = Secrets::new();
        s.extend(values.iter().copied());
        s
    }

    #[test]
    fn raw_and_url_encoded_values_are_masked() {
        let s = secrets(&["s3cret/value+1"]);
        assert_eq!(s.mask("a s3cret/value+1 b"), "a *** b");
        assert_eq!(s.mask("q=s3cret%2Fvalue%2B1"), "q=***");
        assert_eq!(s.mask("q=s3cret%2fvalue%2b1"), "q=***");
        assert_eq!(s.mask("nothing here"), "nothing here");
    }

    #[test]
    fn base64_is_masked_at_every_alignment() {
        let secret = "sk-judge-0123456789";
        let s = secrets(&[secret]);
        for prefix in ["", "a", "ab", "abc"] {
            for engine in [&STANDARD_NO_PAD, &URL_SAFE_NO_PAD] {
                let encoded = engine.encode(format!("{prefix}{secret}!?"));
                let masked = s.mask(&encoded);
                assert!(masked.contains(MASK), "{prefix:?}: {encoded} -> {masked}");
                assert!(masked.len() <= MASK.len() + 8, "{encoded} -> {masked}");
            }
        }
        assert_eq!(s.mask(&hex(secret.as_bytes())), MASK);
    }

    #[test]
    fn proxy_urls_lose_the_whole_url_and_the_password_alone() {
        let s = secrets(&["http://bob:p%40ss-w0rd@proxy.corp:3128"]);
        assert_eq!(
            s.mask("via http://bob:p%40ss-w0rd@proxy.corp:3128 ok"),
            "via *** ok"
        );
        assert_eq!(s.mask("pw=p%40ss-w0rd"), "pw=***");
        assert_eq!(s.mask("pw=p@ss-w0rd"), "pw=***");
        assert_eq!(s.mask("bob:p@ss-w0rd"), "***");
        assert_eq!(s.mask("http://proxy.corp:3128"), "http://proxy.corp:3128");
    }

    #[test]
    fn short_values_are_not_searched_and_debug_hides_values() {
        let s = secrets(&["abc", ""]);
        assert!(s.is_empty());
        assert_eq!(s.mask("abc"), "abc");
        let s = secrets(&["hunter22"]);
        assert!(!format!("{s:?}").contains("hunter22"));
    }

    #[test]
    fn json_strings_and_keys_are_masked() {
        let s = secrets(&["topsecret"]);
        let mut v = serde_json::json!({"topsecret": ["x topsecret", 1, {"k": "topsecret"}]});
        s.mask_json(&mut v);
        assert_eq!(v, serde_json::json!({"***": ["x ***", 1, {"k": "***"}]}));
    }
}
