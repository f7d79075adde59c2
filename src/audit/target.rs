//! What the routes need to know about a task, read from its JSON and its files on the host: the
//! submission's modules, the protected paths, what `eval_cmd` reveals (language, runner, files),
//! the score a forgery should claim, and the judge-only words a leak would show.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::LazyLock;

use regex::Regex;

use crate::task::{ScoreDirection, Task};

/// Words of judge-side content of at least 12 characters count as evidence of a leak (shorter
/// ones are too common to prove anything).
static WORD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[A-Za-z_][A-Za-z0-9_]{11,}").expect("valid regex"));
/// `> name.ext` / `>> name.ext` in a setup command: a file the task ships.
static WRITTEN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r">>?\s*([A-Za-z0-9_./-]+\.(?:py|js|mjs|ts|go|java|rs))").expect("valid regex")
});
/// A Go `package` clause.
static GO_PACKAGE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:^|[\s'\x22])package\s+([A-Za-z_][A-Za-z0-9_]*)").expect("valid regex")
});
/// A relative file path named in `eval_cmd`.
static EVAL_FILE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:^|\s)(?:\./)?([A-Za-z0-9_][A-Za-z0-9_./-]*\.[A-Za-z0-9]+)(?:\s|$|;|&)")
        .expect("valid regex")
});

/// A task as the routes see it.
#[derive(Debug, Clone)]
pub struct Target {
    pub task_id: String,
    /// The task's working directory in the judge container (absolute).
    pub cwd: String,
    pub eval_cmd: String,
    pub parser: String,
    pub direction: ScoreDirection,
    pub eval_timeout: u64,
    /// Source files the submission is expected to change (relative to `cwd`).
    pub modules: Vec<String>,
    /// `submit_exclude` patterns (without a trailing `/`).
    pub protected: Vec<String>,
    /// Relative files named in `eval_cmd`.
    pub eval_files: Vec<String>,
    /// Words of judge-only content (hidden tests, graders): in the judge's setup, not in the
    /// Work container's setup, the task prompt or the shipped solutions.
    pub secrets: BTreeSet<String>,
    /// The Go package of the submission's `.go` files (from the shipped solutions or the Work
    /// setup), when it has any.
    pub go_package: Option<String>,
}

#[cfg(test)]
impl Target {
    /// A target for unit tests: task `t` in `/home/workspace/t`, maximising, a 60 s timeout,
    /// nothing expected, protected, named or secret.
    pub(crate) fn for_test(eval_cmd: &str, parser: &str) -> Self {
        Target {
            task_id: "t".into(),
            cwd: "/home/workspace/t".into(),
            eval_cmd: eval_cmd.into(),
            parser: parser.into(),
            direction: ScoreDirection::Maximize,
            eval_timeout: 60,
            modules: vec![],
            protected: vec![],
            eval_files: vec![],
            secrets: BTreeSet::new(),
            go_package: None,
        }
    }
}

impl Target {
    /// `task`, with its shipped solutions under `solutions` (`<tasks>/solutions/<id>/`).
    #[must_use]
    pub fn of(task: &Task, solutions: &Path) -> Self {
        let solution_files = files_under(solutions);
        let mut modules: Vec<String> = written_files(task.work.image.setup_cmds.as_deref())
            .into_iter()
            .chain(solution_files.iter().map(|(rel, _)| rel.clone()))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        if modules.is_empty() {
            modules = vec!["main.py".into(), "solution.py".into()];
        }
        let public: BTreeSet<String> = words(&join(task.work.image.setup_cmds.as_deref()))
            .chain(words(&task.work.agent_query))
            .chain(solution_files.iter().flat_map(|(_, text)| words(text)))
            .collect();
        let secrets = words(&join(task.judge.image.setup_cmds.as_deref()))
            .filter(|w| !public.contains(w))
            .collect();
        let go_package = go_package(
            solution_files
                .iter()
                .filter(|(rel, _)| is_go(rel))
                .map(|(_, text)| text.as_str())
                .chain(
                    modules
                        .iter()
                        .any(|m| is_go(m))
                        .then(|| join(task.work.image.setup_cmds.as_deref()))
                        .as_deref(),
                ),
        );
        Target {
            task_id: task.task_id.clone(),
            cwd: task.cwd.clone(),
            eval_cmd: task.judge.eval_cmd.clone(),
            parser: task.judge.parser.clone(),
            direction: task.judge.score_direction,
            eval_timeout: task.judge.eval_timeout,
            modules,
            protected: task
                .submit_exclude
                .iter()
                .map(|p| p.trim_end_matches('/').to_owned())
                .filter(|p| !p.is_empty())
                .collect(),
            eval_files: eval_files(&task.judge.eval_cmd),
            secrets,
            go_package,
        }
    }

    /// Whether `eval_cmd` runs a program of this name (a word of the command line).
    #[must_use]
    pub fn runs(&self, program: &str) -> bool {
        self.eval_cmd
            .split(|c: char| c.is_whitespace() || matches!(c, ';' | '&' | '|' | '(' | ')'))
            .any(|w| w == program || w.rsplit('/').next() == Some(program))
    }

