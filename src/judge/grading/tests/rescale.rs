//! Every rescale formula of docs/compatibility.md#grading as a table (expected values by hand or
//! with Python's `math`), the null cases, parameter errors and load-time validation.

use super::super::{rescale, validate, RescaleError, RescaleWarning};
use serde_json::{json, Value};

const NAN: f64 = f64::NAN;

fn check(spec: &Value, raw: f64, expected: f64) {
    let got = rescale(spec, Some(raw)).unwrap().unwrap();
    let ok = if expected.is_nan() {
        got.is_nan()
    } else {
        (got - expected).abs() < 1e-9
    };
    assert!(ok, "{spec} raw={raw}: got {got}, expected {expected}");
}

fn table(spec: &Value, rows: &[(f64, f64)]) {
    for &(raw, expected) in rows {
        check(spec, raw, expected);
    }
}

#[test]
fn linear_family() {
    let lin = json!({"kind": "linear", "lower": 10, "upper": 20});
    table(
        &lin,
        &[(15.0, 50.0), (5.0, 0.0), (25.0, 100.0), (12.5, 25.0)],
    );
    table(
        &json!({"kind": "linear", "lower": 20, "upper": 10}),
        &[(15.0, 50.0)],
    );
    table(
        &json!({"kind": "linear", "lower": 10, "upper": 10}),
        &[(3.0, NAN)],
    );
    let min = json!({"kind": "min_linear", "baseline": 200, "expert": 100});
    table(
        &min,
        &[(150.0, 50.0), (250.0, 0.0), (50.0, 100.0), (-10.0, 100.0)],
    );
    table(
        &json!({"kind": "min_linear", "baseline": 5, "expert": 5}),
        &[(3.0, NAN)],
    );
    let pos = json!({"kind": "min_linear_positive", "baseline": 200, "expert": 100});
    table(
        &pos,
        &[(150.0, 50.0), (0.0, 0.0), (-5.0, 0.0), (50.0, 100.0)],
    );
    table(
        &json!({"kind": "min_linear_positive", "baseline": 5, "expert": 5}),
        &[(3.0, 0.0)],
    );
    let crop = json!({"kind": "compression_ratio_cropped_guarded", "baseline": 1, "expert": 3});
    table(
        &crop,
        &[
            (2.0, 50.0),
            (0.04, 0.0),
            (0.05, 0.0),
            (5.0, 100.0),
            (1.0, 0.0),
        ],
    );
    let crop_eq = json!({"kind": "compression_ratio_cropped_guarded", "baseline": 3, "expert": 3});
    table(&crop_eq, &[(2.0, 0.0)]);
}

#[test]
fn anchor_kinds() {
    let inv = json!({"kind": "min_inverse_anchor", "anchor_raw": 4, "anchor_score": 50});
    table(
        &inv,
        &[
            (3.0, 50.0 * 4.0 / 3.0),
            (4.0, 50.0),
            (1.0, 100.0),
            (0.0, 0.0),
            (-2.0, 0.0),
        ],
    );
    let inv0 = json!({"kind": "min_inverse_anchor", "anchor_raw": 0, "anchor_score": 50});
    table(&inv0, &[(3.0, 0.0)]);
    let log = json!({"kind": "log_anchor", "anchor_raw": 100, "anchor_score": 80});
    table(
        &log,
        &[
            (50.0, 67.958_800_173_440_74),
            (1.0, 0.0),
            (0.5, 0.0),
            (1000.0, 100.0),
        ],
    );
    let log1 = json!({"kind": "log_anchor", "anchor_raw": 1, "anchor_score": 80});
    table(&log1, &[(50.0, 0.0)]);
}

#[test]
fn log_kinds() {
    let max = json!({"kind": "log_max", "baseline": 10, "expert": 100});
    table(
        &max,
        &[
            (30.0, 47.712_125_471_966_24),
            (5.0, 0.0),
            (1000.0, 100.0),
            (0.0, 0.0),
        ],
    );
    table(
        &json!({"kind": "log_max", "baseline": 10, "expert": 10}),
        &[(30.0, 0.0)],
    );
    table(
        &json!({"kind": "log_max", "baseline": 10, "expert": -1}),
        &[(30.0, 0.0)],
    );
    let p1 = json!({"kind": "log1p_max", "baseline": 2, "upper": 10});
    table(
        &p1,
        &[
            (3.0, 51.139_159_446_938_564),
            (0.0, 0.0),
            (10.0, 100.0),
            (50.0, 100.0),
        ],
    );
    table(
        &json!({"kind": "log1p_max", "baseline": -2, "upper": 10}),
        &[(3.0, 0.0)],
    );
    // upper/baseline underflows to 0: the denominator ln(1 + 0) is 0.
    table(
        &json!({"kind": "log1p_max", "baseline": 1e300, "upper": 1e-300}),
        &[(1.0, NAN)],
    );
    let min = json!({"kind": "log_min", "baseline": 100, "expert": 5});
    table(
        &min,
        &[
            (30.0, 40.189_599_549_815_625),
            (200.0, 0.0),
            (1.0, 100.0),
            (0.0, 0.0),
        ],
    );
    table(
        &json!({"kind": "log_min", "baseline": 5, "expert": 5}),
        &[(3.0, 0.0)],
    );
    table(
        &json!({"kind": "log_min", "baseline": 100, "expert": 0}),
        &[(3.0, 0.0)],
    );
}

