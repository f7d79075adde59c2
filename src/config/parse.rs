//! Parsers for the textual forms settings take in environment variables and files.
//! Each returns the expected form as the error, so callers can name the variable or field.

use std::collections::BTreeMap;
use std::net::IpAddr;

/// A value that does not have the form its setting takes; shows the expected form, which the
/// caller puts next to the variable, flag or field it came from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{expected}")]
pub struct Malformed {
    pub expected: String,
}

impl Malformed {
    /// The value should have looked like `expected`.
    pub fn expected(expected: impl Into<String>) -> Self {
        Self {
            expected: expected.into(),
        }
    }
}

/// `K=V,K=V`: split on commas, then on the first `=`, both sides trimmed. Items without `=`
/// are dropped with a warning (values cannot contain commas).
#[must_use]
pub fn kv_list(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for item in text.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        match item.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => {
                out.insert(k.trim().to_owned(), v.trim().to_owned());
            }
            _ => log::warn!("ignoring {item:?}: expected KEY=VALUE"),
        }
    }
    out
}

/// One `--add-host` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostEntry {
    pub host: String,
    /// An IP address (v4 or v6) or Docker's `host-gateway`.
    pub ip: String,
}

/// `host:ip,host:ip`, split on the first colon so IPv6 addresses work.
pub fn host_list(text: &str) -> Result<Vec<HostEntry>, Malformed> {
    const EXPECTED: &str = "a comma-separated list of HOST:IP, e.g. git.example.com:10.0.0.5";
    let mut out = Vec::new();
    for item in text.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        let (host, ip) = item
            .split_once(':')
            .ok_or_else(|| Malformed::expected(EXPECTED))?;
        let (host, ip) = (host.trim(), ip.trim());
        if host.is_empty() || (ip != "host-gateway" && ip.parse::<IpAddr>().is_err()) {
            return Err(Malformed::expected(format!("{EXPECTED} ({item:?} is not)")));
        }
        out.push(HostEntry {
            host: host.to_owned(),
            ip: ip.to_owned(),
        });
    }
    Ok(out)
}

/// A boolean: true/yes/on/1 or false/no/off/0 (any case).
pub fn boolean(text: &str) -> Result<bool, Malformed> {
    match text.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(Malformed::expected(
            "true or false (also yes/no, on/off, 1/0)",
        )),
    }
}

/// The `SFORGE_CLAUDE_CACHE_OPT` rule: on unless empty, 0, false, no or off (any case).
#[must_use]
pub fn flag_on(text: &str) -> bool {
    !matches!(
        text.trim().to_ascii_lowercase().as_str(),
        "" | "0" | "false" | "no" | "off"
    )
}

/// A whole number; `what` describes it in the error (e.g. "a whole number of CPUs, e.g. 4").
pub fn whole<T: std::str::FromStr>(text: &str, what: &str) -> Result<T, Malformed> {
    text.trim()
        .parse::<T>()
        .map_err(|_| Malformed::expected(what))
}

/// A memory size as Docker or Kubernetes write it: digits with an optional unit
/// (`b`, `k`, `m`, `g`, `t` in either case, or `Ki`, `Mi`, `Gi`, `Ti`).
pub fn mem_limit(text: &str) -> Result<String, Malformed> {
    let t = text.trim();
    let digits = t.chars().take_while(char::is_ascii_digit).count();
    let unit = &t[digits..];
    let unit_ok = matches!(
        unit,
        "" | "b" | "k" | "m" | "g" | "t" | "B" | "K" | "M" | "G" | "T" | "Ki" | "Mi" | "Gi" | "Ti"
    );
    if digits == 0 || !unit_ok {
        return Err(Malformed::expected("a memory size such as 512m, 8g or 8Gi"));
    }
    Ok(t.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kv_list_trims_and_drops_items_without_equals() {
        let m = kv_list(" A = 1 ,B=x=y,junk,,C=");
        assert_eq!(m.get("A").map(String::as_str), Some("1"));
        assert_eq!(m.get("B").map(String::as_str), Some("x=y"));
        assert_eq!(m.get("C").map(String::as_str), Some(""));
        assert_eq!(m.len(), 3);
    }

    #[test]
    fn host_list_accepts_ipv6_and_host_gateway() {
        let h = host_list("a.example:10.0.0.1, b:fd00::1,c:host-gateway").unwrap();
        assert_eq!(
            h[1],
            HostEntry {
                host: "b".into(),
                ip: "fd00::1".into()
            }
        );
        assert_eq!(h[2].ip, "host-gateway");
        assert!(host_list("nohost").is_err());
        assert!(host_list("a:not-an-ip").is_err());
    }

    #[test]
    fn booleans_are_case_insensitive() {
        assert_eq!(boolean("False"), Ok(false));
        assert_eq!(boolean(" YES "), Ok(true));
        assert!(boolean("maybe").is_err());
        assert!(flag_on("1") && flag_on("True") && flag_on("anything"));
        assert!(!flag_on("False") && !flag_on("") && !flag_on(" no "));
    }

    #[test]
    fn whole_numbers_reject_fractions() {
        assert_eq!(whole::<u32>("4", "n"), Ok(4));
        assert_eq!(
            whole::<u32>("2.5", "a whole number"),
            Err(Malformed::expected("a whole number"))
        );
        assert!(whole::<u32>("-1", "n").is_err());
    }

    #[test]
    fn memory_sizes() {
        for ok in ["512m", "8g", "8Gi", "1024", "2G", "100Mi"] {
            assert_eq!(mem_limit(ok).as_deref(), Ok(ok));
        }
        for bad in ["", "g", "8gb", "1.5g", "8 g", "-1g"] {
            assert!(mem_limit(bad).is_err(), "{bad}");
        }
    }
}
