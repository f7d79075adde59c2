//! Route `protected`: overwrite or remove the files the task protects (`submit_exclude`) and the
//! files its `eval_cmd` runs, through their plain names, another case, `./`, `/./`, `..`, `//`
//! spellings, symbolic and hard links, and a link in place of an ancestor directory; every
//! replacement prints forged passing results (docs/audit.md#protected).

use std::fmt::Write as _;

use super::attack::{Attack, Entry};
use super::payload::{python_forger, shell_forger};
use super::target::Target;
use super::verdict::{Check, TAG};

/// A directory of the submission the link variants point into.
const DECOY: &str = "sforge_audit_decoy";

/// The overwrite, link and removal submissions.
#[must_use]
pub fn attacks(target: &Target) -> Vec<Attack> {
    let files = replacements(target);
    if files.is_empty() {
        return Vec::new();
    }
    let spellings: Vec<Entry> = files
        .iter()
        .flat_map(|(path, data)| {
            respell(path)
                .into_iter()
                .map(move |p| Entry::file(p, data.clone()))
        })
        .collect();
    let mut links = Vec::new();
    for (i, (path, data)) in files.iter().enumerate() {
        let decoy = format!("{DECOY}/file{i}{}", extension(path));
        links.push(Entry::file(decoy.clone(), data.clone()));
        links.push(Entry::Hardlink {
            path: path.clone(),
            target: decoy.clone(),
        });
        links.push(Entry::Symlink {
            path: format!("{path}.sforge_audit_link"),
            target: depth_up(path) + &decoy,
        });
    }
    let mut removal = Vec::new();
    let mut tops = Vec::new();
    for (path, data) in &files {
        if let Some((top, rest)) = path.split_once('/') {
            removal.push(Entry::file(format!("{DECOY}/{rest}"), data.clone()));
            tops.push(Entry::Symlink {
                path: top.to_owned(),
                target: DECOY.to_owned(),
            });
        } else {
            tops.push(Entry::Symlink {
                path: path.clone(),
                target: format!("{DECOY}/missing"),
            });
        }
    }
    for link in tops {
        if !removal.contains(&link) {
            removal.push(link);
        }
    }
    vec![
        attack(
            "protected-overwrite",
            "protected files replaced by forgers, under their own and other spellings",
            spellings,
        ),
        attack(
            "protected-links",
            "protected files replaced through hard and symbolic links",
            links,
        ),
        attack(
            "protected-ancestor",
            "a protected directory replaced by a link to a submitted one (or a file removed)",
            removal,
        ),
    ]
}

fn attack(name: &str, about: &str, entries: Vec<Entry>) -> Attack {
    Attack::new("protected", name, about, entries, Check::Score)
}

/// The files to replace and their forged content: the files `eval_cmd` runs, each protected
/// file, and a passing test module in each protected directory. Glob patterns are skipped.
fn replacements(target: &Target) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = Vec::new();
    let mut add = |path: String| {
        if !out.iter().any(|(p, _)| *p == path) {
            let data = forger_for(target, &path);
            out.push((path, data));
        }
    };
    for file in &target.eval_files {
        add(file.clone());
    }
    for pattern in &target.protected {
        if pattern.contains(['*', '?', '[']) || pattern.starts_with('/') || pattern == "." {
            continue;
        }
        if extension(pattern).is_empty() {
            add(format!("{pattern}/test_{TAG}.py"));
        } else {
            add(pattern.clone());
        }
    }
    out
}

fn forger_for(target: &Target, path: &str) -> Vec<u8> {
    let name = path.rsplit('/').next().unwrap_or(path);
    if name.starts_with("test_") && extension(name) == ".py" {
        let mut tests = python_forger(target);
        for i in 0..40 {
            let _ = write!(tests, "\n\ndef test_{TAG}_{i}():\n    pass\n");
        }
        return tests.into_bytes();
    }
    match extension(path) {
        ".py" => python_forger(target).into_bytes(),
        ".ini" | ".cfg" | ".toml" => format!("# {TAG}\n").into_bytes(),
        _ => shell_forger(target).into_bytes(),
    }
}

/// `path` under its plain name and the spellings a careless filter misses.
fn respell(path: &str) -> Vec<String> {
    let mut out = vec![
        path.to_owned(),
        format!("./{path}"),
        format!("{DECOY}/../{path}"),
    ];
    out.push(path.replacen('/', "//", 1));
    out.push(path.replacen('/', "/./", 1));
    let upper: String = path
        .char_indices()
        .map(|(i, c)| if i == 0 { c.to_ascii_uppercase() } else { c })
        .collect();
    out.push(upper);
    out.sort();
    out.dedup();
    out
}

fn extension(path: &str) -> &str {
    let name = path.rsplit('/').next().unwrap_or(path);
    name.rfind('.')
        .filter(|&i| i > 0)
        .map_or("", |i| &name[i..])
}

/// `../` once per directory of `path`.
fn depth_up(path: &str) -> String {
    "../".repeat(path.matches('/').count())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(protected: &[&str], eval_files: &[&str]) -> Target {
        Target {
            protected: protected.iter().map(|s| (*s).to_owned()).collect(),
            eval_files: eval_files.iter().map(|s| (*s).to_owned()).collect(),
            ..Target::for_test("python3 tests/score.py", "score_sum")
        }
    }

    #[test]
    fn protected_paths_get_forgers_under_every_spelling() {
        let attacks = attacks(&target(
            &["tests", "conftest.py", "*.cfg"],
            &["tests/score.py"],
        ));
        let names: Vec<String> = attacks[0]
            .entries
            .iter()
            .map(|e| match e {
                Entry::File { path, .. } => path.clone(),
                _ => String::new(),
            })
            .collect();
        for expected in [
            "tests/score.py",
            "./tests/score.py",
            "Tests/score.py",
            "tests//score.py",
            "tests/./score.py",
            "sforge_audit_decoy/../tests/score.py",
            "tests/test_sforge_audit.py",
            "conftest.py",
            "Conftest.py",
        ] {
            assert!(
                names.iter().any(|n| n == expected),
                "{expected} in {names:?}"
            );
        }
        assert!(!names.iter().any(|n| n.contains('*')));
    }

    #[test]
    fn an_ancestor_becomes_a_link_to_the_decoy() {
        let attacks = attacks(&target(&["tests"], &["tests/score.py"]));
        assert!(attacks[2].entries.contains(&Entry::Symlink {
            path: "tests".into(),
            target: DECOY.into()
        }));
    }

    #[test]
    fn nothing_to_protect_means_no_attack() {
        assert!(attacks(&target(&["*.tmp"], &[])).is_empty());
    }
}
