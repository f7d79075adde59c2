//! API errors: an HTTP status and the `detail` `FastAPI` would send (`{"detail": ...}`).

use serde_json::{json, Value};

/// An error response.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: u16,
    pub detail: Value,
}

impl ApiError {
    /// An error whose `detail` is a message.
    pub fn new(status: u16, message: impl Into<String>) -> Self {
        Self {
            status,
            detail: Value::String(message.into()),
        }
    }

    /// 500 for a failure of the judge itself (disk, journal), logged with its cause.
    pub fn internal(what: &str, err: &dyn std::fmt::Display) -> Self {
        log::error!("{what}: {err}");
        Self::new(500, format!("Internal judge error: {what}"))
    }

    /// `FastAPI`'s 422 with a list of validation errors.
    #[must_use]
    pub fn validation(errors: Vec<Value>) -> Self {
        Self {
            status: 422,
            detail: Value::Array(errors),
        }
    }

    /// The response body.
    #[must_use]
    pub fn body(&self) -> Value {
        json!({ "detail": self.detail })
    }
}

/// One pydantic-style validation error item.
#[must_use]
pub fn invalid(kind: &str, loc: &[&str], msg: &str, input: &Value) -> Value {
    json!({ "type": kind, "loc": loc, "msg": msg, "input": input })
}

/// The item for a required field that is absent.
#[must_use]
pub fn missing(loc: &[&str]) -> Value {
    invalid("missing", loc, "Field required", &Value::Null)
}
