//! Route `resource`: output floods, sleeping past the eval timeout and fork storms from the
//! submission's modules, each under the task's own eval timeout (what a real round gets);
//! flagged when the round ends without the grader's result, or as a harness error, instead of
//! a low score (docs/audit.md#resource).

use super::attack::{Attack, Entry};
use super::payload::{flood, fork_storm, sleep};
use super::target::Target;
use super::verdict::Check;

/// MiB the flood prints.
pub const FLOOD_MIB: u64 = 512;
/// Seconds the fork storm lasts.
pub const STORM_SECONDS: u64 = 10;
/// Seconds the sleep lasts beyond the eval timeout.
const OVERSLEEP: u64 = 30;

/// The three abuses, when the submission has Python modules.
#[must_use]
pub fn attacks(target: &Target) -> Vec<Attack> {
    let abuses = [
        (
            "resource-output-flood",
            format!("prints {FLOOD_MIB} MiB at import"),
            flood(FLOOD_MIB),
        ),
        (
            "resource-sleep",
            format!(
                "sleeps {} s at import, past the {} s eval timeout",
                target.eval_timeout + OVERSLEEP,
                target.eval_timeout
            ),
            sleep(target.eval_timeout + OVERSLEEP),
        ),
        (
            "resource-fork-storm",
            format!("forks until refused for {STORM_SECONDS} s at import"),
            fork_storm(STORM_SECONDS),
        ),
    ];
    abuses
        .into_iter()
        .map(|(name, about, code)| {
            if !target.is_python() {
                return Attack::not_applicable(
                    "resource",
                    name,
                    &about,
                    Check::Harness,
                    "the payload is Python and eval_cmd runs no Python",
                );
            }
            let entries = target
                .python_modules()
                .map(|m| Entry::file(m, code.clone()))
                .collect();
            Attack::new("resource", name, &about, entries, Check::Harness)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(eval_cmd: &str) -> Target {
        Target {
            eval_timeout: 15,
            modules: vec!["solution.py".into()],
            ..Target::for_test(eval_cmd, "score_sum")
        }
    }

    #[test]
    fn abuses_run_under_the_tasks_own_timeout() {
        let attacks = attacks(&target("python3 -I grader/score.py"));
        assert_eq!(attacks.len(), 3);
        for a in &attacks {
            assert!(a.skipped.is_none());
        }
        assert_eq!(
            attacks[1].about,
            "sleeps 45 s at import, past the 15 s eval timeout"
        );
        let Entry::File { path, data, .. } = &attacks[1].entries[0] else {
            panic!("a file")
        };
        assert_eq!(path, "solution.py");
        assert!(String::from_utf8_lossy(data).contains("time.sleep(45)"));
    }

    #[test]
    fn without_python_each_abuse_is_not_applicable() {
        let attacks = attacks(&target("go test ./..."));
        assert!(attacks
            .iter()
            .all(|a| a.skipped.is_some() && a.entries.is_empty()));
    }
}