    /// Whether the evaluation runs Python.
    #[must_use]
    pub fn is_python(&self) -> bool {
        self.runs("python3") || self.runs("python") || self.runs("pytest")
    }

    /// Python modules of the submission.
    pub fn python_modules(&self) -> impl Iterator<Item = &str> {
        self.modules.iter().map(String::as_str).filter(|m| {
            std::path::Path::new(m)
                .extension()
                .is_some_and(|e| e == "py")
        })
    }

    /// The score a forged result claims: far beyond any honest one in the task's direction.
    #[must_use]
    pub fn forged_score(&self) -> f64 {
        match self.direction {
            ScoreDirection::Maximize => 1e9,
            // Below any honest score: a 0 would only tie a baseline that scores 0.
            ScoreDirection::Minimize => -1e9,
        }
    }
}

fn is_go(path: &str) -> bool {
    Path::new(path)
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("go"))
}

/// The first non-test Go package named in `texts`.
fn go_package<'a>(texts: impl Iterator<Item = &'a str>) -> Option<String> {
    texts
        .flat_map(|t| {
            GO_PACKAGE
                .captures_iter(t)
                .map(|c| c[1].to_owned())
                .collect::<Vec<_>>()
        })
        .find(|p| !p.ends_with("_test"))
}

fn join(cmds: Option<&[String]>) -> String {
    cmds.unwrap_or_default().join("\n")
}

/// Judge-side words of `text` long enough to prove a leak.
pub fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    WORD.find_iter(text).map(|m| m.as_str().to_owned())
}

fn written_files(cmds: Option<&[String]>) -> Vec<String> {
    let text = join(cmds);
    WRITTEN
        .captures_iter(&text)
        .map(|c| c[1].trim_start_matches("./").to_owned())
        .filter(|p| !p.starts_with('/') && !p.contains(".."))
        .collect()
}

fn eval_files(eval_cmd: &str) -> Vec<String> {
    EVAL_FILE
        .captures_iter(eval_cmd)
        .map(|c| c[1].to_owned())
        .filter(|p| !p.contains("..") && (p.contains('/') || is_source(p)))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

fn is_source(path: &str) -> bool {
    [".py", ".js", ".mjs", ".sh", ".go", ".java", ".rs", ".ts"]
        .iter()
        .any(|ext| path.ends_with(ext))
}

/// The files under `dir/<kind>/` of every kind (`partial`, `full`), relative to that kind's
/// directory, with their text (at most 1 MiB each; none when `dir` is missing).
fn files_under(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let Ok(kinds) = std::fs::read_dir(dir) else {
        return out;
    };
    for kind in kinds.flatten() {
        collect(&kind.path(), &kind.path(), &mut out, 0);
    }
    out
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<(String, String)>, depth: usize) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() && depth < 8 {
            collect(root, &path, out, depth + 1);
        } else if kind.is_file() && out.len() < 1000 {
            let rel = path.strip_prefix(root).unwrap_or(&path);
            let text = std::fs::read(&path)
                .map(|b| String::from_utf8_lossy(&b[..b.len().min(1 << 20)]).into_owned())
                .unwrap_or_default();
            out.push((rel.display().to_string(), text));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eval_cmd_reveals_files_and_programs() {
        let files =
            eval_files("cd /home/w && chmod 700 tests && python3 -I tests/score_change.py --x 1");
        assert_eq!(files, vec!["tests/score_change.py".to_owned()]);
        assert_eq!(
            eval_files("node check.js; ./run.py"),
            vec!["check.js", "run.py"]
        );
    }

    #[test]
    fn setup_commands_reveal_written_modules() {
        let cmds = vec![
            "cd /w".to_owned(),
            "printf '%s\\n' 'x' > textkit.py".to_owned(),
            "printf 'y' >> textkit.py".to_owned(),
            "echo > /etc/passwd.py".to_owned(),
            "echo > pkg/util.py".to_owned(),
        ];
        assert_eq!(
            written_files(Some(&cmds)),
            vec!["textkit.py", "textkit.py", "pkg/util.py"]
        );
    }

    #[test]
    fn go_packages_are_read_from_source_or_setup_text() {
        let setup = "printf 'package shapes\\n\\nfunc Area() int { return 0 }' > shapes.go";
        assert_eq!(go_package([setup].into_iter()), Some("shapes".into()));
        assert_eq!(
            go_package(["package calc_test\n", "// x\npackage calc\n"].into_iter()),
            Some("calc".into())
        );
        assert_eq!(go_package(["no go here"].into_iter()), None);
    }

    #[test]
    fn only_long_words_count() {
        let got: Vec<String> = words("def test_slugify_basic(): short_word x").collect();
        assert_eq!(got, vec!["test_slugify_basic".to_owned()]);
    }
}
