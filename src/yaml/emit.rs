//! YAML output for generated manifests: block style, keys in the order of the JSON value, and
//! every string that is not unmistakably a plain string (under YAML 1.1 and 1.2) double-quoted.

use serde_json::Value;

use super::value::Yaml;

/// One YAML document (without `---`) for `value`, ending in a newline.
#[must_use]
pub fn to_yaml(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::Object(map) if !map.is_empty() => emit_map(map, 0, &mut out),
        Value::Array(items) if !items.is_empty() => emit_seq(items, 0, &mut out),
        scalar => {
            out.push_str(&inline(scalar));
            out.push('\n');
        }
    }
    out
}

/// Several documents separated by `---` lines.
#[must_use]
pub fn to_yaml_documents(values: &[Value]) -> String {
    values.iter().map(to_yaml).collect::<Vec<_>>().join("---\n")
}

fn is_block(value: &Value) -> bool {
    match value {
        Value::Object(map) => !map.is_empty(),
        Value::Array(items) => !items.is_empty(),
        _ => false,
    }
}

fn emit_map(map: &serde_json::Map<String, Value>, indent: usize, out: &mut String) {
    for (key, value) in map {
        out.push_str(&" ".repeat(indent));
        out.push_str(&string(key));
        out.push(':');
        match value {
            Value::Object(inner) if !inner.is_empty() => {
                out.push('\n');
                emit_map(inner, indent + 2, out);
            }
            Value::Array(items) if !items.is_empty() => {
                out.push('\n');
                emit_seq(items, indent, out);
            }
            scalar => {
                out.push(' ');
                out.push_str(&inline(scalar));
                out.push('\n');
            }
        }
    }
}

/// Items as `- …` at `indent`; a block item is rendered two columns deeper and its first line
/// takes the dash.
fn emit_seq(items: &[Value], indent: usize, out: &mut String) {
    for item in items {
        if is_block(item) {
            let mut inner = String::new();
            match item {
                Value::Object(map) => emit_map(map, indent + 2, &mut inner),
                Value::Array(seq) => emit_seq(seq, indent + 2, &mut inner),
                _ => unreachable!("is_block is true only for collections"),
            }
            out.push_str(&" ".repeat(indent));
            out.push_str("- ");
            out.push_str(&inner[indent + 2..]);
        } else {
            out.push_str(&" ".repeat(indent));
            out.push_str("- ");
            out.push_str(&inline(item));
            out.push('\n');
        }
    }
}

fn inline(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => string(s),
        Value::Array(_) => "[]".to_owned(),
        Value::Object(_) => "{}".to_owned(),
    }
}

/// Plain when made of ordinary name characters, read back as that same string under YAML 1.1,
/// and no number under YAML 1.2 either (`1e3`); otherwise a JSON string, which is a valid YAML
/// double-quoted scalar.
fn string(s: &str) -> String {
    let ordinary = s
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '/')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '/' | '-'));
    if ordinary
        && s.parse::<f64>().is_err()
        && super::parse(s).is_ok_and(|v| v == Yaml::Str(s.to_owned()))
    {
        s.to_owned()
    } else {
        serde_json::to_string(s).unwrap_or_else(|_| String::from("\"\""))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn block_style_with_quoted_lookalikes() {
        let value = json!({
            "a": {"b": "plain", "n": 3, "t": true, "empty": {}, "none": []},
            "list": [{"name": "x", "value": "1"}, "yes", "8Gi", {"k": ["p", "q"]}],
            "odd": "it's: a \"test\"\nline",
            "octal": "0755",
            "e": "1e3",
            "key with space": "~",
        });
        let yaml = to_yaml(&value);
        let expected = r#"a:
  b: plain
  empty: {}
  n: 3
  none: []
  t: true
e: "1e3"
key with space: "~"
list:
- name: x
  value: "1"
- "yes"
- 8Gi
- k:
  - p
  - q
octal: "0755"
odd: "it's: a \"test\"\nline"
"#;
        assert_eq!(
            yaml.replace("\"key with space\"", "key with space"),
            expected
        );
        assert!(yaml.contains("\"key with space\": \"~\""), "{yaml}");
    }

    #[test]
    fn output_parses_back_to_the_same_data() {
        let value = json!({"x": [["a", "-b"], [], {"c": null}], "y": "@z", "z": "a b"});
        let back = crate::yaml::parse(&to_yaml(&value)).expect("valid YAML");
        let expected = crate::yaml::parse(&serde_json::to_string(&value).unwrap()).unwrap();
        assert_eq!(back, expected);
        assert_eq!(
            to_yaml_documents(&[json!({"a": 1}), json!({"b": 2})]),
            "a: 1\n---\nb: 2\n"
        );
    }
}
