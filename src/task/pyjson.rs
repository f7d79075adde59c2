//! Python's `json.dumps(obj, sort_keys=True)` reproduced byte for byte over loaded YAML values: the
//! serialisation that image content hashes are computed over
//! (docs/compatibility.md#image-names-and-content-hashes).

use crate::yaml::Yaml;
use std::cmp::Ordering;
use std::fmt::Write as _;

/// Python's `repr(float)` (`1.0`, `1e-05`, `1e+16`, `-0.0`, `inf`, `nan`).
pub use crate::yaml::float_repr;

/// A value Python's `json.dumps(..., sort_keys=True)` would refuse with a `TypeError`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot serialise as Python JSON: {0}")]
pub struct PyJsonError(String);

/// Serialises like `json.dumps(value, sort_keys=True)`: separators `", "` and `": "`,
/// ASCII-only output, keys sorted at every level.
///
/// # Errors
///
/// Where Python raises `TypeError`: a mapping whose keys are not all strings or all numbers
/// (Python cannot sort them), a list or mapping as a key, or a NaN key beside other keys.
pub fn dumps_sorted(value: &Yaml) -> Result<String, PyJsonError> {
    let mut out = String::new();
    encode(value, &mut out)?;
    Ok(out)
}

fn encode(value: &Yaml, out: &mut String) -> Result<(), PyJsonError> {
    match value {
        Yaml::Null => out.push_str("null"),
        Yaml::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Yaml::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Yaml::Float(f) => out.push_str(&float_json(*f)),
        Yaml::Str(s) => encode_str(s, out),
        Yaml::Seq(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                encode(item, out)?;
            }
            out.push(']');
        }
        Yaml::Map(entries) => encode_map(entries, out)?,
    }
    Ok(())
}

fn encode_map(entries: &[(Yaml, Yaml)], out: &mut String) -> Result<(), PyJsonError> {
    let mut sorted: Vec<&(Yaml, Yaml)> = entries.iter().collect();
    if sorted.len() > 1 {
        check_sortable(entries)?;
        // Stable, so keys Python would consider equal keep their order.
        sorted.sort_by(|(a, _), (b, _)| compare_keys(a, b));
    }
    out.push('{');
    for (i, (key, value)) in sorted.into_iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        encode_str(&key_string(key)?, out);
        out.push_str(": ");
        encode(value, out)?;
    }
    out.push('}');
    Ok(())
}

/// Python's JSON spelling of a float: its repr, or `NaN`/`Infinity`/`-Infinity`.
fn float_json(x: f64) -> String {
    if x.is_nan() {
        "NaN".into()
    } else if x.is_infinite() {
        if x > 0.0 { "Infinity" } else { "-Infinity" }.into()
    } else {
        float_repr(x)
    }
}

/// The string a non-string key becomes, as `json.dumps` converts it.
fn key_string(key: &Yaml) -> Result<String, PyJsonError> {
    Ok(match key {
        Yaml::Str(s) => s.clone(),
        Yaml::Float(f) => float_json(*f),
        Yaml::Bool(b) => if *b { "true" } else { "false" }.into(),
        Yaml::Null => "null".into(),
        Yaml::Int(i) => i.to_string(),
        Yaml::Seq(_) | Yaml::Map(_) => {
            return Err(PyJsonError(format!(
                "keys must be str, int, float, bool or None, not {}",
                python_type(key)
            )))
        }
    })
}

fn python_type(value: &Yaml) -> &'static str {
    match value {
        Yaml::Null => "NoneType",
        Yaml::Bool(_) => "bool",
        Yaml::Int(_) => "int",
        Yaml::Float(_) => "float",
        Yaml::Str(_) => "str",
        Yaml::Seq(_) => "list",
        Yaml::Map(_) => "dict",
    }
}

