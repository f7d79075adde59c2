//! Kubernetes names and label values from sforge's container names, without collisions: any name
//! that sanitising or truncation changes carries 8 hex digits of the SHA-256 of the original.

use std::fmt::Write as _;

use sha2::{Digest, Sha256};

/// Longest DNS-1123 label (pod, secret and policy names) and label value.
pub const MAX_NAME: usize = 63;
/// Longest pod name: leaves room for `sforge-iso-` so the policy and Secret names derived
/// from it need no further cut.
pub const MAX_POD: usize = MAX_NAME - POLICY_PREFIX.len();
const POLICY_PREFIX: &str = "sforge-iso-";

/// The first 8 hex digits of the SHA-256 of `text`.
#[must_use]
pub fn short_hash(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .take(4)
        .fold(String::with_capacity(8), |mut hex, b| {
            let _ = write!(hex, "{b:02x}");
            hex
        })
}

/// `text` lower-cased with every character outside `[a-z0-9-]` turned into `-`, runs of `-`
/// collapsed and `-` trimmed from both ends.
fn dns_chars(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars().flat_map(char::to_lowercase) {
        let c = if c.is_ascii_lowercase() || c.is_ascii_digit() {
            c
        } else {
            '-'
        };
        if !(c == '-' && out.ends_with('-')) {
            out.push(c);
        }
    }
    out.trim_matches('-').to_owned()
}

/// At most `max` bytes of an ASCII `text`, without a trailing `-`.
fn cut(text: &str, max: usize) -> &str {
    text[..text.len().min(max)].trim_end_matches('-')
}

/// A DNS-1123 label for `original`: unchanged when it already is one, else sanitised, cut and
/// suffixed with the hash of `original`.
#[must_use]
pub fn dns_label(original: &str) -> String {
    let clean = dns_chars(original);
    if clean == original && clean.len() <= MAX_NAME {
        return clean;
    }
    join_hashed(&clean, "", original, MAX_NAME)
}

/// `<head cut to fit>-<hash>[-<tail>]`, at most 63 characters.
fn join_hashed(head: &str, tail: &str, original: &str, max: usize) -> String {
    let hash = short_hash(original);
    let tail_part = if tail.is_empty() {
        String::new()
    } else {
        format!("-{tail}")
    };
    let room = max.saturating_sub(hash.len() + 1 + tail_part.len());
    let head = cut(head, room);
    if head.is_empty() {
        format!("{hash}{tail_part}")
    } else {
        format!("{head}-{hash}{tail_part}")
    }
}

/// The pod name for a container name. `sforge.<role>.<task>.<run>` becomes
/// `<role>-<task>-<hash>-<run>` and `<bench>.judge.<task>.<submission>` becomes
/// `<bench>-judge-<task>-<hash>-<submission>`: only the middle is cut, so the run or submission
/// id stays whole (unless it alone is too long to fit). Other names are sanitised the same
/// way. At most [`MAX_POD`] characters.
#[must_use]
pub fn pod_name(container: &str) -> String {
    let parts: Vec<&str> = container.split('.').collect();
    let (head, id) = match parts.as_slice() {
        ["sforge", role, task, id] => (format!("{role}-{task}"), dns_chars(id)),
        [bench, "judge", task, id] => (format!("{bench}-judge-{task}"), dns_chars(id)),
        _ => (container.to_owned(), String::new()),
    };
    if id.len() > MAX_POD / 2 {
        return join_hashed(&dns_chars(container), "", container, MAX_POD);
    }
    let clean = dns_chars(container);
    if id.is_empty() && clean == container && clean.len() <= MAX_POD {
        return clean;
    }
    join_hashed(&dns_chars(&head), &id, container, MAX_POD)
}

/// The Secret holding a pod's secret environment: `<pod>-env` (kept within 63 characters).
#[must_use]
pub fn secret_name(pod: &str) -> String {
    suffixed(pod, "", "-env")
}

/// The isolation `NetworkPolicy` of a pod: `sforge-iso-<pod>` (kept within 63 characters).
#[must_use]
pub fn policy_name(pod: &str) -> String {
    suffixed(pod, "sforge-iso-", "")
}

fn suffixed(pod: &str, prefix: &str, suffix: &str) -> String {
    let name = format!("{prefix}{pod}{suffix}");
    if name.len() <= MAX_NAME {
        return name;
    }
    let head = format!("{prefix}{pod}");
    let room = MAX_NAME - suffix.len() - 9;
    // Unreachable for pod names (at most MAX_POD long); kept for arbitrary input.
    format!("{}-{}{suffix}", cut(&head, room), short_hash(&name))
}

