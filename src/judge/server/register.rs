//! Validates the JSON body of `POST /register` the way FastAPI/pydantic would, answering 422
//! with a list of `{type, loc, msg, input}` items for malformed bodies.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::error::{invalid, missing, ApiError};
use super::records::Registration;

/// The registration (without token and time) and the `admin_secret` it carried.
pub fn parse_register(body: &[u8]) -> Result<(Registration, String), ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::validation(vec![missing(&["body"])]));
    }
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        ApiError::validation(vec![json!({
            "type": "json_invalid",
            "loc": ["body", e.column()],
            "msg": "JSON decode error",
            "input": {},
            "ctx": { "error": e.to_string() },
        })])
    })?;
    let Value::Object(obj) = &value else {
        let msg = "Input should be a valid dictionary or object to extract fields from";
        return Err(ApiError::validation(vec![invalid(
            "model_attributes_type",
            &["body"],
            msg,
            &value,
        )]));
    };
    let mut f = Fields {
        obj,
        errors: Vec::new(),
    };
    let reg = Registration {
        task_id: f.required_string("task_id"),
        run_id: f.required_string("run_id"),
        judge_cpu_limit: f
            .int("judge_cpu_limit", u64::from(u32::MAX))
            .and_then(|v| u32::try_from(v).ok()),
        judge_mem_limit: f.string("judge_mem_limit"),
        max_agent_submissions: f.int("max_agent_submissions", u64::MAX),
        submission_cooldown: f.int("submission_cooldown", u64::MAX),
        deadline: f.float("deadline"),
        internet: f.boolean("internet"),
        backend: f.string("backend"),
        k8s_image_registry: f.string("k8s_image_registry"),
        k8s_namespace: f.string("k8s_namespace"),
        k8s_node_selector: f.map("k8s_node_selector"),
        k8s_kubeconfig: f.string("k8s_kubeconfig"),
        ..Registration::default()
    };
    let secret = match obj.get("admin_secret") {
        None => String::new(),
        Some(_) => f.string("admin_secret").unwrap_or_default(),
    };
    if f.errors.is_empty() {
        Ok((reg, secret))
    } else {
        Err(ApiError::validation(f.errors))
    }
}

/// Reads typed fields from the body object, collecting errors.
struct Fields<'a> {
    obj: &'a Map<String, Value>,
    errors: Vec<Value>,
}

impl Fields<'_> {
    fn fail(&mut self, kind: &str, name: &str, msg: &str) {
        let input = self.obj.get(name).cloned().unwrap_or(Value::Null);
        self.errors
            .push(invalid(kind, &["body", name], msg, &input));
    }

    fn required_string(&mut self, name: &str) -> String {
        if self.obj.contains_key(name) {
            if self.obj[name].is_null() {
                self.fail("string_type", name, "Input should be a valid string");
            }
            return self.string(name).unwrap_or_default();
        }
        let input = Value::Object(self.obj.clone());
        self.errors.push(invalid(
            "missing",
            &["body", name],
            "Field required",
            &input,
        ));
        String::new()
    }

    fn string(&mut self, name: &str) -> Option<String> {
        match self.obj.get(name)? {
            Value::Null => None,
            Value::String(s) => Some(s.clone()),
            _ => {
                self.fail("string_type", name, "Input should be a valid string");
                None
            }
        }
    }

    /// A non-negative integer up to `max`; like pydantic's lax mode, integral floats and
    /// numeric strings are accepted.
    fn int(&mut self, name: &str, max: u64) -> Option<u64> {
        let value = self.obj.get(name)?;
        let parsed = match value {
            Value::Null => return None,
            Value::Number(n) => n.as_i64().map(i128::from).or_else(|| whole(n.as_f64())),
            Value::String(s) => s.trim().parse::<i128>().ok(),
            _ => None,
        };
        match parsed {
            None if value.is_string() => self.fail(
                "int_parsing",
                name,
                "Input should be a valid integer, unable to parse string as an integer",
            ),
            None => self.fail("int_type", name, "Input should be a valid integer"),
            Some(v) if v < 0 => {
                self.fail(
                    "greater_than_equal",
                    name,
                    "Input should be greater than or equal to 0",
                );
            }
            Some(v) => match u64::try_from(v).ok().filter(|v| *v <= max) {
                Some(v) => return Some(v),
                None => self.fail(
                    "less_than_equal",
                    name,
                    &format!("Input should be less than or equal to {max}"),
                ),
            },
        }
        None
    }

    fn float(&mut self, name: &str) -> Option<f64> {
        let value = self.obj.get(name)?;
        let parsed = match value {
            Value::Null => return None,
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().parse::<f64>().ok().filter(|f| f.is_finite()),
            _ => None,
        };
        if parsed.is_none() {
            self.fail("float_type", name, "Input should be a valid number");
        }
        parsed
    }

    /// A boolean; like pydantic's lax mode, 0/1 and the usual words are accepted.
    fn boolean(&mut self, name: &str) -> Option<bool> {
        let value = self.obj.get(name)?;
        let parsed = match value {
            Value::Null => return None,
            Value::Bool(b) => Some(*b),
            Value::Number(n) => match n.as_i64() {
                Some(0) => Some(false),
                Some(1) => Some(true),
                _ => None,
            },
            Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
                "1" | "true" | "t" | "yes" | "y" | "on" => Some(true),
                "0" | "false" | "f" | "no" | "n" | "off" => Some(false),
                _ => None,
            },
            _ => None,
        };
        if parsed.is_none() {
            self.fail("bool_parsing", name, "Input should be a valid boolean");
        }
        parsed
    }

    fn map(&mut self, name: &str) -> Option<BTreeMap<String, Value>> {
        match self.obj.get(name)? {
            Value::Null => None,
            Value::Object(m) => Some(m.iter().map(|(k, v)| (k.clone(), v.clone())).collect()),
            _ => {
                self.fail("dict_type", name, "Input should be a valid dictionary");
                None
            }
        }
    }
}

