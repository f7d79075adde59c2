use std::collections::BTreeMap;
use std::time::Duration;

use super::*;

fn candidate(pairs: &[(&str, &str)], created: u64) -> Candidate {
    Candidate {
        labels: pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect::<BTreeMap<_, _>>(),
        created: Some(created),
    }
}

fn verdict(c: &Candidate, opts: &GcOptions) -> Verdict {
    let alive = |pid: u32| pid == 100;
    let facts = Facts {
        owner: "alice",
        host: "here",
        now: 10_000,
        alive: &alive,
    };
    decide(c, opts, &facts)
}

fn removed(v: &Verdict) -> bool {
    matches!(v, Verdict::Remove(_))
}

#[test]
fn a_resource_of_a_live_process_is_kept_and_of_a_dead_one_removed() {
    let opts = GcOptions::default();
    let live = candidate(
        &[
            ("sforge.owner", "alice"),
            ("sforge.pid", "100"),
            ("sforge.host", "here"),
        ],
        1,
    );
    assert_eq!(
        verdict(&live, &opts),
        Verdict::Keep("in use by sforge process 100".into())
    );
    let dead = candidate(
        &[
            ("sforge.owner", "alice"),
            ("sforge.pid", "200"),
            ("sforge.host", "here"),
        ],
        1,
    );
    assert_eq!(
        verdict(&dead, &opts),
        Verdict::Remove("its sforge process 200 is gone".into())
    );
    // Judge containers name their grading process with their own label, without a host.
    let judge = candidate(
        &[("sforge.owner", "alice"), ("sforge.grader-pid", "200")],
        1,
    );
    assert!(removed(&verdict(&judge, &opts)));
}

#[test]
fn other_owners_are_kept_unless_all_owners() {
    let bob = candidate(&[("sforge.owner", "bob"), ("sforge.pid", "200")], 1);
    assert!(!removed(&verdict(&bob, &GcOptions::default())));
    let all = GcOptions {
        all_owners: true,
        ..GcOptions::default()
    };
    assert!(removed(&verdict(&bob, &all)));
}

#[test]
fn expiry_wins_over_a_live_process_and_older_than_filters_first() {
    let expired = candidate(
        &[
            ("sforge.owner", "alice"),
            ("sforge.pid", "100"),
            ("sforge.host", "here"),
            ("sforge.expires", "9000"),
        ],
        1,
    );
    assert_eq!(
        verdict(&expired, &GcOptions::default()),
        Verdict::Remove("expired 16m 40s ago".into())
    );
    let recent = candidate(
        &[("sforge.owner", "alice"), ("sforge.expires", "9000")],
        9_990,
    );
    let older = GcOptions {
        older_than: Some(Duration::from_secs(60)),
        ..GcOptions::default()
    };
    assert_eq!(
        verdict(&recent, &older),
        Verdict::Keep("younger than --older-than".into())
    );
}

#[test]
fn unknown_liveness_needs_older_than() {
    let other_host = candidate(
        &[
            ("sforge.owner", "alice"),
            ("sforge.pid", "200"),
            ("sforge.host", "laptop"),
        ],
        1,
    );
    let plain = candidate(&[("sforge.owner", "alice")], 1);
    for c in [&other_host, &plain] {
        assert!(!removed(&verdict(c, &GcOptions::default())), "{c:?}");
        let older = GcOptions {
            older_than: Some(Duration::from_secs(3600)),
            ..GcOptions::default()
        };
        assert_eq!(verdict(c, &older), Verdict::Remove("older than 1h".into()));
    }
}

#[test]
fn engine_times_parse_to_epoch_seconds() {
    assert_eq!(epoch("1970-01-01T00:01:40.123456789Z"), Some(100));
    assert_eq!(epoch("1970-01-01T00:01:40Z"), Some(100));
    assert_eq!(epoch("yesterday"), None);
}
