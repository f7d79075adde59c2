//! Rescaling a raw score to 0–100 with a task's `judge.rescale` spec (docs/compatibility.md#grading), and
//! checking a spec when the task is loaded.
//!
//! Where the reference trips an `assert` on a missing parameter (zeroing every submission),
//! [`rescale`] and [`validate`] return a [`RescaleError`] naming the kind and parameter. An
//! unknown kind still clips the raw value, as in the reference; [`validate`] reports it as a
//! [`RescaleWarning`] so task loading can log it without rejecting the task.

use super::formula;
use serde_json::{Map, Value};

/// Every kind with a formula; anything else clips the raw value to [0, 100].
pub const KINDS: [&str; 12] = [
    "linear",
    "min_linear",
    "min_linear_positive",
    "min_inverse_anchor",
    "compression_ratio_cropped_guarded",
    "log_anchor",
    "log_max",
    "log1p_max",
    "log_min",
    "piecewise_max",
    "piecewise_min",
    "piecewise_log_min",
];

const PIECEWISE: [&str; 4] = ["baseline", "rank30", "rank1", "super_anchor"];

/// A rescale spec that cannot be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RescaleError {
    #[error("rescale spec must be an object with a `kind`, got {0}")]
    NotAnObject(String),
    #[error("rescale kind `{kind}` needs the parameter `{param}`")]
    MissingParameter { kind: String, param: &'static str },
    #[error("rescale kind `{kind}`: parameter `{param}` must be a number, got {value}")]
    InvalidParameter {
        kind: String,
        param: &'static str,
        value: String,
    },
}

/// A rescale spec that applies but probably not as meant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RescaleWarning {
    #[error("rescale spec has no string `kind`: scores are only clipped to [0, 100]")]
    MissingKind,
    #[error("unknown rescale kind `{0}`: scores are only clipped to [0, 100]")]
    UnknownKind(String),
    #[error("rescale kind `{kind}`: `{first}` equals `{second}`, so scores rescale to NaN or 0")]
    EqualParameters {
        kind: String,
        first: &'static str,
        second: &'static str,
    },
}

/// The parameters each kind requires.
fn required(kind: &str) -> &'static [&'static str] {
    match kind {
        "linear" => &["lower", "upper"],
        "min_linear"
        | "min_linear_positive"
        | "compression_ratio_cropped_guarded"
        | "log_max"
        | "log_min" => &["baseline", "expert"],
        "min_inverse_anchor" | "log_anchor" => &["anchor_raw", "anchor_score"],
        "log1p_max" => &["baseline", "upper"],
        "piecewise_max" | "piecewise_min" | "piecewise_log_min" => &PIECEWISE,
        _ => &[],
    }
}

/// Checks `spec` at task load: `Err` when it cannot be applied (not an object, a required
/// parameter missing or not a number), else the warnings (unknown kind, equal parameters that
/// make the formula degenerate).
///
/// # Errors
///
/// See above: a spec that [`rescale`] would refuse.
pub fn validate(spec: &Value) -> Result<Vec<RescaleWarning>, RescaleError> {
    if spec.is_null() {
        return Ok(Vec::new());
    }
    let map = as_object(spec)?;
    let Some(kind) = map.get("kind").and_then(Value::as_str) else {
        return Ok(vec![RescaleWarning::MissingKind]);
    };
    if !KINDS.contains(&kind) {
        return Ok(vec![RescaleWarning::UnknownKind(kind.to_owned())]);
    }
    let params = Params { kind, map };
    let names = required(kind);
    let values = names
        .iter()
        .map(|name| params.get(name))
        .collect::<Result<Vec<f64>, _>>()?;
    let mut warnings = Vec::new();
    for i in 1..values.len() {
        #[allow(clippy::float_cmp)] // exact equality is the degenerate case
        let equal = values[i - 1] == values[i];
        if equal && has_degenerate_equality(kind) {
            warnings.push(RescaleWarning::EqualParameters {
                kind: kind.to_owned(),
                first: names[i - 1],
                second: names[i],
            });
        }
    }
    Ok(warnings)
}

/// Whether equal adjacent parameters make `kind` degenerate (NaN or a constant 0).
fn has_degenerate_equality(kind: &str) -> bool {
    !matches!(kind, "min_inverse_anchor" | "log_anchor" | "log1p_max")
}

/// `raw` rescaled to 0–100 by `spec` (`{"kind": …, <parameters>}`): `None` when the spec or
/// `raw` is null or `raw` is not finite; NaN where the formula is degenerate (see [`KINDS`]).
///
/// # Errors
///
/// When a non-null spec is not an object, or a parameter its kind needs is missing or not a
/// number (checked only when `raw` is a finite number, as in the reference).
pub fn rescale(spec: &Value, raw: Option<f64>) -> Result<Option<f64>, RescaleError> {
    let Some(raw) = raw.filter(|r| r.is_finite()) else {
        return Ok(None);
    };
    if spec.is_null() {
        return Ok(None);
    }
    let map = as_object(spec)?;
    let kind = map.get("kind").and_then(Value::as_str).unwrap_or_default();
    let p = Params { kind, map };
    let value = match kind {
        "linear" => formula::linear(raw, p.get("lower")?, p.get("upper")?),
        "min_linear" => formula::min_linear(raw, p.get("baseline")?, p.get("expert")?),
        "min_linear_positive" => {
            formula::guarded_min_linear(raw, p.get("baseline")?, p.get("expert")?, raw <= 0.0)
        }
        "compression_ratio_cropped_guarded" => {
            formula::guarded_min_linear(raw, p.get("baseline")?, p.get("expert")?, raw < 0.05)
        }
        "min_inverse_anchor" => {
            formula::min_inverse_anchor(raw, p.get("anchor_raw")?, p.get("anchor_score")?)
        }
        "log_anchor" => formula::log_anchor(raw, p.get("anchor_raw")?, p.get("anchor_score")?),
        "log_max" => formula::log_max(raw, p.get("baseline")?, p.get("expert")?),
        "log1p_max" => formula::log1p_max(raw, p.get("baseline")?, p.get("upper")?),
        "log_min" => formula::log_min(raw, p.get("baseline")?, p.get("expert")?),
        "piecewise_max" => formula::piecewise_max(raw, &p.anchors()?),
        "piecewise_min" => formula::piecewise_min(raw, &p.anchors()?),
        "piecewise_log_min" => formula::piecewise_log_min(raw, &p.anchors()?),
        _ => formula::clip(raw),
    };
    Ok(Some(value))
}

fn as_object(spec: &Value) -> Result<&Map<String, Value>, RescaleError> {
    spec.as_object()
        .ok_or_else(|| RescaleError::NotAnObject(spec.to_string()))
}

struct Params<'a> {
    kind: &'a str,
    map: &'a Map<String, Value>,
}

impl Params<'_> {
    fn get(&self, param: &'static str) -> Result<f64, RescaleError> {
        let kind = self.kind.to_owned();
        match self.map.get(param) {
            None | Some(Value::Null) => Err(RescaleError::MissingParameter { kind, param }),
            Some(value) => value.as_f64().ok_or(RescaleError::InvalidParameter {
                kind,
                param,
                value: value.to_string(),
            }),
        }
    }

    fn anchors(&self) -> Result<[f64; 4], RescaleError> {
        Ok([
            self.get(PIECEWISE[0])?,
            self.get(PIECEWISE[1])?,
            self.get(PIECEWISE[2])?,
            self.get(PIECEWISE[3])?,
        ])
    }
}
