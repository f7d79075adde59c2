//! TEST DOUBLE: label selectors (`a=b`, `a==b`, `a!=b`, `a`, `!a`, `a in (x,y)`, `a notin (x)`)
//! and field selectors (`metadata.name=x`, `involvedObject.name!=y`, any dotted JSON path).

use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
enum Requirement {
    Equals(String, String),
    NotEquals(String, String),
    Exists(String),
    Absent(String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
}

/// A parsed selector; the empty selector matches everything.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Selector {
    requirements: Vec<Requirement>,
}

impl Selector {
    /// Parses a label selector; `Err` names the part it cannot read.
    pub fn labels(text: &str) -> Result<Self, String> {
        let requirements = split_top_level(text)
            .into_iter()
            .map(|part| parse_label_requirement(&part))
            .collect::<Result<_, _>>()?;
        Ok(Self { requirements })
    }

    /// Parses a field selector (only `=`, `==` and `!=`).
    pub fn fields(text: &str) -> Result<Self, String> {
        let requirements = split_top_level(text)
            .into_iter()
            .map(|part| match parse_label_requirement(&part)? {
                req @ (Requirement::Equals(..) | Requirement::NotEquals(..)) => Ok(req),
                _ => Err(format!(
                    "field selector {part:?}: only =, == and != are supported"
                )),
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { requirements })
    }

    /// Whether the object's labels satisfy the selector.
    #[must_use]
    pub fn matches_labels(&self, object: &Value) -> bool {
        let labels = &object["metadata"]["labels"];
        self.requirements
            .iter()
            .all(|req| satisfied(req, |key| labels[key].as_str().map(str::to_owned)))
    }

    /// Whether the object's fields (dotted JSON paths) satisfy the selector.
    #[must_use]
    pub fn matches_fields(&self, object: &Value) -> bool {
        self.requirements.iter().all(|req| {
            satisfied(req, |path| {
                let value = path.split('.').fold(object, |value, part| &value[part]);
                match value {
                    Value::String(text) => Some(text.clone()),
                    Value::Null => Some(String::new()),
                    other => Some(other.to_string()),
                }
            })
        })
    }
}

fn satisfied(req: &Requirement, lookup: impl Fn(&str) -> Option<String>) -> bool {
    match req {
        Requirement::Equals(key, want) => lookup(key).as_deref() == Some(want),
        Requirement::NotEquals(key, want) => lookup(key).as_deref() != Some(want),
        Requirement::Exists(key) => lookup(key).is_some(),
        Requirement::Absent(key) => lookup(key).is_none(),
        Requirement::In(key, values) => lookup(key).is_some_and(|have| values.contains(&have)),
        Requirement::NotIn(key, values) => lookup(key).is_none_or(|have| !values.contains(&have)),
    }
}

/// Splits at commas outside parentheses, dropping empty parts.
fn split_top_level(text: &str) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut depth = 0_u32;
    for ch in text.chars() {
        match ch {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                parts.push(String::new());
                continue;
            }
            _ => {}
        }
        parts.last_mut().expect("one part at least").push(ch);
    }
    parts
        .into_iter()
        .map(|part| part.trim().to_owned())
        .filter(|part| !part.is_empty())
        .collect()
}

fn parse_label_requirement(part: &str) -> Result<Requirement, String> {
    if let Some((key, value)) = part.split_once("!=") {
        return Ok(Requirement::NotEquals(
            key.trim().into(),
            value.trim().into(),
        ));
    }
    if let Some((key, value)) = part.split_once("==").or_else(|| part.split_once('=')) {
        return Ok(Requirement::Equals(key.trim().into(), value.trim().into()));
    }
    let words: Vec<&str> = part.splitn(2, char::is_whitespace).collect();
    if let [key, rest] = words[..] {
        let rest = rest.trim();
        let (op, values) = rest
            .split_once('(')
            .ok_or_else(|| format!("label selector {part:?}: expected `in (...)`"))?;
        let values = values
            .trim_end_matches(')')
            .split(',')
            .map(|value| value.trim().to_owned())
            .collect();
        return match op.trim() {
            "in" => Ok(Requirement::In(key.into(), values)),
            "notin" => Ok(Requirement::NotIn(key.into(), values)),
            other => Err(format!(
                "label selector {part:?}: unknown operator {other:?}"
            )),
        };
    }
    match part.strip_prefix('!') {
        Some(key) => Ok(Requirement::Absent(key.trim().into())),
        None => Ok(Requirement::Exists(part.into())),
    }
}

#[cfg(test)]
mod tests {
    use super::Selector;
    use serde_json::json;

    #[test]
    fn label_selectors_match_like_kubernetes() {
        let pod = json!({"metadata": {"labels": {"app": "sforge", "sforge.run-id": "r1"}}});
        for (text, want) in [
            ("app=sforge", true),
            ("app==sforge,sforge.run-id=r1", true),
            ("app=other", false),
            ("app!=sforge", false),
            ("app", true),
            ("!app", false),
            ("sforge.run-id in (r0, r1)", true),
            ("sforge.run-id notin (r1)", false),
            ("", true),
        ] {
            let selector = Selector::labels(text).unwrap();
            assert_eq!(selector.matches_labels(&pod), want, "{text}");
        }
    }

    #[test]
    fn field_selectors_follow_dotted_paths() {
        let event = json!({"involvedObject": {"name": "p1"}, "metadata": {"name": "p1.1"}});
        assert!(Selector::fields("involvedObject.name=p1")
            .unwrap()
            .matches_fields(&event));
        assert!(!Selector::fields("involvedObject.name=p2")
            .unwrap()
            .matches_fields(&event));
        assert!(Selector::fields("metadata.name!=x")
            .unwrap()
            .matches_fields(&event));
        assert!(Selector::fields("a in (b)").is_err());
    }
}
