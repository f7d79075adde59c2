//! Route `forge`: the submission's own modules print forged result lines (pytest records and
//! summary, `CASE`/`TOTAL_SCORE`, structured results) when imported and again at exit
//! (docs/audit.md#forge).

use super::attack::{Attack, Entry};
use super::payload::python_forger;
use super::target::Target;
use super::verdict::Check;

const NAME: &str = "forge-result-lines";

/// Every Python module of the submission replaced by a forger.
#[must_use]
pub fn attacks(target: &Target) -> Vec<Attack> {
    if !target.is_python() {
        return vec![Attack::not_applicable(
            "forge",
            NAME,
            "the submission's modules print forged result lines",
            Check::Score,
            "the forger is Python and eval_cmd runs no Python (the shadow route covers other runners)",
        )];
    }
    let forger = python_forger(target);
    let entries: Vec<Entry> = target
        .python_modules()
        .map(|m| Entry::file(m, forger.clone()))
        .collect();
    let about = format!(
        "{} print forged result lines at import and at exit",
        target.python_modules().collect::<Vec<_>>().join(", ")
    );
    vec![Attack::new("forge", NAME, &about, entries, Check::Score)]
}
