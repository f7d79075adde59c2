//! Cuts the test section out of a judge container's output, between the markers `eval.sh`
//! prints (docs/compatibility.md#grading), and Python-compatible whitespace trimming.

/// The line `eval.sh` echoes before running the task's `eval_cmd`.
pub const START_MARKER: &str = ">>>>> Start Test Output";
/// The line `eval.sh` echoes after the task's `eval_cmd` returned.
pub const END_MARKER: &str = ">>>>> End Test Output";

/// The test section of `raw`: the text after the first start marker (at the very start of the
/// output or at the start of a line) and before the start of the line holding the **last** end
/// marker, trimmed. Without both markers in that order, `raw` itself (untrimmed).
///
/// The section can still hold `set -x` trace lines such as `+ echo '>>>>> End Test Output'`,
/// exactly as in the reference.
#[must_use]
pub fn extract_test_output(raw: &str) -> &str {
    let start = if raw.starts_with(START_MARKER) {
        Some(START_MARKER.len())
    } else {
        raw.find(&format!("\n{START_MARKER}"))
            .map(|at| at + 1 + START_MARKER.len())
    };
    let end = raw.rfind(&format!("\n{END_MARKER}"));
    match (start, end) {
        (Some(start), Some(end)) if end >= start => py_strip(&raw[start..end]),
        _ => raw,
    }
}

/// Python's `str.strip()` with no argument: trims every character `str.isspace()` accepts,
/// which is Rust's `White_Space` plus the four ASCII information separators.
#[must_use]
pub fn py_strip(text: &str) -> &str {
    text.trim_matches(is_py_space)
}

fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\x1c'..='\x1f').contains(&c)
}