/// A label value: `[A-Za-z0-9]` at both ends, `[-_.A-Za-z0-9]` inside, at most 63 characters.
/// Values that had to change carry the hash of the original.
#[must_use]
pub fn label_value(original: &str) -> String {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    let mapped: String = original
        .chars()
        .map(|c| if allowed(c) { c } else { '-' })
        .collect();
    let trimmed = mapped.trim_matches(|c: char| !c.is_ascii_alphanumeric());
    if trimmed == original && trimmed.len() <= MAX_NAME {
        return trimmed.to_owned();
    }
    let hash = short_hash(original);
    let head = trimmed[..trimmed.len().min(MAX_NAME - 9)]
        .trim_end_matches(|c: char| !c.is_ascii_alphanumeric());
    if head.is_empty() {
        hash
    } else {
        format!("{head}-{hash}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_dns_label(name: &str) -> bool {
        let b = name.as_bytes();
        !name.is_empty()
            && name.len() <= MAX_NAME
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && b[0].is_ascii_alphanumeric()
            && b[b.len() - 1].is_ascii_alphanumeric()
    }

    #[test]
    fn valid_names_are_kept_and_others_get_a_hash() {
        assert_eq!(dns_label("my-pod-1"), "my-pod-1");
        let hashed = dns_label("My_Pod");
        assert_eq!(hashed, format!("my-pod-{}", short_hash("My_Pod")));
        assert_ne!(
            dns_label("a.b"),
            dns_label("a-b"),
            "sanitising must not collide"
        );
        assert!(is_dns_label(&dns_label("---")));
        assert!(is_dns_label(&dns_label(&"x".repeat(100))));
        assert_eq!(short_hash("abc"), "ba7816bf");
    }

    #[test]
    fn work_pod_names_keep_the_run_id_and_do_not_collide() {
        let name = pod_name("sforge.run.schemathesis_config_modernization.edgebench-001");
        assert!(name.starts_with("run-schemathesis-config-"), "{name}");
        assert!(name.ends_with("-edgebench-001"), "{name}");
        assert!(is_dns_label(&name), "{name}");
        // The reference cut task ids to 15 characters: these two collided.
        let long = "a_very_long_task_identifier_that_goes_on";
        let a = pod_name(&format!("sforge.run.{long}_one.r1"));
        let b = pod_name(&format!("sforge.run.{long}_two.r1"));
        assert_ne!(a, b);
        assert!(is_dns_label(&a) && is_dns_label(&b));
    }

    #[test]
    fn judge_pod_names_keep_the_whole_submission_id() {
        let name = pod_name("edgebench.judge.order_addition_permutation_optimization.abcdef123456");
        assert_eq!(name.len(), MAX_POD, "{name}");
        assert!(name.ends_with("-abcdef123456"), "{name}");
        assert!(name.starts_with("edgebench-judge-order-addition"), "{name}");
        assert!(is_dns_label(&name));
        let other =
            pod_name("edgebench.judge.order_addition_permutation_optimization.abcdef123457");
        assert_ne!(name, other);
    }

    #[test]
    fn unusual_container_names_still_give_valid_labels() {
        for original in [
            "sforge.run.x.",
            "sforge.run..Z",
            "weird name!",
            "sforge.game.t.sid",
        ] {
            let name = pod_name(original);
            assert!(
                is_dns_label(&name) && name.len() <= MAX_POD,
                "{original} -> {name}"
            );
        }
        assert_eq!(pod_name("plain-pod"), "plain-pod");
        let long_id = pod_name(&format!("sforge.run.t.{}", "r".repeat(40)));
        assert!(
            is_dns_label(&long_id) && long_id.len() <= MAX_POD,
            "{long_id}"
        );
    }

    #[test]
    fn derived_names_stay_within_63() {
        let pod = pod_name(&format!("sforge.run.{}.r", "t".repeat(80)));
        assert_eq!(secret_name(&pod), format!("{pod}-env"), "no second hash");
        assert_eq!(policy_name(&pod), format!("sforge-iso-{pod}"));
        assert_eq!(secret_name("p"), "p-env");
        assert!(is_dns_label(&secret_name(&"x".repeat(63))));
        assert_eq!(policy_name("p"), "sforge-iso-p");
        for name in [secret_name(&pod), policy_name(&pod)] {
            assert!(is_dns_label(&name), "{name}");
        }
        assert!(secret_name(&pod).ends_with("-env"));
        assert!(policy_name(&pod).starts_with("sforge-iso-"));
    }

    #[test]
    fn label_values_follow_label_syntax() {
        assert_eq!(label_value("Task_1.v2"), "Task_1.v2");
        assert_eq!(label_value(""), "");
        let long = "t".repeat(70);
        let v = label_value(&long);
        assert_eq!(v.len(), MAX_NAME);
        assert!(v.ends_with(&short_hash(&long)));
        let odd = label_value("_a b_");
        assert_eq!(odd, format!("a-b-{}", short_hash("_a b_")));
        assert_eq!(label_value("!!"), short_hash("!!"));
    }
}
