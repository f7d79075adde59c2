//! Run groups and how they rank: a group is a run id without its `-<machine>-<timestamp>`
//! suffix; per task, groups rank by best pass rate with the earlier time-to-best breaking ties,
//! and an ELO-style rating sums pairwise results over tasks (docs/visualizer.md#compare-groups).

use std::cmp::Ordering;

/// Rating every group starts with.
pub const ELO_START: f64 = 1500.0;
/// Most rating points one pairwise result moves.
pub const ELO_K: f64 = 32.0;

/// The group of a run id: the id with a trailing `-<machine>-<14-digit timestamp>` removed (the
/// machine a non-empty part without `-`); the id itself when it has no such suffix.
#[must_use]
pub fn group_of(run_id: &str) -> &str {
    let strip = || {
        let (rest, stamp) = run_id.rsplit_once('-')?;
        if stamp.len() != 14 || !stamp.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let (group, machine) = rest.rsplit_once('-')?;
        (!group.is_empty() && !machine.is_empty()).then_some(group)
    };
    strip().unwrap_or(run_id)
}

/// Whether a run is left out of every group (a retry: its id contains `-retry`).
#[must_use]
pub fn is_retry(run_id: &str) -> bool {
    run_id.contains("-retry")
}

/// One group's result on one task.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Standing {
    pub pass_rate: Option<f64>,
    pub time_to_best: Option<f64>,
}

/// Better first: higher pass rate, then earlier time-to-best (unknown times last).
fn order(a: &Standing, b: &Standing) -> Ordering {
    let rate = |r: &Standing| r.pass_rate.unwrap_or(f64::NEG_INFINITY);
    rate(b).total_cmp(&rate(a)).then_with(|| {
        let time = |r: &Standing| r.time_to_best.unwrap_or(f64::INFINITY);
        time(a).total_cmp(&time(b))
    })
}

/// The rank of each result (1 is best; equal results share a rank and the next rank skips, as
/// in 1, 2, 2, 4); results without a pass rate are not ranked.
#[must_use]
pub fn ranks(results: &[Standing]) -> Vec<Option<usize>> {
    results
        .iter()
        .map(|r| {
            r.pass_rate?;
            let better = results
                .iter()
                .filter(|o| o.pass_rate.is_some() && order(o, r) == Ordering::Less)
                .count();
            Some(better + 1)
        })
        .collect()
}

/// ELO-style ratings of `groups` groups over tasks, each task a list of `(group index, rank)`.
/// Tasks are played in the order given; within a task every pair of ranked groups plays once
/// (a win scores 1, a shared rank 0.5) against the ratings the task started with, and the
/// changes apply together when the task ends, so the order within a task does not matter.
#[must_use]
pub fn elo(groups: usize, tasks: &[Vec<(usize, usize)>]) -> Vec<f64> {
    let mut ratings = vec![ELO_START; groups];
    for task in tasks {
        let mut delta = vec![0.0; groups];
        for (i, &(a, rank_a)) in task.iter().enumerate() {
            for &(b, rank_b) in &task[i + 1..] {
                let expected_a = 1.0 / (1.0 + 10f64.powf((ratings[b] - ratings[a]) / 400.0));
                let actual_a = match rank_a.cmp(&rank_b) {
                    Ordering::Less => 1.0,
                    Ordering::Equal => 0.5,
                    Ordering::Greater => 0.0,
                };
                let change = ELO_K * (actual_a - expected_a);
                delta[a] += change;
                delta[b] -= change;
            }
        }
        for (rating, d) in ratings.iter_mut().zip(delta) {
            *rating += d;
        }
    }
    ratings
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_drop_the_machine_and_timestamp() {
        assert_eq!(group_of("claude-opus-m1-20260101120000"), "claude-opus");
        assert_eq!(group_of("gpt-5-box.lan-20251231235959"), "gpt-5");
        // No 14-digit timestamp, no machine, or nothing left: the id is its own group.
        assert_eq!(
            group_of("claude-opus-m1-2026010112000"),
            "claude-opus-m1-2026010112000"
        );
        assert_eq!(
            group_of("claude-m1-2026010112000x"),
            "claude-m1-2026010112000x"
        );
        assert_eq!(group_of("m1-20260101120000"), "m1-20260101120000");
        assert_eq!(group_of("a--20260101120000"), "a--20260101120000");
        assert_eq!(group_of("viz-demo"), "viz-demo");
        assert!(is_retry("claude-retry-m1-20260101120000"));
        assert!(!is_retry("claude-m1-20260101120000"));
    }

    fn result(pass_rate: Option<f64>, time_to_best: Option<f64>) -> Standing {
        Standing {
            pass_rate,
            time_to_best,
        }
    }

    #[test]
    fn ranks_use_pass_rate_then_time_to_best() {
        let results = [
            result(Some(0.5), Some(10.0)),
            result(Some(1.0), Some(30.0)),
            result(Some(1.0), Some(20.0)),
            result(None, Some(1.0)),
            result(Some(0.5), Some(10.0)),
            result(Some(0.5), None),
        ];
        assert_eq!(
            ranks(&results),
            [Some(3), Some(2), Some(1), None, Some(3), Some(5)]
        );
    }

    #[test]
    fn elo_matches_a_hand_computation() {
        // Task 1 at 1500 each (expected 0.5): A beats B and C, B beats C.
        // A = 1500 + 16 + 16 = 1532, B = 1500 - 16 + 16 = 1500, C = 1500 - 32 = 1468.
        // Task 2: C first, A and B share second.
        //   A-B: E_A = 1/(1+10^(-32/400)) = 0.545922, A -= 32*(0.545922-0.5) = 1.469502
        //   A-C: E_A = 1/(1+10^(-64/400)) = 0.591076, A -= 32*0.591076 = 18.914419
        //   B-C: E_B = 0.545922, B -= 32*0.545922 = 17.469502
        // A = 1532 - 1.469502 - 18.914419 = 1511.616079
        // B = 1500 + 1.469502 - 17.469502 = 1484.0
        // C = 1468 + 18.914419 + 17.469502 = 1504.383921
        let ratings = elo(
            3,
            &[vec![(0, 1), (1, 2), (2, 3)], vec![(2, 1), (0, 2), (1, 2)]],
        );
        let expected = [1_511.616_079, 1_484.0, 1_504.383_921];
        for (got, want) in ratings.iter().zip(expected) {
            assert!((got - want).abs() < 1e-5, "{ratings:?}");
        }
        assert!((ratings.iter().sum::<f64>() - 4500.0).abs() < 1e-9);
        // A group absent from a task keeps its rating for it.
        assert_eq!(elo(3, &[vec![(0, 1), (1, 2)]]), [1516.0, 1484.0, 1500.0]);
    }
}
