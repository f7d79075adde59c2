//! The value constructors of `PyYAML`'s `SafeConstructor` for booleans, integers and floats, used
//! for resolved plain scalars and for explicitly tagged ones alike.

use super::problem::Problem;
use super::value::Yaml;

pub(super) fn construct_bool(value: &str) -> Result<Yaml, Problem> {
    match value.to_lowercase().as_str() {
        "yes" | "true" | "on" => Ok(Yaml::Bool(true)),
        "no" | "false" | "off" => Ok(Yaml::Bool(false)),
        _ => Err(Problem::Bool(value.to_owned())),
    }
}

/// Splits the leading sign off, as `PyYAML` does (`-` negates, `+` is dropped).
fn split_sign<'a>(value: &'a str, original: &str) -> Result<(bool, &'a str), Problem> {
    match value.as_bytes().first() {
        None => Err(Problem::NotNumber(original.to_owned())),
        Some(b'-') => Ok((true, &value[1..])),
        Some(b'+') => Ok((false, &value[1..])),
        Some(_) => Ok((false, value)),
    }
}

/// `PyYAML`'s `construct_yaml_int`: `_` dropped, `0b`/`0x`/leading-`0` octal/`a:b:c` base 60.
pub(super) fn construct_int(value: &str) -> Result<Yaml, Problem> {
    let cleaned = value.replace('_', "");
    let (negative, rest) = split_sign(&cleaned, value)?;
    let int = if rest == "0" {
        0
    } else if let Some(digits) = rest.strip_prefix("0b") {
        py_int(digits, 2, negative, value)?
    } else if let Some(digits) = rest.strip_prefix("0x") {
        py_int(digits, 16, negative, value)?
    } else if rest.starts_with('0') {
        py_int(rest, 8, negative, value)?
    } else if rest.contains(':') {
        let mut total: i128 = 0;
        for part in rest.split(':') {
            let part = py_int(part, 10, false, value)?;
            total = total
                .checked_mul(60)
                .and_then(|t| t.checked_add(part))
                .ok_or_else(|| too_big(value))?;
        }
        if negative {
            total.checked_neg().ok_or_else(|| too_big(value))?
        } else {
            total
        }
    } else {
        py_int(rest, 10, negative, value)?
    };
    Ok(Yaml::Int(int))
}

fn too_big(value: &str) -> Problem {
    Problem::TooBig(value.to_owned())
}

/// Python's `int(text, radix)` for ASCII text: surrounding whitespace, a sign, and for radix
/// 2, 8 and 16 the matching `0b`/`0o`/`0x` prefix are accepted. `negate` applies `PyYAML`'s
/// own sign, so that `i128::MIN` is reachable.
fn py_int(text: &str, radix: u32, negate: bool, original: &str) -> Result<i128, Problem> {
    let invalid = || Problem::Int(original.to_owned());
    let text = text.trim();
    let (negative, mut digits) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let prefix = match radix {
        2 => "0b",
        8 => "0o",
        16 => "0x",
        _ => "",
    };
    if !prefix.is_empty() && digits.len() > 2 && digits[..2].eq_ignore_ascii_case(prefix) {
        digits = &digits[2..];
    }
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return Err(invalid());
    }
    let magnitude = u128::from_str_radix(digits, radix).map_err(|_| too_big(original))?;
    let value = if negative ^ negate {
        0i128.checked_sub_unsigned(magnitude)
    } else {
        i128::try_from(magnitude).ok()
    };
    value.ok_or_else(|| too_big(original))
}

/// `PyYAML`'s `construct_yaml_float`: `_` dropped, `.inf`/`.nan`, `a:b.c` base 60, else `float()`.
pub(super) fn construct_float(value: &str) -> Result<Yaml, Problem> {
    let cleaned = value.replace('_', "").to_lowercase();
    let (negative, rest) = split_sign(&cleaned, value)?;
    let magnitude = if rest == ".inf" {
        f64::INFINITY
    } else if rest == ".nan" {
        f64::NAN
    } else if rest.contains(':') {
        // Summed from the last part up, in the same order as PyYAML, for identical rounding.
        let parts = rest
            .split(':')
            .map(|p| py_float(p, value))
            .collect::<Result<Vec<_>, _>>()?;
        let (mut total, mut base) = (0.0, 1.0);
        for part in parts.iter().rev() {
            total += part * base;
            base *= 60.0;
        }
        total
    } else {
        py_float(rest, value)?
    };
    Ok(Yaml::Float(if negative { -magnitude } else { magnitude }))
}

/// Python's `float(text)`: decimal or scientific notation, `inf`, `infinity`, `nan`.
fn py_float(text: &str, original: &str) -> Result<f64, Problem> {
    text.trim()
        .parse::<f64>()
        .map_err(|_| Problem::Float(original.to_owned()))
}
