//! Route `leak`: the submission's modules print the protected files, the files `eval_cmd`
//! names and the environment as the judge sees them; flagged when the report the agent gets
//! holds words only the judge had (docs/audit.md#leak).

use super::attack::{Attack, Entry};
use super::payload::python_leaker;
use super::target::Target;
use super::verdict::Check;

/// Every Python module of the submission replaced by a leaker.
#[must_use]
pub fn attacks(target: &Target) -> Vec<Attack> {
    if !target.is_python() || target.secrets.is_empty() {
        return Vec::new();
    }
    let leaker = python_leaker(target);
    let entries: Vec<Entry> = target
        .python_modules()
        .map(|m| Entry::file(m, leaker.clone()))
        .collect();
    if entries.is_empty() {
        return Vec::new();
    }
    vec![Attack {
        route: "leak",
        name: "leak-judge-files".into(),
        about: "the submission prints the hidden tests and the judge's environment".into(),
        entries,
        timeout: None,
        check: Check::Leak,
    }]
}
