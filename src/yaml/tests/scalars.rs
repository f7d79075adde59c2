//! The plain-scalar resolvers and explicit tags, checked against `PyYAML` 6.0 `safe_load`.

use super::{load, repr};
use crate::yaml::Yaml::{self, Bool as B, Float as F, Int as I, Null as N, Str};

#[allow(non_snake_case)]
fn S(s: &str) -> Yaml {
    Str(s.to_owned())
}

/// Plain and quoted scalars with the `repr()` of what `PyYAML` loads for `k: <input>`.
const SCALARS: &[(&str, &str)] = &[
    ("~", "None"),
    ("null", "None"),
    ("Null", "None"),
    ("NULL", "None"),
    ("nULL", "'nULL'"),
    ("''", "''"),
    ("yes", "True"),
    ("Yes", "True"),
    ("YES", "True"),
    ("yES", "'yES'"),
    ("no", "False"),
    ("No", "False"),
    ("NO", "False"),
    ("true", "True"),
    ("True", "True"),
    ("TRUE", "True"),
    ("tRUE", "'tRUE'"),
    ("false", "False"),
    ("False", "False"),
    ("FALSE", "False"),
    ("on", "True"),
    ("On", "True"),
    ("ON", "True"),
    ("off", "False"),
    ("Off", "False"),
    ("OFF", "False"),
    ("y", "'y'"),
    ("n", "'n'"),
    ("0", "0"),
    ("-0", "0"),
    ("+0", "0"),
    ("00", "0"),
    ("012", "10"),
    ("-012", "-10"),
    ("08", "'08'"),
    ("0o12", "'0o12'"),
    ("0b101", "5"),
    ("-0b101", "-5"),
    ("+0b1_0", "2"),
    ("0b2", "'0b2'"),
    ("0x1F", "31"),
    ("0X1F", "'0X1F'"),
    ("-0x_ff", "-255"),
    ("1_000", "1000"),
    ("+1", "1"),
    ("-1", "-1"),
    ("+12_3", "123"),
    ("1__0", "10"),
    ("_1", "'_1'"),
    ("1_", "1"),
    ("0_", "0"),
    ("0_7", "7"),
    ("1:30", "90"),
    ("1:5", "65"),
    ("-1:30", "-90"),
    ("1:60", "'1:60'"),
    ("0:30", "'0:30'"),
    ("190:20:30", "685230"),
    ("12:3a", "'12:3a'"),
    ("1.", "1.0"),
    ("0.", "0.0"),
    ("-1.", "-1.0"),
    ("1._", "1.0"),
    ("1.5", "1.5"),
    ("-1.5", "-1.5"),
    ("+1.5", "1.5"),
    (".5", "0.5"),
    ("-.5", "'-.5'"),
    ("+.5", "'+.5'"),
    ("._5", "'._5'"),
    ("1e5", "'1e5'"),
    ("1E5", "'1E5'"),
    ("1.0e5", "'1.0e5'"),
    ("1.0e+5", "100000.0"),
    ("1.0E-5", "1e-05"),
    ("1.e+5", "100000.0"),
    (".5e+3", "500.0"),
    (".5e3", "'.5e3'"),
    ("1.5e+", "'1.5e+'"),
    ("1_000.5", "1000.5"),
    ("1:30.5", "90.5"),
    ("0:30.5", "30.5"),
    ("-1:30.5", "-90.5"),
    ("190:20:30.15", "685230.15"),
    ("1:60.5", "'1:60.5'"),
    (".inf", "inf"),
    (".Inf", "inf"),
    (".INF", "inf"),
    ("-.inf", "-inf"),
    ("+.inf", "inf"),
    (".iNf", "'.iNf'"),
    ("inf", "'inf'"),
    (".nan", "nan"),
    (".NaN", "nan"),
    (".NAN", "nan"),
    ("-.nan", "'-.nan'"),
    ("nan", "'nan'"),
    ("==", "'=='"),
    ("a=b", "'a=b'"),
    ("<<<", "'<<<'"),
    ("1.7976931348623157e+308", "1.7976931348623157e+308"),
    ("1.0e+309", "inf"),
    (
        "170141183460469231731687303715884105727",
        "170141183460469231731687303715884105727",
    ),
    (
        "-170141183460469231731687303715884105727",
        "-170141183460469231731687303715884105727",
    ),
    (
        "0x7fffffffffffffffffffffffffffffff",
        "170141183460469231731687303715884105727",
    ),
    ("hello", "'hello'"),
    ("1a", "'1a'"),
    ("--", "'--'"),
    ("-a", "'-a'"),
    (".", "'.'"),
    (":a", "':a'"),
    ("'yes'", "'yes'"),
    ("\"no\"", "'no'"),
    ("'1'", "'1'"),
    ("\"1.5\"", "'1.5'"),
    ("\"null\"", "'null'"),
    ("'a''b'", "\"a'b\""),
    ("2001-12-1", "'2001-12-1'"),
    ("20011-12-14", "'20011-12-14'"),
    ("", "None"),
];

#[test]
fn scalars_resolve_like_pyyaml() {
    for (input, expected) in SCALARS {
        let doc = load(&format!("k: {input}"));
        assert_eq!(repr(doc.get("k").expect("key k")), *expected, "k: {input}");
    }
}

/// Explicit tags run `PyYAML`'s constructors, which are laxer than the implicit resolvers.
#[test]
fn explicit_tags_construct_like_pyyaml() {
    let cases = [
        ("!!str 123", S("123")),
        ("!!str yes", S("yes")),
        ("!!str 1.5", S("1.5")),
        ("!!int '12'", I(12)),
        ("!!int '0o12'", I(10)),
        ("!!int 1:30", I(90)),
        ("!!int '-0b11'", I(-3)),
        ("!!float 1", F(1.0)),
        ("!!float '1e5'", F(100_000.0)),
        ("!!float '1_0'", F(10.0)),
        ("!!float 1:30", F(90.0)),
        ("!!float inf", F(f64::INFINITY)),
        ("!!bool yes", B(true)),
        ("!!bool OFF", B(false)),
        ("!!null abc", N),
        ("! 123", I(123)),
        ("! '123'", I(123)),
        ("!<tag:yaml.org,2002:int> '5'", I(5)),
        ("!<tag:yaml.org,2002:str> 5", S("5")),
    ];
    for (input, expected) in cases {
        assert_eq!(repr(&load(input)), repr(&expected), "{input}");
    }
}

#[test]
fn quoted_scalars_are_always_strings() {
    for input in [
        "'yes'",
        "\"1\"",
        "'null'",
        "\"~\"",
        "'1.5'",
        "'2001-12-14'",
        "\"0x1F\"",
    ] {
        assert!(matches!(load(input), Str(_)), "{input}");
    }
    assert_eq!(load("k: |\n  123\n").get("k"), Some(&S("123\n")));
    assert_eq!(load("k: >-\n  yes\n").get("k"), Some(&S("yes")));
}

#[test]
fn nan_loads_as_nan() {
    assert!(matches!(load(".nan"), F(f) if f.is_nan()));
    assert!(matches!(load("-.inf"), F(f) if f == f64::NEG_INFINITY));
    assert!(matches!(load("-0.0"), F(f) if f == 0.0 && f.is_sign_negative()));
}
