//! `WWW-Authenticate` challenges (RFC 7235): a scheme, then `key=value` parameters whose values
//! may be quoted strings holding commas and `\"` escapes. One header may carry several.

use std::collections::BTreeMap;

/// One authentication challenge: the scheme (lower-cased) and its parameters (keys lower-cased).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    pub scheme: String,
    pub params: BTreeMap<String, String>,
}

impl Challenge {
    #[must_use]
    pub fn param(&self, key: &str) -> Option<&str> {
        self.params.get(key).map(String::as_str)
    }
}

/// A cursor over the header text.
struct Scanner<'a> {
    text: &'a str,
    pos: usize,
}

impl Scanner<'_> {
    fn skip(&mut self, chars: &[char]) {
        while let Some(c) = self.text[self.pos..].chars().next() {
            if !chars.contains(&c) {
                break;
            }
            self.pos += c.len_utf8();
        }
    }

    fn peek(&self) -> Option<char> {
        self.text[self.pos..].chars().next()
    }

    /// A token: everything up to whitespace, `,`, `=` or a quote.
    fn token(&mut self) -> &str {
        let start = self.pos;
        while let Some(c) = self.peek() {
            if c.is_whitespace() || matches!(c, ',' | '=' | '"') {
                break;
            }
            self.pos += c.len_utf8();
        }
        &self.text[start..self.pos]
    }

    /// A quoted string after its opening quote, unescaped; ends at the closing quote (or the
    /// end of the text).
    fn quoted(&mut self) -> String {
        let mut value = String::new();
        let mut escaped = false;
        for c in self.text[self.pos..].chars() {
            self.pos += c.len_utf8();
            if escaped {
                value.push(c);
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                return value;
            } else {
                value.push(c);
            }
        }
        value
    }
}

/// Every challenge in `header`, in order. Malformed parts are skipped, never an error: the
/// caller reports what it was missing.
#[must_use]
pub fn parse(header: &str) -> Vec<Challenge> {
    let mut s = Scanner {
        text: header,
        pos: 0,
    };
    let mut challenges: Vec<Challenge> = Vec::new();
    loop {
        s.skip(&[' ', '\t', ',']);
        let word = s.token().to_owned();
        if word.is_empty() {
            if s.peek().is_none() {
                return challenges;
            }
            // A stray `=` or quote: drop one character and go on.
            s.pos += s.peek().map_or(1, char::len_utf8);
            continue;
        }
        s.skip(&[' ', '\t']);
        if s.peek() == Some('=') {
            s.pos += 1;
            s.skip(&[' ', '\t']);
            let value = if s.peek() == Some('"') {
                s.pos += 1;
                s.quoted()
            } else {
                s.token().to_owned()
            };
            if let Some(current) = challenges.last_mut() {
                current.params.insert(word.to_ascii_lowercase(), value);
            }
        } else {
            challenges.push(Challenge {
                scheme: word.to_ascii_lowercase(),
                params: BTreeMap::new(),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bearer_challenge_with_commas_inside_quotes() {
        let found = parse(
            r#"Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:team/app:pull,push""#,
        );
        assert_eq!(found.len(), 1);
        let c = &found[0];
        assert_eq!(c.scheme, "bearer");
        assert_eq!(c.param("realm"), Some("https://auth.example.com/token"));
        assert_eq!(c.param("service"), Some("registry.example.com"));
        assert_eq!(c.param("scope"), Some("repository:team/app:pull,push"));
    }

    #[test]
    fn escapes_spaces_tokens_and_case() {
        let found = parse(
            r#"BEARER Realm = "a \"quoted\" realm" , Service=plain ,error=insufficient_scope"#,
        );
        assert_eq!(found[0].scheme, "bearer");
        assert_eq!(found[0].param("realm"), Some(r#"a "quoted" realm"#));
        assert_eq!(found[0].param("service"), Some("plain"));
        assert_eq!(found[0].param("error"), Some("insufficient_scope"));
    }

    #[test]
    fn several_challenges_in_one_header() {
        let found =
            parse(r#"Basic realm="Registry Realm", Bearer realm="https://a/t",service="s""#);
        let schemes: Vec<&str> = found.iter().map(|c| c.scheme.as_str()).collect();
        assert_eq!(schemes, ["basic", "bearer"]);
        assert_eq!(found[0].param("realm"), Some("Registry Realm"));
        assert_eq!(found[1].param("service"), Some("s"));
    }

    #[test]
    fn malformed_headers_give_what_can_be_read() {
        assert!(parse("").is_empty());
        assert_eq!(parse("Basic")[0].scheme, "basic");
        let found = parse(r#"Bearer realm="unterminated, service=x"#);
        assert_eq!(found[0].param("realm"), Some("unterminated, service=x"));
        let found = parse(r#"="x" Bearer realm=r"#);
        assert_eq!(found.last().unwrap().param("realm"), Some("r"));
    }
}
