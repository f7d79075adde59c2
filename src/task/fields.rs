//! Typed access to a JSON object's fields, with errors that name the file and the dotted field path.

use std::path::Path;

use serde_json::{Map, Value};

use super::error::TaskError;

/// A JSON object being read, with the file it came from and its position in the document.
pub(crate) struct Fields<'a> {
    path: &'a Path,
    prefix: String,
    map: &'a Map<String, Value>,
}

impl<'a> Fields<'a> {
    pub(crate) fn root(path: &'a Path, value: &'a Value) -> Result<Self, TaskError> {
        match value {
            Value::Object(map) => Ok(Fields {
                path,
                prefix: String::new(),
                map,
            }),
            other => Err(TaskError::Syntax {
                path: path.to_owned(),
                format: "task JSON",
                message: format!("the top level must be an object, found {}", kind(other)),
            }),
        }
    }

    fn name(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    fn error(&self, key: &str, message: impl Into<String>) -> TaskError {
        TaskError::field(self.path, self.name(key), message)
    }

    /// The value of `key`, treating JSON `null` as absent.
    fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    fn require(&self, key: &str, what: &str) -> Result<&'a Value, TaskError> {
        self.get(key)
            .ok_or_else(|| self.error(key, format!("missing; add {what}")))
    }

    pub(crate) fn object(&self, key: &str) -> Result<Fields<'a>, TaskError> {
        match self.require(key, "an object")? {
            Value::Object(map) => Ok(Fields {
                path: self.path,
                prefix: format!("{}.", self.name(key)),
                map,
            }),
            other => Err(self.wrong_type(key, "an object", other)),
        }
    }

    pub(crate) fn string(&self, key: &str) -> Result<String, TaskError> {
        let value = self.require(key, "a string")?;
        value
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| self.wrong_type(key, "a string", value))
    }

    pub(crate) fn opt_string(&self, key: &str) -> Result<Option<String>, TaskError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(self.wrong_type(key, "a string", other)),
        }
    }

    pub(crate) fn opt_bool(&self, key: &str) -> Result<Option<bool>, TaskError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(other) => Err(self.wrong_type(key, "true or false", other)),
        }
    }

    pub(crate) fn opt_u64(&self, key: &str) -> Result<Option<u64>, TaskError> {
        match self.get(key) {
            None => Ok(None),
            Some(value) => value
                .as_u64()
                .map(Some)
                .ok_or_else(|| self.wrong_type(key, "a whole number (0 or more)", value)),
        }
    }

    pub(crate) fn opt_u32(&self, key: &str) -> Result<Option<u32>, TaskError> {
        match self.opt_u64(key)? {
            None => Ok(None),
            Some(n) => u32::try_from(n)
                .map(Some)
                .map_err(|_| self.error(key, format!("{n} is too large"))),
        }
    }

    pub(crate) fn opt_string_list(&self, key: &str) -> Result<Option<Vec<String>>, TaskError> {
        let Some(value) = self.get(key) else {
            return Ok(None);
        };
        let Value::Array(items) = value else {
            return Err(self.wrong_type(key, "a list of strings", value));
        };
        items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                item.as_str().map(str::to_owned).ok_or_else(|| {
                    self.error(
                        &format!("{key}[{i}]"),
                        format!("expected a string, found {}", kind(item)),
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    pub(crate) fn string_list(&self, key: &str) -> Result<Vec<String>, TaskError> {
        self.opt_string_list(key)?
            .ok_or_else(|| self.error(key, "missing; add a list of strings"))
    }

    pub(crate) fn opt_raw(&self, key: &str) -> Option<&'a Value> {
        self.get(key)
    }

    /// An error about `key` with a custom message (for semantic validation by the caller).
    pub(crate) fn invalid(&self, key: &str, message: impl Into<String>) -> TaskError {
        self.error(key, message)
    }

    fn wrong_type(&self, key: &str, expected: &str, found: &Value) -> TaskError {
        self.error(key, format!("expected {expected}, found {}", kind(found)))
    }
}

fn kind(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) => format!("the string {s:?}"),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "an object".into(),
    }
}
