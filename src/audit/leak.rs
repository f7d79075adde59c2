//! Route `leak`: the submission's modules print the protected files, the files `eval_cmd`
//! names and the environment as the judge sees them; flagged when the report the agent gets
//! holds words only the judge had. Without judge-only words to look for, or without Python to
//! run the leaker, the row says so (`not applicable`) — unless a baseline report already leaks
//! (docs/audit.md#leak).

use super::attack::{Attack, Entry};
use super::payload::python_leaker;
use super::target::Target;
use super::verdict::Check;

const NAME: &str = "leak-judge-files";
const ABOUT: &str = "the submission prints the hidden tests and the judge's environment";

/// Why no judge-only word can prove a leak on this task.
pub const NO_SECRETS: &str = "no judge-only word to recognise a leak by: the judge's setup_cmds \
     hold no identifier of 12+ characters that the Work setup, the prompt and the solutions lack \
     (content shipped by image_tag or a Dockerfile is unknown to the audit)";

/// Every Python module of the submission replaced by a leaker.
#[must_use]
pub fn attacks(target: &Target) -> Vec<Attack> {
    let skip = |reason: &str| {
        vec![Attack::not_applicable(
            "leak",
            NAME,
            ABOUT,
            Check::Leak,
            reason,
        )]
    };
    if target.secrets.is_empty() {
        return skip(NO_SECRETS);
    }
    if !target.is_python() {
        return skip("the leaker is Python and eval_cmd runs no Python");
    }
    let leaker = python_leaker(target);
    let entries: Vec<Entry> = target
        .python_modules()
        .map(|m| Entry::file(m, leaker.clone()))
        .collect();
    vec![Attack::new("leak", NAME, ABOUT, entries, Check::Leak)]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(secrets: &[&str]) -> Target {
        Target {
            cwd: "/w".into(),
            modules: vec!["solution.py".into()],
            protected: vec!["tests".into()],
            eval_files: vec!["tests/grade.py".into()],
            secrets: secrets.iter().map(|s| (*s).to_owned()).collect(),
            ..Target::for_test("python3 -I tests/grade.py", "structured_json")
        }
    }

    #[test]
    fn without_judge_only_words_the_row_is_not_applicable() {
        let attacks = attacks(&target(&[]));
        assert_eq!(attacks.len(), 1, "a row, not silence");
        assert_eq!(attacks[0].skipped.as_deref(), Some(NO_SECRETS));
        assert!(attacks[0].entries.is_empty());
        let graded = attacks_of(&["hidden_expected_answer"]);
        assert!(graded.skipped.is_none());
        assert_eq!(graded.entries.len(), 1);
    }

    fn attacks_of(secrets: &[&str]) -> Attack {
        attacks(&target(secrets)).remove(0)
    }
}
