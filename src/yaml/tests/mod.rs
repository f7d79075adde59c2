//! Tests of the loader; the expected values were verified against `PyYAML` 6.0 `safe_load`.

mod documents;
mod scalars;

use super::{parse, Yaml, YamlError};
use std::fmt::Write as _;

pub(super) use super::python::repr;

pub(super) fn load(text: &str) -> Yaml {
    parse(text).unwrap_or_else(|e| panic!("{text:?} should load: {e}"))
}

fn error(text: &str) -> YamlError {
    match parse(text) {
        Ok(value) => panic!("{text:?} should fail, loaded {}", repr(&value)),
        Err(e) => e,
    }
}

#[test]
fn errors_name_the_position_and_the_problem() {
    let cases = [
        ("a: 1\n---\nb: 2\n", 2, 1, "expected a single document"),
        ("---\n...\n---\n", 3, 1, "expected a single document"),
        ("a: 'x\n", 1, 4, "found unexpected end of stream"),
        ("a:\n  b: 1\n c: 2", 3, 3, "did not find expected key"),
        ("[1, 2", 2, 1, "expected ',' or ']'"),
        ("{a: 1", 2, 1, "did not find expected ',' or '}'"),
        ("a: b: c", 1, 5, "mapping values are not allowed"),
        ("- a\nb: 1", 2, 1, "did not find expected '-'"),
        ("a:\tb", 1, 4, "':' must be followed"),
        ("a: \u{7}", 1, 4, "unacceptable character #x0007"),
        ("x: 1\ny: \u{0}", 2, 4, "unacceptable character #x0000"),
        (
            "k: 2001-12-14",
            1,
            4,
            "'2001-12-14' is a date/time, which is not supported; quote it",
        ),
        ("k: 2001-12-14 21:59:43.10 -5", 1, 4, "is a date/time"),
        ("k: 2001-12-14t21:59:43Z", 1, 4, "is a date/time"),
        ("k: !foo bar", 1, 9, "unsupported tag '!foo'"),
        ("k: !!binary aGk=", 1, 13, "unsupported tag '!!binary'"),
        ("k: !!set {a}", 1, 10, "unsupported tag '!!set'"),
        (
            "!!str [1]",
            1,
            7,
            "expected a scalar node, but found sequence",
        ),
        (
            "!!seq {a: 1}",
            1,
            7,
            "expected a sequence node, but found mapping",
        ),
        ("!!map 1", 1, 7, "expected a mapping node, but found scalar"),
        ("? [1]\n: 2", 1, 3, "found unhashable key"),
        (
            "<<: 1",
            1,
            5,
            "expected a mapping or list of mappings for merging, but found scalar",
        ),
        (
            "<<: [{a: 1}, [2]]",
            1,
            5,
            "expected a mapping for merging, but found sequence",
        ),
        (
            "a: <<",
            1,
            4,
            "merge key '<<' may only be used as a mapping key",
        ),
        ("a: =", 1, 4, "'=' may only be used as a mapping key"),
        ("k: !!bool maybe", 1, 11, "invalid boolean 'maybe'"),
        ("k: !!int abc", 1, 10, "'abc' is not a valid integer"),
        ("k: !!int 1.5", 1, 10, "'1.5' is not a valid integer"),
        ("k: !!int 0x_", 1, 10, "'0x_' is not a valid integer"),
        ("k: !!float abc", 1, 12, "'abc' is not a valid float"),
        ("a: &x 1\nb: &x 2", 2, 4, "found duplicate anchor 'x'"),
        ("a: *nope", 1, 4, "unknown anchor"),
        (
            "&a [*a]",
            1,
            5,
            "an alias may not refer to the node that contains it",
        ),
        (
            "k: 170141183460469231731687303715884105728",
            1,
            4,
            "does not fit in 128 bits",
        ),
        (
            "k: -0x80000000000000000000000000000001",
            1,
            4,
            "does not fit in 128 bits",
        ),
    ];
    for (text, line, column, message) in cases {
        let e = error(text);
        assert_eq!((e.line, e.column), (line, column), "{text:?}: {e}");
        assert!(e.message.contains(message), "{text:?}: {e}");
    }
}

#[test]
fn error_display_is_line_column_message() {
    let e = error("a: 'x\n");
    assert_eq!(
        e.to_string(),
        "line 1, column 4: while scanning a quoted scalar, found unexpected end of stream"
    );
}

#[test]
fn integer_bounds_are_those_of_i128() {
    assert_eq!(
        load("-170141183460469231731687303715884105728"),
        Yaml::Int(i128::MIN)
    );
    assert_eq!(
        load("0x7fffffffffffffffffffffffffffffff"),
        Yaml::Int(i128::MAX)
    );
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let block = format!("{}x", "- ".repeat(300));
    assert!(error(&block)
        .message
        .contains("nesting deeper than 256 levels"));
    // yaml-rust2 stops deep flow collections itself.
    let flow = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    assert!(parse(&flow).is_err());
    assert!(parse(&format!("{}x", "- ".repeat(200))).is_ok());
}

#[test]
fn exponential_alias_expansion_is_refused() {
    let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..10 {
        let refs = vec![format!("*a{}", i - 1); 10].join(", ");
        let _ = writeln!(text, "a{i}: &a{i} [{refs}]");
    }
    assert!(error(&text).message.contains("more than"));
}

#[test]
fn map_keeps_first_position_and_last_value() {
    let doc = load("b: 1\na: 2\nb: 3\n");
    let Yaml::Map(entries) = &doc else {
        panic!("not a map")
    };
    let keys: Vec<_> = entries
        .iter()
        .map(|(k, v)| (k.to_python_str(), v.clone()))
        .collect();
    assert_eq!(
        keys,
        [("b".into(), Yaml::Int(3)), ("a".into(), Yaml::Int(2))]
    );
}

#[test]
fn accessors() {
    let doc = load("name: bench\nn: 3\n1: one\nlist: [a]\n");
    assert_eq!(doc.get("name").and_then(Yaml::as_str), Some("bench"));
    assert_eq!(doc.get("n"), Some(&Yaml::Int(3)));
    assert_eq!(doc.get("1"), None, "an int key is not the string '1'");
    assert_eq!(doc.get("missing"), None);
    assert_eq!(Yaml::Int(1).get("x"), None);
    assert_eq!(Yaml::Int(1).as_str(), None);
    let kinds = [
        "null", "boolean", "integer", "float", "string", "list", "mapping",
    ];
    let values = ["~", "yes", "1", "1.5", "a", "[]", "{}"].map(|t| load(t).kind());
    assert_eq!(values, kinds);
}

#[test]
fn to_python_str_prints_like_python_str() {
    let cases = [
        ("~", "None"),
        ("yes", "True"),
        ("off", "False"),
        ("0x10", "16"),
        ("1.0e+16", "1e+16"),
        ("3.", "3.0"),
        ("-.inf", "-inf"),
        (".nan", "nan"),
        ("plain text", "plain text"),
        ("[1, 'a', ~, 2.5]", "[1, 'a', None, 2.5]"),
        ("{a: [b], 1: {c: yes}}", "{'a': ['b'], 1: {'c': True}}"),
        (
            "[\"it's\", 'tab\there', \"a\\nb\"]",
            "[\"it's\", 'tab\\there', 'a\\nb']",
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(load(text).to_python_str(), expected, "{text}");
    }
}