/// Python sorts the original keys, so it fails unless all of them are strings or all are
/// numbers (bools included); `None` cannot be ordered at all.
fn check_sortable(entries: &[(Yaml, Yaml)]) -> Result<(), PyJsonError> {
    let class = |key: &Yaml| match key {
        Yaml::Str(_) => Some("str"),
        Yaml::Bool(_) | Yaml::Int(_) | Yaml::Float(_) => Some("number"),
        _ => None,
    };
    let first = &entries[0].0;
    let mismatch = entries[1..]
        .iter()
        .find(|(key, _)| class(first).is_none() || class(key) != class(first));
    if let Some((key, _)) = mismatch {
        return Err(PyJsonError(format!(
            "mapping keys of types '{}' and '{}' cannot be sorted (Python raises TypeError: \
             '<' not supported); make all keys strings, e.g. by quoting them",
            python_type(first),
            python_type(key)
        )));
    }
    if entries
        .iter()
        .any(|(key, _)| matches!(key, Yaml::Float(f) if f.is_nan()))
    {
        return Err(PyJsonError(
            "a NaN mapping key has no defined sort order next to other keys".into(),
        ));
    }
    Ok(())
}

/// Orders two keys that [`check_sortable`] accepted: strings by code point, numbers exactly.
fn compare_keys(a: &Yaml, b: &Yaml) -> Ordering {
    match (a, b) {
        (Yaml::Str(x), Yaml::Str(y)) => x.cmp(y),
        _ => match (number(a), number(b)) {
            (Some(Num::Int(x)), Some(Num::Int(y))) => x.cmp(&y),
            (Some(Num::Float(x)), Some(Num::Float(y))) => {
                x.partial_cmp(&y).unwrap_or(Ordering::Equal)
            }
            (Some(Num::Int(i)), Some(Num::Float(f))) => compare_int_float(i, f),
            (Some(Num::Float(f)), Some(Num::Int(i))) => compare_int_float(i, f).reverse(),
            _ => Ordering::Equal,
        },
    }
}

enum Num {
    Int(i128),
    Float(f64),
}

fn number(value: &Yaml) -> Option<Num> {
    match value {
        Yaml::Bool(b) => Some(Num::Int(i128::from(*b))),
        Yaml::Int(i) => Some(Num::Int(*i)),
        Yaml::Float(f) => Some(Num::Float(*f)),
        _ => None,
    }
}

/// Compares an integer with a (non-NaN) float exactly, as Python does.
#[allow(clippy::cast_possible_truncation)] // the floor is integral and range-checked
fn compare_int_float(i: i128, f: f64) -> Ordering {
    // 2^127: every float below it in magnitude converts to i128 without loss.
    const LIMIT: f64 = 170_141_183_460_469_231_731_687_303_715_884_105_728.0;
    if f >= LIMIT {
        return Ordering::Less;
    }
    if f < -LIMIT {
        return Ordering::Greater;
    }
    let floor = f.floor();
    match i.cmp(&(floor as i128)) {
        Ordering::Equal if f > floor => Ordering::Less,
        other => other,
    }
}