/// An integral float as an integer.
fn whole(f: Option<f64>) -> Option<i128> {
    #[allow(clippy::cast_possible_truncation)]
    f.filter(|f| f.fract() == 0.0 && f.abs() < 1e30)
        .map(|f| f as i128)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(body: &str) -> Vec<(String, Value)> {
        let err = parse_register(body.as_bytes()).unwrap_err();
        assert_eq!(err.status, 422);
        err.detail
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["type"].as_str().unwrap().to_owned(), e["loc"].clone()))
            .collect()
    }

    #[test]
    fn accepts_full_body_with_lax_numbers() {
        let body = r#"{"task_id":"t","run_id":"r","admin_secret":"s","judge_cpu_limit":"2",
            "judge_mem_limit":"4g","max_agent_submissions":3.0,"submission_cooldown":null,
            "deadline":1.5,"k8s_node_selector":{"a":"b"}}"#;
        let (reg, secret) = parse_register(body.as_bytes()).unwrap();
        assert_eq!((reg.task_id.as_str(), secret.as_str()), ("t", "s"));
        assert_eq!(reg.judge_cpu_limit, Some(2));
        assert_eq!(reg.max_agent_submissions, Some(3));
        assert_eq!(reg.deadline, Some(1.5));
        assert_eq!(reg.submission_cooldown, None);
        assert_eq!(reg.internet, None, "absent: the task's own setting");
    }

    #[test]
    fn internet_is_a_lax_boolean() {
        let parse = |v: &str| {
            let body = format!(r#"{{"task_id":"t","run_id":"r","internet":{v}}}"#);
            parse_register(body.as_bytes()).map(|(reg, _)| reg.internet)
        };
        assert_eq!(parse("false").unwrap(), Some(false));
        assert_eq!(parse("\"yes\"").unwrap(), Some(true));
        assert_eq!(parse("0").unwrap(), Some(false));
        assert_eq!(parse("null").unwrap(), None);
        assert!(parse("\"maybe\"").is_err());
        assert!(parse("[]").is_err());
    }

    #[test]
    fn reports_every_bad_field() {
        assert_eq!(errors(""), vec![("missing".into(), json!(["body"]))]);
        assert_eq!(errors("{").len(), 1);
        assert_eq!(errors("[1]")[0].0, "model_attributes_type");
        let found = errors(
            r#"{"run_id":5,"judge_cpu_limit":"x","max_agent_submissions":-1,"k8s_node_selector":[]}"#,
        );
        let kinds: Vec<&str> = found.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            kinds,
            [
                "missing",
                "string_type",
                "int_parsing",
                "greater_than_equal",
                "dict_type"
            ]
        );
        assert_eq!(found[0].1, json!(["body", "task_id"]));
    }
}
