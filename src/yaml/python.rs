//! Python semantics over loaded values: `str()`/`repr()` rendering and the key equality that
//! makes two YAML keys the same dict key (`1 == 1.0 == True`).

use super::value::Yaml;
use std::fmt::Write as _;

/// Python's `repr(float)`: the shortest digits that round-trip, in fixed notation when the
/// decimal exponent is in `-4..16` (always with a fractional part), else `d.ddde±XX`.
#[must_use]
pub fn float_repr(x: f64) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.into();
    }
    // `{:e}` finds how many digits the shortest round-trip form needs ("1.2345e-7" needs 5);
    // formatting exactly to that precision then breaks ties to even, as Python does
    // (1059438285926254.25 is "…254.2", where the shortest-digits search says "…254.3").
    let shortest = format!("{:e}", x.abs());
    let count = shortest
        .split('e')
        .next()
        .map_or(1, |m| m.bytes().filter(u8::is_ascii_digit).count());
    let sci = format!("{:.*e}", count.saturating_sub(1), x.abs());
    let (mantissa, exponent) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let sign = if x.is_sign_negative() { "-" } else { "" };
    if (-4..16).contains(&exponent) {
        format!("{sign}{}", fixed_notation(&digits, exponent))
    } else {
        let (first, rest) = digits.split_at(1);
        let fraction = if rest.is_empty() {
            String::new()
        } else {
            format!(".{rest}")
        };
        let exp_sign = if exponent < 0 { '-' } else { '+' };
        format!(
            "{sign}{first}{fraction}e{exp_sign}{:02}",
            exponent.unsigned_abs()
        )
    }
}

/// Places the decimal point in `digits` (d.ddd × 10^exponent), adding `.0` to whole numbers.
fn fixed_notation(digits: &str, exponent: i32) -> String {
    let point = exponent + 1;
    match usize::try_from(point) {
        Ok(point) if point >= digits.len() => {
            format!("{digits}{}.0", "0".repeat(point - digits.len()))
        }
        Ok(point) if point > 0 => format!("{}.{}", &digits[..point], &digits[point..]),
        _ => format!("0.{}{digits}", "0".repeat(point.unsigned_abs() as usize)),
    }
}

/// Python's `str()` of the value; collections render like their `repr()`.
pub(super) fn to_str(value: &Yaml) -> String {
    match value {
        Yaml::Str(s) => s.clone(),
        other => repr(other),
    }
}

pub(super) fn repr(value: &Yaml) -> String {
    match value {
        Yaml::Null => "None".into(),
        Yaml::Bool(true) => "True".into(),
        Yaml::Bool(false) => "False".into(),
        Yaml::Int(i) => i.to_string(),
        Yaml::Float(f) => float_repr(*f),
        Yaml::Str(s) => str_repr(s),
        Yaml::Seq(items) => {
            let items: Vec<String> = items.iter().map(repr).collect();
            format!("[{}]", items.join(", "))
        }
        Yaml::Map(entries) => {
            let entries: Vec<String> = entries
                .iter()
                .map(|(k, v)| format!("{}: {}", repr(k), repr(v)))
                .collect();
            format!("{{{}}}", entries.join(", "))
        }
    }
}

/// Python's `repr(str)`: single quotes unless the text has `'` but no `"`.
fn str_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if u32::from(c) < 0x20 || ('\u{7f}'..='\u{a0}').contains(&c) => {
                let _ = write!(out, "\\x{:02x}", u32::from(c));
            }
            c if is_unprintable_format_or_space(c) => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// The common non-ASCII characters Python's `repr` escapes (separators, invisible formatting).
fn is_unprintable_format_or_space(c: char) -> bool {
    matches!(
        c,
        '\u{ad}'
            | '\u{1680}'
            | '\u{2000}'..='\u{200f}'
            | '\u{2028}'..='\u{202f}'
            | '\u{205f}'..='\u{2064}'
            | '\u{3000}'
            | '\u{feff}'
    )
}

/// Whether two keys are the same Python dict key (`==` on hashable values).
pub(super) fn is_same_key(a: &Yaml, b: &Yaml) -> bool {
    match (a, b) {
        (Yaml::Null, Yaml::Null) => true,
        (Yaml::Str(x), Yaml::Str(y)) => x == y,
        _ => match (as_number(a), as_number(b)) {
            (Some(Number::Int(x)), Some(Number::Int(y))) => x == y,
            // Python compares floats exactly. PyYAML returns one shared NaN object for `.nan`,
            // so repeated `.nan` keys are the same dict key even though NaN != NaN.
            #[allow(clippy::float_cmp)]
            (Some(Number::Float(x)), Some(Number::Float(y))) => {
                x == y || (x.is_nan() && y.is_nan())
            }
            (Some(Number::Int(i)), Some(Number::Float(f)))
            | (Some(Number::Float(f)), Some(Number::Int(i))) => float_as_int(f) == Some(i),
            _ => false,
        },
    }
}

enum Number {
    Int(i128),
    Float(f64),
}

fn as_number(value: &Yaml) -> Option<Number> {
    match value {
        Yaml::Bool(b) => Some(Number::Int(i128::from(*b))),
        Yaml::Int(i) => Some(Number::Int(*i)),
        Yaml::Float(f) => Some(Number::Float(*f)),
        _ => None,
    }
}

/// The float as an exact integer, if it is one that fits in `i128`.
#[allow(clippy::cast_possible_truncation)] // range and integrality are checked first
fn float_as_int(f: f64) -> Option<i128> {
    // 2^127 is exactly representable; every integral float below it fits.
    const LIMIT: f64 = 170_141_183_460_469_231_731_687_303_715_884_105_728.0;
    (f.fract() == 0.0 && (-LIMIT..LIMIT).contains(&f)).then_some(f as i128)
}

impl Yaml {
    /// What Python's `str()` prints for the loaded value (`None`, `True`, `1.0`, `['a', 1]`...).
    #[must_use]
    pub fn to_python_str(&self) -> String {
        to_str(self)
    }
}