/// A JSON string with `ensure_ascii`: printable ASCII as is, short escapes where JSON has them,
/// everything else as lowercase `\uXXXX` (UTF-16 surrogate pairs beyond the BMP).
fn encode_str(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::{dumps_sorted, float_repr};
    use crate::yaml::{parse, Yaml};
    use sha2::{Digest, Sha256};
    use std::fmt::Write as _;

    fn dumps(yaml: &str) -> String {
        let value = parse(yaml).unwrap_or_else(|e| panic!("{yaml:?}: {e}"));
        dumps_sorted(&value).unwrap_or_else(|e| panic!("{yaml:?}: {e}"))
    }

    fn sha256_hex(text: &str) -> String {
        Sha256::digest(text.as_bytes())
            .iter()
            .fold(String::new(), |mut hex, b| {
                let _ = write!(hex, "{b:02x}");
                hex
            })
    }

    fn s(text: &str) -> Yaml {
        Yaml::Str(text.into())
    }

    /// docs/compatibility.md#image-names-and-content-hashes test vectors.
    #[test]
    fn reproduces_the_reference_hash_vectors() {
        let base = Yaml::Map(vec![
            (s("key"), s("python")),
            (
                s("spec"),
                parse("{official_image: python:3.11, extra_packages: [git, curl, jq]}").unwrap(),
            ),
        ]);
        let text = dumps_sorted(&base).unwrap();
        assert_eq!(
            text,
            r#"{"key": "python", "spec": {"extra_packages": ["git", "curl", "jq"], "official_image": "python:3.11"}}"#
        );
        let base_hash = sha256_hex(&text);
        assert_eq!(
            base_hash,
            "3aacb6cdfc2745ea6680eece56f259540e4d63548738150d50b982600ad384be"
        );
        let work = |cwd: &str, cmd: &str| {
            Yaml::Map(vec![
                (s("base_hash"), s(&base_hash)),
                (s("platform"), s("linux/amd64")),
                (s("cwd"), s(cwd)),
                (s("setup_cmds"), Yaml::Seq(vec![s(cmd)])),
            ])
        };
        let demo = dumps_sorted(&work(
            "/home/workspace/demo",
            "mkdir -p /home/workspace/demo",
        ))
        .unwrap();
        assert!(demo.starts_with(r#"{"base_hash": "3aacb6cdfc27"#), "{demo}");
        assert!(demo.ends_with(
            r#""platform": "linux/amd64", "setup_cmds": ["mkdir -p /home/workspace/demo"]}"#
        ));
        assert_eq!(&sha256_hex(&demo)[..12], "f70a04d5574a");
        let accented = dumps_sorted(&work("/w", "echo h\u{e9}llo")).unwrap();
        assert!(
            accented.contains(r#""setup_cmds": ["echo h\u00e9llo"]"#),
            "{accented}"
        );
        assert_eq!(&sha256_hex(&accented)[..12], "c7e495b992c5");
    }

    /// Expected output from Python 3.11 `json.dumps(yaml.safe_load(text), sort_keys=True)`.
    #[test]
    fn matches_python_json_dumps() {
        let cases = [
        ("key: python\nspec:\n  official_image: python:3.11\n  extra_packages: [git, curl, jq]\n", "{\"key\": \"python\", \"spec\": {\"extra_packages\": [\"git\", \"curl\", \"jq\"], \"official_image\": \"python:3.11\"}}"),
        ("{b: 1, a: {d: [1, {z: 1, y: 2}], c: null}}", "{\"a\": {\"c\": null, \"d\": [1, {\"y\": 2, \"z\": 1}]}, \"b\": 1}"),
        ("[yes, no, ~, '', 0, -0, 0x10, 1:30, -170141183460469231731687303715884105728]", "[true, false, null, \"\", 0, 0, 16, 90, -170141183460469231731687303715884105728]"),
        ("{a: [], b: {}, c: [[], {}]}", "{\"a\": [], \"b\": {}, \"c\": [[], {}]}"),
        ("{1: a, 2: b, 10: c, -1: d}", "{\"-1\": \"d\", \"1\": \"a\", \"2\": \"b\", \"10\": \"c\"}"),
        ("{true: 1, 2: b, 1.5: c, false: d}", "{\"false\": \"d\", \"true\": 1, \"1.5\": \"c\", \"2\": \"b\"}"),
        ("{.inf: 1, -.inf: 2, 0.0001: x, 1.0e+16: y, 1.5e+16: z}", "{\"-Infinity\": 2, \"0.0001\": \"x\", \"1e+16\": \"y\", \"1.5e+16\": \"z\", \"Infinity\": 1}"),
        ("{~: 1}", "{\"null\": 1}"),
        ("{.nan: 1}", "{\"NaN\": 1}"),
        ("[1.0, 1.0e-5, 1.0e+16, 1.5e+16, 0.0001, 123.456, -0.0, .inf, -.inf, .nan, 1.0e+300, 0.1, 2.5e-7, 9999999999999998.0]", "[1.0, 1e-05, 1e+16, 1.5e+16, 0.0001, 123.456, -0.0, Infinity, -Infinity, NaN, 1e+300, 0.1, 2.5e-07, 9999999999999998.0]"),
        ("{'\u{e9}': 1, 'e': 2, 'z': 3, 'Z': 4, '\u{1f600}': 5, '\u{fffd}': 6, '_': 7, '10': 8, '9': 9}", "{\"10\": 8, \"9\": 9, \"Z\": 4, \"_\": 7, \"e\": 2, \"z\": 3, \"\\u00e9\": 1, \"\\ufffd\": 6, \"\\ud83d\\ude00\": 5}"),
        ("{9007199254740993: a, 9007199254740992.0: b, 9007199254740994.0: c}", "{\"9007199254740992.0\": \"b\", \"9007199254740993\": \"a\", \"9007199254740994.0\": \"c\"}"),
        ("s: \"\\u65e5\\u672c \\U0001F600 \\x00\\x01\\x1f\\x7f\\x80\\u00ff\\u2028\\b\\f\\n\\r\\t\\\\ \\\" /\"", "{\"s\": \"\\u65e5\\u672c \\ud83d\\ude00 \\u0000\\u0001\\u001f\\u007f\\u0080\\u00ff\\u2028\\b\\f\\n\\r\\t\\\\ \\\" /\"}"),
        ];
        for (yaml, expected) in cases {
            assert_eq!(dumps(yaml), expected, "{yaml:?}");
        }
    }

    #[test]
    #[allow(clippy::unreadable_literal)] // the literals are Python's reprs, digit for digit
    fn float_repr_matches_python_repr() {
        let cases = [
            (1.0, "1.0"),
            (1e-05, "1e-05"),
            (1e+16, "1e+16"),
            (1.5e+16, "1.5e+16"),
            (0.0001, "0.0001"),
            (123.456, "123.456"),
            (-0.0, "-0.0"),
            (0.0, "0.0"),
            (0.00012, "0.00012"),
            (1000000000000000.0, "1000000000000000.0"),
            (1.2345678901234568e+17, "1.2345678901234568e+17"),
            (5e-324, "5e-324"),
            (1.7976931348623157e+308, "1.7976931348623157e+308"),
            (0.30000000000000004, "0.30000000000000004"),
            (0.3333333333333333, "0.3333333333333333"),
            (-2.5, "-2.5"),
            (1e+22, "1e+22"),
            (1059438285926254.2, "1059438285926254.2"),
        ];
        for (x, expected) in cases {
            assert_eq!(float_repr(x), expected);
        }
        assert_eq!(float_repr(f64::INFINITY), "inf");
        assert_eq!(float_repr(f64::NEG_INFINITY), "-inf");
        assert_eq!(float_repr(f64::NAN), "nan");
    }

    #[test]
    fn refuses_what_python_cannot_sort_or_encode() {
        let cases = [
            ("{1: a, b: c}", "types 'int' and 'str' cannot be sorted"),
            ("{b: c, 1: a}", "types 'str' and 'int' cannot be sorted"),
            (
                "{~: 1, a: 2}",
                "types 'NoneType' and 'str' cannot be sorted",
            ),
            (
                "{a: 1, ~: 2}",
                "types 'str' and 'NoneType' cannot be sorted",
            ),
            ("{yes: 1, a: 2}", "types 'bool' and 'str' cannot be sorted"),
            ("{.nan: 1, 2: 2}", "NaN mapping key"),
            ("outer: {1: a, b: c}", "cannot be sorted"),
        ];
        for (yaml, message) in cases {
            let err = dumps_sorted(&parse(yaml).unwrap()).unwrap_err();
            assert!(err.to_string().contains(message), "{yaml}: {err}");
        }
        let list_key = Yaml::Map(vec![(Yaml::Seq(vec![]), Yaml::Null)]);
        let err = dumps_sorted(&list_key).unwrap_err();
        assert!(err
            .to_string()
            .contains("keys must be str, int, float, bool or None, not list"));
    }

    #[test]
    fn a_single_key_of_any_hashable_type_needs_no_sorting() {
        assert_eq!(dumps("{~: 1}"), r#"{"null": 1}"#);
        assert_eq!(dumps("{no: 1}"), r#"{"false": 1}"#);
        assert_eq!(dumps("{.nan: [1.5]}"), r#"{"NaN": [1.5]}"#);
    }
}