#[test]
fn piecewise_max_bands() {
    let spec = json!({"kind": "piecewise_max", "baseline": 10, "rank30": 20, "rank1": 40, "super_anchor": 50});
    table(
        &spec,
        &[
            (5.0, 0.0),
            (10.0, 0.0),
            (15.0, 10.0),
            (20.0, 20.0),
            (30.0, 50.0),
            (40.0, 80.0),
        ],
    );
    table(&spec, &[(45.0, 90.0), (50.0, 100.0), (60.0, 100.0)]);
    let equal = json!({"kind": "piecewise_max", "baseline": 10, "rank30": 20, "rank1": 40, "super_anchor": 40});
    table(&equal, &[(5.0, NAN), (45.0, NAN)]);
}

#[test]
fn piecewise_min_bands() {
    let spec = json!({"kind": "piecewise_min", "baseline": 100, "rank30": 50, "rank1": 10, "super_anchor": 2});
    table(
        &spec,
        &[
            (150.0, 0.0),
            (100.0, 0.0),
            (0.0, 0.0),
            (-1.0, 0.0),
            (75.0, 10.0),
            (50.0, 20.0),
        ],
    );
    table(
        &spec,
        &[
            (30.0, 50.0),
            (10.0, 80.0),
            (6.0, 90.0),
            (2.0, 100.0),
            (1.0, 100.0),
        ],
    );
    let equal = json!({"kind": "piecewise_min", "baseline": 100, "rank30": 100, "rank1": 10, "super_anchor": 2});
    table(&equal, &[(30.0, NAN)]);
}

#[test]
fn piecewise_log_min_bands() {
    let spec = json!({"kind": "piecewise_log_min", "baseline": 100, "rank30": 50, "rank1": 10, "super_anchor": 2});
    table(
        &spec,
        &[
            (70.0, 10.291_463_456_595_165),
            (20.0, 54.159_406_515_596_416),
            (5.0, 88.613_531_161_467_86),
        ],
    );
    table(
        &spec,
        &[
            (1.0, 100.0),
            (100.0, 0.0),
            (-1.0, 0.0),
            (50.0, 20.0),
            (10.0, 80.0),
        ],
    );
    let zero = json!({"kind": "piecewise_log_min", "baseline": 100, "rank30": 50, "rank1": 10, "super_anchor": 0});
    table(&zero, &[(30.0, 0.0)]);
    let equal = json!({"kind": "piecewise_log_min", "baseline": 100, "rank30": 50, "rank1": 50, "super_anchor": 2});
    table(&equal, &[(30.0, NAN)]);
}

#[test]
fn unknown_or_missing_kind_clips() {
    for spec in [json!({"kind": "mystery"}), json!({}), json!({"kind": 3})] {
        table(&spec, &[(150.0, 100.0), (-3.0, 0.0), (42.0, 42.0)]);
    }
}

#[test]
fn null_spec_or_non_finite_raw_is_null() {
    let spec = json!({"kind": "linear", "lower": 0, "upper": 1});
    assert_eq!(rescale(&Value::Null, Some(1.0)).unwrap(), None);
    for raw in [
        None,
        Some(f64::INFINITY),
        Some(f64::NEG_INFINITY),
        Some(NAN),
    ] {
        assert_eq!(rescale(&spec, raw).unwrap(), None);
    }
    // as in the reference, parameters are only looked at for a real value
    assert_eq!(rescale(&json!({"kind": "linear"}), None).unwrap(), None);
}

#[test]
fn missing_or_non_numeric_parameters_name_kind_and_parameter() {
    let err = rescale(&json!({"kind": "linear", "lower": 1}), Some(1.0)).unwrap_err();
    assert_eq!(
        err,
        RescaleError::MissingParameter {
            kind: "linear".into(),
            param: "upper"
        }
    );
    assert_eq!(
        err.to_string(),
        "rescale kind `linear` needs the parameter `upper`"
    );
    let spec = json!({"kind": "piecewise_min", "baseline": 1, "rank30": 1, "rank1": "x"});
    assert!(matches!(
        rescale(&spec, Some(1.0)),
        Err(RescaleError::InvalidParameter { param: "rank1", .. })
    ));
    assert!(matches!(
        rescale(&json!("linear"), Some(1.0)),
        Err(RescaleError::NotAnObject(_))
    ));
}

#[test]
fn validate_rejects_what_rescale_refuses_and_warns_about_the_rest() {
    assert_eq!(
        validate(&json!({"kind": "log_max", "baseline": 1, "expert": 9})),
        Ok(vec![])
    );
    assert_eq!(validate(&Value::Null), Ok(vec![]));
    assert_eq!(
        validate(&json!({"kind": "nope"})),
        Ok(vec![RescaleWarning::UnknownKind("nope".into())])
    );
    assert_eq!(validate(&json!({})), Ok(vec![RescaleWarning::MissingKind]));
    let missing =
        validate(&json!({"kind": "piecewise_max", "baseline": 1, "rank30": 2, "rank1": 3}));
    assert_eq!(
        missing,
        Err(RescaleError::MissingParameter {
            kind: "piecewise_max".into(),
            param: "super_anchor"
        })
    );
    let equal = validate(&json!({"kind": "linear", "lower": 2, "upper": 2})).unwrap();
    assert_eq!(equal.len(), 1);
    let anchors = json!({"kind": "log_anchor", "anchor_raw": 80, "anchor_score": 80});
    assert_eq!(validate(&anchors), Ok(vec![]));
}

#[test]
fn every_kind_is_validated_with_its_parameters() {
    for kind in super::super::KINDS {
        let all = json!({"kind": kind, "lower": 1, "upper": 9, "baseline": 9, "expert": 1,
            "anchor_raw": 5, "anchor_score": 50, "rank30": 7, "rank1": 4, "super_anchor": 2});
        assert_eq!(validate(&all), Ok(vec![]), "{kind}");
        assert!(rescale(&all, Some(3.0)).unwrap().is_some(), "{kind}");
        assert!(validate(&json!({"kind": kind})).is_err(), "{kind}");
    }
}
