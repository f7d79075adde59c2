//! Scalar typing as `PyYAML`'s `SafeLoader` does it: the YAML 1.1 implicit resolvers for plain
//! scalars, and the explicit `!!str`, `!!int`, `!!float`, `!!bool` and `!!null` tags.

use super::construct::{construct_bool, construct_float, construct_int};
use super::problem::Problem;
use super::value::{Yaml, STD_TAG};

/// What a scalar node turns into.
#[derive(Debug, PartialEq)]
pub(super) enum Scalar {
    Value(Yaml),
    /// `<<`: a merge key (only meaningful as a mapping key).
    Merge,
    /// `=`: `PyYAML`'s "value" key (a string as a mapping key, an error elsewhere).
    Equals,
}

/// Types a scalar. `plain` is whether it was written unquoted; `tag` is the full expanded tag.
pub(super) fn scalar(value: &str, plain: bool, tag: Option<&str>) -> Result<Scalar, Problem> {
    match tag {
        None if plain => implicit(value),
        None => Ok(Scalar::Value(Yaml::Str(value.to_owned()))),
        // The non-specific tag `!` makes even a quoted scalar go through the resolvers.
        Some("!") => implicit(value),
        Some(tag) => explicit(value, tag),
    }
}

fn explicit(value: &str, tag: &str) -> Result<Scalar, Problem> {
    let std = tag.strip_prefix(STD_TAG);
    let typed = match std {
        Some("str") => Yaml::Str(value.to_owned()),
        Some("null") => Yaml::Null,
        Some("bool") => construct_bool(value)?,
        Some("int") => construct_int(value)?,
        Some("float") => construct_float(value)?,
        Some("merge") => return Ok(Scalar::Merge),
        Some("value") => return Ok(Scalar::Equals),
        Some("seq") => return Err(wrong_node("sequence", "scalar")),
        Some("map") => return Err(wrong_node("mapping", "scalar")),
        _ => return Err(Problem::UnsupportedTag(tag.to_owned())),
    };
    Ok(Scalar::Value(typed))
}

fn wrong_node(expected: &'static str, found: &'static str) -> Problem {
    Problem::WrongNode { expected, found }
}

/// `PyYAML`'s implicit resolvers, tried in its order: bool, float, int, merge, null, timestamp,
/// value; anything else is a string.
fn implicit(value: &str) -> Result<Scalar, Problem> {
    let typed = if is_bool(value) {
        construct_bool(value)?
    } else if is_float(value) {
        construct_float(value)?
    } else if is_int(value) {
        construct_int(value)?
    } else if value == "<<" {
        return Ok(Scalar::Merge);
    } else if matches!(value, "" | "~" | "null" | "Null" | "NULL") {
        Yaml::Null
    } else if is_timestamp(value) {
        return Err(Problem::DateTime(value.to_owned()));
    } else if value == "=" {
        return Ok(Scalar::Equals);
    } else {
        Yaml::Str(value.to_owned())
    };
    Ok(Scalar::Value(typed))
}

fn is_bool(v: &str) -> bool {
    #[rustfmt::skip]
    const WORDS: [&str; 18] = [
        "yes", "Yes", "YES", "no", "No", "NO", "true", "True", "TRUE",
        "false", "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF",
    ];
    WORDS.contains(&v)
}

/// A cursor over the ASCII bytes of a scalar, for hand-written versions of `PyYAML`'s regexes.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn new(text: &'a str) -> Self {
        Cursor {
            bytes: text.as_bytes(),
            pos: 0,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn at_end(&self) -> bool {
        self.pos == self.bytes.len()
    }

    /// Consumes one byte if it satisfies `pred`.
    fn eat(&mut self, pred: impl Fn(u8) -> bool) -> bool {
        let hit = self.peek().is_some_and(pred);
        self.pos += usize::from(hit);
        hit
    }

    fn eat_byte(&mut self, b: u8) -> bool {
        self.eat(|c| c == b)
    }

    /// Consumes bytes while `pred` holds; returns how many.
    fn eat_while(&mut self, pred: impl Fn(u8) -> bool) -> usize {
        let start = self.pos;
        while self.eat(&pred) {}
        self.pos - start
    }

    fn eat_sign(&mut self) {
        self.eat(|c| c == b'-' || c == b'+');
    }

    fn eat_str(&mut self, s: &str) -> bool {
        let hit = self.bytes[self.pos..].starts_with(s.as_bytes());
        self.pos += if hit { s.len() } else { 0 };
        hit
    }

    /// Like [`Cursor::eat_while`] for an optional repetition: always matches.
    fn skip_while(&mut self, pred: impl Fn(u8) -> bool) -> bool {
        self.eat_while(pred);
        true
    }

    /// `[0-9][0-9_]*`
    fn eat_number(&mut self) -> bool {
        self.eat(is_digit) && self.skip_while(is_digit_or_underscore)
    }

    /// `(?::[0-5]?[0-9])+` (greedy is exact: what follows is never a digit).
    fn eat_sexagesimal(&mut self) -> bool {
        let mut groups = 0;
        while self.peek() == Some(b':') {
            let rest = &self.bytes[self.pos + 1..];
            let width = match rest {
                [b'0'..=b'5', b'0'..=b'9', ..] => 2,
                [b'0'..=b'9', ..] => 1,
                _ => return false,
            };
            self.pos += 1 + width;
            groups += 1;
        }
        groups > 0
    }

    /// `[eE][-+][0-9]+`, optional.
    fn eat_exponent(&mut self) -> bool {
        if !self.eat(|c| c == b'e' || c == b'E') {
            return true;
        }
        self.eat(|c| c == b'-' || c == b'+') && self.eat_while(is_digit) > 0
    }
}

