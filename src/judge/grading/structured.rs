//! The `structured_json` parser (docs/compatibility.md#grading): finds the evaluator's JSON object
//! by markers, by a brace-matching scan of `{` lines, or as the whole output.

use super::extract::py_strip;
use serde_json::{Map, Value};

/// Printed before the evaluator's JSON object (strategy 1).
pub const START_MARKER: &str = ">>>>> Start Structured Result";
/// Printed after the evaluator's JSON object (strategy 1).
pub const END_MARKER: &str = ">>>>> End Structured Result";
/// Strategy 2 accepts an object holding at least one of these keys.
pub const RESULT_KEYS: [&str; 6] = [
    "valid",
    "score",
    "summary",
    "details",
    "metrics",
    "pass_rate",
];
/// Characters strategy 2 may scan in total. Unclosed `{` lines make the scan quadratic; past
/// this budget (far beyond any real output) the strategy gives up instead of hanging the judge.
pub const SCAN_BUDGET: usize = 1 << 28;

/// The evaluator's result object, by the first strategy that yields one: (1) between the
/// first start and first end marker; (2) from a line starting with optional whitespace and
/// `{` to its matching brace, holding one of [`RESULT_KEYS`]; (3) the whole trimmed section;
/// else an empty object. Only JSON objects are accepted at every step.
#[must_use]
pub fn parse_structured(section: &str) -> Map<String, Value> {
    between_markers(section)
        .or_else(|| scan_lines(section))
        .or_else(|| parse_object(py_strip(section)))
        .unwrap_or_default()
}

fn between_markers(section: &str) -> Option<Map<String, Value>> {
    let start = section.find(START_MARKER)? + START_MARKER.len();
    let end = section.find(END_MARKER)?;
    if end < start {
        return None;
    }
    parse_object(py_strip(&section[start..end]))
}

fn scan_lines(section: &str) -> Option<Map<String, Value>> {
    let (mut line_start, mut budget) = (0, SCAN_BUDGET);
    for line in section.split('\n') {
        let indent = line.len() - line.trim_start().len();
        if line[indent..].starts_with('{') {
            let from = line_start + indent;
            if budget == 0 {
                return None;
            }
            if let Some(candidate) = balanced_object(&section[from..], &mut budget) {
                if let Some(map) = parse_object(candidate) {
                    if RESULT_KEYS.iter().any(|k| map.contains_key(*k)) {
                        return Some(map);
                    }
                }
            }
        }
        line_start += line.len() + 1;
    }
    None
}

/// `text` (which starts with `{`) up to and including its matching `}`, counting braces
/// outside JSON strings; backslash escapes the next character inside a string. Each character
/// looked at costs one unit of `budget`; `None` when it runs out or the brace never closes.
fn balanced_object<'a>(text: &'a str, budget: &mut usize) -> Option<&'a str> {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for (at, c) in text.char_indices() {
        *budget = budget.checked_sub(1)?;
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '{' => depth += 1,
            '}' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(&text[..=at]);
                }
            }
            _ => {}
        }
    }
    None
}

fn parse_object(text: &str) -> Option<Map<String, Value>> {
    match serde_json::from_str(text) {
        Ok(Value::Object(map)) => Some(map),
        _ => None,
    }
}
