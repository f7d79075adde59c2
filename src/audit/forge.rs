//! Route `forge`: the submission's own modules print forged result lines (pytest records and
//! summary, `TOTAL_SCORE`, structured results) when imported and again at exit
//! (docs/audit.md#forge).

use super::attack::{Attack, Entry};
use super::payload::python_forger;
use super::target::Target;
use super::verdict::Check;

/// Every Python module of the submission replaced by a forger.
#[must_use]
pub fn attacks(target: &Target) -> Vec<Attack> {
    let forger = python_forger(target);
    let entries: Vec<Entry> = target
        .python_modules()
        .map(|m| Entry::file(m, forger.clone()))
        .collect();
    if entries.is_empty() || !target.is_python() {
        return Vec::new();
    }
    vec![Attack {
        route: "forge",
        name: "forge-result-lines".into(),
        about: format!(
            "{} print forged result lines at import and at exit",
            target.python_modules().collect::<Vec<_>>().join(", ")
        ),
        entries,
        timeout: None,
        check: Check::Score,
    }]
}
