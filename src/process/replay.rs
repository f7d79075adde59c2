//! What a printed plan computes when it is replayed instead of when it is printed
//! (docs/architecture.md#plans): host addresses that could not be resolved here, and secret
//! values, which a plan reads from the replaying shell's environment and never contains.

use std::fmt::Write as _;
use std::net::Ipv4Addr;

/// A host whose IPv4 addresses a plan looks up when it is replayed (`getent ahostsv4`), because
/// they could not be resolved when it was printed. Until then the plan stands in
/// [`ReplayLookup::sentinel`], a documentation address (RFC 5737) that the printer replaces by
/// the variable `var` wherever it appears.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplayLookup {
    /// Shell variable holding the addresses, one per line, e.g. `SFORGE_API_IPV4`.
    pub var: String,
    pub host: String,
    pub sentinel: Ipv4Addr,
    /// Why it could not be resolved here (for the warning).
    pub reason: String,
}

impl ReplayLookup {
    /// The lookup for endpoint number `index` (`role` names the variable: `API` gives
    /// `SFORGE_API_IPV4`).
    #[must_use]
    pub fn new(role: &str, index: u8, host: &str, reason: &str) -> Self {
        let role: String = role
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_uppercase()
                } else {
                    '_'
                }
            })
            .collect();
        ReplayLookup {
            var: format!("SFORGE_{role}_IPV4"),
            host: host.to_owned(),
            sentinel: Ipv4Addr::new(198, 51, 100, index.saturating_add(10)),
            reason: reason.to_owned(),
        }
    }

    /// The variable holding `--add-host HOST:IP` words for every address.
    #[must_use]
    pub fn add_hosts_var(&self) -> String {
        format!("{}_ADD_HOSTS", self.var.trim_end_matches("_IPV4"))
    }

    /// The `--add-host` argument that stands for this host's pins.
    #[must_use]
    pub fn pin(&self) -> String {
        format!("{}:{}", self.host, self.sentinel)
    }

    /// The warning, as shown on stderr and (commented) in the plan.
    #[must_use]
    pub fn warning(&self) -> String {
        let text = format!(
            "cannot resolve {} here ({}); the plan looks its IPv4 addresses up when it is \
             replayed, in ${}",
            self.host, self.reason, self.var
        );
        // One line whatever the host name holds: it becomes a comment of the plan.
        text.replace(['\n', '\r'], " ")
    }

    /// The lines at the top of a plan that resolve the host when it is replayed; the plan stops
    /// there when the host has no IPv4 address.
    #[must_use]
    pub fn prelude(&self) -> String {
        let (var, host) = (&self.var, crate::shell::quote(&self.host));
        let mut text = String::new();
        let _ = writeln!(text, "# warning: {}", self.warning());
        let _ = writeln!(
            text,
            "{var}=$(getent ahostsv4 {host} | awk '{{print $1}}' | sort -u -t. -k1,1n -k2,2n -k3,3n -k4,4n)"
        );
        let message = format!("cannot resolve {}: no IPv4 address", self.host);
        let _ = writeln!(
            text,
            "[ -n \"${var}\" ] || {{ echo {} >&2; exit 1; }}",
            crate::shell::quote(&message)
        );
        let _ = writeln!(
            text,
            "{}=$(for ip in ${var}; do printf ' --add-host %s:%s' {host} \"$ip\"; done)",
            self.add_hosts_var()
        );
        text
    }

    /// `line` (which contains the sentinel) run once per address: `for ip in …; do …; done`.
    #[must_use]
    pub fn loop_line(&self, line: &str) -> String {
        let sentinel = self.sentinel.to_string();
        let body = line
            .replace(&format!("{sentinel}/32"), "\"$ip/32\"")
            .replace(&sentinel, "\"$ip\"");
        format!("for ip in ${}; do\n  {body}\ndone\n", self.var)
    }
}

/// The lookups of this process's plan with their role's variable (`SFORGE_API_IPV4`), so that
/// one host gets one variable and two hosts of one role (tasks with different API URLs) two.
static LOOKUPS: std::sync::Mutex<Vec<(String, ReplayLookup)>> = std::sync::Mutex::new(Vec::new());

/// The lookup of `host` for `role` in this process's plan: the same one for the same host and
/// role, a new variable and stand-in address otherwise (with a warning logged once).
#[must_use]
pub fn lookup_for(role: &str, host: &str, reason: &str) -> ReplayLookup {
    let mut all = LOOKUPS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let index = u8::try_from(all.len()).unwrap_or(u8::MAX);
    let mut fresh = ReplayLookup::new(role, index, host, reason);
    let base = fresh.var.clone();
    if let Some((_, known)) = all.iter().find(|(b, l)| *b == base && l.host == host) {
        return known.clone();
    }
    let same_role = all.iter().filter(|(b, _)| *b == base).count();
    if same_role > 0 {
        let stem = base.trim_end_matches("_IPV4");
        fresh.var = format!("{stem}_{}_IPV4", same_role + 1);
    }
    log::warn!("{}", fresh.warning());
    all.push((base, fresh.clone()));
    fresh
}

/// A command's stdin as a replayed plan produces it: `prelude` lines run first (they read
/// secrets from the environment into variables), then the command reads `body` as an unquoted
/// here-document, already escaped with [`heredoc_escape`] except for its `${…}` references.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReplayStdin {
    pub prelude: String,
    pub body: String,
}

/// `text` made literal inside an unquoted here-document (`\`, `$` and `` ` `` escaped).
#[must_use]
pub fn heredoc_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | '$' | '`') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `${NAME:?…}`: the secret `NAME` read from the replaying shell's environment; the plan stops
/// with a message naming it when it is unset or empty.
#[must_use]
pub fn secret_ref(name: &str) -> String {
    format!("${{{name}:?is a secret the plan does not contain: set it to replay the plan}}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups_are_named_after_their_role_and_loop_over_addresses() {
        let l = ReplayLookup::new("API", 1, "api.example.invalid", "no such host");
        assert_eq!(l.var, "SFORGE_API_IPV4");
        assert_eq!(l.add_hosts_var(), "SFORGE_API_ADD_HOSTS");
        assert_eq!(l.pin(), "api.example.invalid:198.51.100.11");
        let looped = l.loop_line("iptables -A C -d 198.51.100.11/32 -j ACCEPT");
        assert_eq!(
            looped,
            "for ip in $SFORGE_API_IPV4; do\n  iptables -A C -d \"$ip/32\" -j ACCEPT\ndone\n"
        );
        assert!(l.prelude().contains("getent ahostsv4 api.example.invalid"));
    }

    #[test]
    fn one_host_gets_one_variable_and_two_hosts_two() {
        let a = lookup_for("judge", "a.test-one.invalid", "x");
        assert_eq!(lookup_for("judge", "a.test-one.invalid", "y"), a);
        let b = lookup_for("judge", "b.test-one.invalid", "x");
        assert_ne!(a.var, b.var);
        assert_ne!(a.sentinel, b.sentinel);
        assert!(
            b.var.starts_with("SFORGE_JUDGE_") && b.var.ends_with("_IPV4"),
            "{}",
            b.var
        );
    }

    #[test]
    fn heredoc_escape_makes_expansions_literal() {
        assert_eq!(heredoc_escape("a $HOME `x` \\n"), "a \\$HOME \\`x\\` \\\\n");
    }
}