fn is_digit(c: u8) -> bool {
    c.is_ascii_digit()
}

fn is_digit_or_underscore(c: u8) -> bool {
    c.is_ascii_digit() || c == b'_'
}

/// Runs `pattern` over the whole of `text`; true if it matched everything.
fn full_match(text: &str, pattern: impl Fn(&mut Cursor) -> bool) -> bool {
    let mut cursor = Cursor::new(text);
    pattern(&mut cursor) && cursor.at_end()
}

fn is_float(v: &str) -> bool {
    let decimal = |c: &mut Cursor| {
        c.eat_sign();
        c.eat_number()
            && c.eat_byte(b'.')
            && c.skip_while(is_digit_or_underscore)
            && c.eat_exponent()
    };
    let leading_point = |c: &mut Cursor| c.eat_byte(b'.') && c.eat_number() && c.eat_exponent();
    let sexagesimal = |c: &mut Cursor| {
        c.eat_sign();
        c.eat_number()
            && c.eat_sexagesimal()
            && c.eat_byte(b'.')
            && c.skip_while(is_digit_or_underscore)
    };
    let special = matches!(
        v,
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" | "-.inf" | "-.Inf" | "-.INF"
    ) || matches!(v, ".nan" | ".NaN" | ".NAN");
    special || full_match(v, decimal) || full_match(v, leading_point) || full_match(v, sexagesimal)
}

fn is_int(v: &str) -> bool {
    let prefixed = |prefix: &'static str, digit: fn(u8) -> bool| {
        move |c: &mut Cursor| {
            c.eat_sign();
            c.eat_str(prefix) && c.eat_while(|b| digit(b) || b == b'_') > 0
        }
    };
    let octal = |c: &mut Cursor| {
        c.eat_sign();
        c.eat_byte(b'0') && c.eat_while(|b| matches!(b, b'0'..=b'7' | b'_')) > 0
    };
    let decimal = |c: &mut Cursor| {
        c.eat_sign();
        c.eat_byte(b'0')
            || (c.eat(|b| matches!(b, b'1'..=b'9')) && c.skip_while(is_digit_or_underscore))
    };
    let sexagesimal = |c: &mut Cursor| {
        c.eat_sign();
        c.eat(|b| matches!(b, b'1'..=b'9'))
            && c.skip_while(is_digit_or_underscore)
            && c.eat_sexagesimal()
    };
    full_match(v, prefixed("0b", |b| matches!(b, b'0' | b'1')))
        || full_match(v, octal)
        || full_match(v, decimal)
        || full_match(v, prefixed("0x", |b| b.is_ascii_hexdigit()))
        || full_match(v, sexagesimal)
}

/// `YYYY-MM-DD`, or a date and time with optional fraction and zone, as `PyYAML` matches them.
fn is_timestamp(v: &str) -> bool {
    let digits = |c: &mut Cursor, min: usize, max: usize| {
        let n = c.eat_while(is_digit);
        (min..=max).contains(&n)
    };
    let date_only = |c: &mut Cursor| {
        digits(c, 4, 4)
            && c.eat_byte(b'-')
            && digits(c, 2, 2)
            && c.eat_byte(b'-')
            && digits(c, 2, 2)
    };
    let date_time = |c: &mut Cursor| {
        let date = digits(c, 4, 4)
            && c.eat_byte(b'-')
            && digits(c, 1, 2)
            && c.eat_byte(b'-')
            && digits(c, 1, 2);
        let separator =
            c.eat(|b| b == b'T' || b == b't') || c.eat_while(|b| b == b' ' || b == b'\t') > 0;
        let time = digits(c, 1, 2)
            && c.eat_byte(b':')
            && digits(c, 2, 2)
            && c.eat_byte(b':')
            && digits(c, 2, 2);
        if !(date && separator && time) {
            return false;
        }
        if c.eat_byte(b'.') {
            c.skip_while(is_digit);
        }
        if c.at_end() {
            return true;
        }
        c.eat_while(|b| b == b' ' || b == b'\t');
        c.eat_byte(b'Z')
            || (c.eat(|b| b == b'-' || b == b'+') && digits(c, 1, 2) && {
                !c.eat_byte(b':') || digits(c, 2, 2)
            })
    };
    full_match(v, date_only) || full_match(v, date_time)
}
