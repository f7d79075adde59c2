//! Python `fnmatch.fnmatchcase` semantics (`*`, `?`, `[seq]`, `[!seq]`), as the reference uses
//! for `submit_exclude`. `*` and `?` match `/` too; matching is case-sensitive.

/// One pattern element; every element but `Star` consumes exactly one character.
#[derive(Debug, Clone, PartialEq)]
enum Token {
    Literal(char),
    AnyChar,
    Star,
    /// A bracket expression: inclusive ranges (a single character is `(c, c)`), maybe negated.
    Class {
        negated: bool,
        ranges: Vec<(char, char)>,
    },
}

/// Whether `name` matches the shell-style `pattern` exactly as Python's `fnmatch` would on Linux.
#[must_use]
pub fn fnmatch(name: &str, pattern: &str) -> bool {
    let tokens = parse(pattern);
    let name: Vec<char> = name.chars().collect();
    matches(&name, &tokens)
}

/// Iterative wildcard matching with single-star backtracking: O(len(name) * len(pattern)).
fn matches(name: &[char], tokens: &[Token]) -> bool {
    let (mut n, mut t) = (0, 0);
    let mut backtrack: Option<(usize, usize)> = None;
    while n < name.len() {
        match tokens.get(t) {
            Some(Token::Star) => {
                backtrack = Some((t, n));
                t += 1;
            }
            Some(token) if accepts(token, name[n]) => {
                n += 1;
                t += 1;
            }
            _ => match backtrack {
                Some((star, from)) => {
                    t = star + 1;
                    n = from + 1;
                    backtrack = Some((star, from + 1));
                }
                None => return false,
            },
        }
    }
    tokens[t..].iter().all(|token| *token == Token::Star)
}

fn accepts(token: &Token, c: char) -> bool {
    match token {
        Token::Literal(l) => *l == c,
        Token::AnyChar => true,
        Token::Star => false,
        Token::Class { negated, ranges } => {
            ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi) != *negated
        }
    }
}

fn parse(pattern: &str) -> Vec<Token> {
    let p: Vec<char> = pattern.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < p.len() {
        let c = p[i];
        i += 1;
        match c {
            '*' => {
                if tokens.last() != Some(&Token::Star) {
                    tokens.push(Token::Star);
                }
            }
            '?' => tokens.push(Token::AnyChar),
            '[' => match class_end(&p, i) {
                Some(end) => {
                    tokens.push(parse_class(&p[i..end]));
                    i = end + 1;
                }
                None => tokens.push(Token::Literal('[')),
            },
            _ => tokens.push(Token::Literal(c)),
        }
    }
    tokens
}

/// Index of the `]` closing a class whose body starts at `start`; a `]` right after `[` or `[!`
/// is literal. `None` means the `[` is a literal character.
fn class_end(p: &[char], start: usize) -> Option<usize> {
    let mut j = start;
    if p.get(j) == Some(&'!') {
        j += 1;
    }
    if p.get(j) == Some(&']') {
        j += 1;
    }
    (j..p.len()).find(|&k| p[k] == ']')
}

/// Parses a class body (between `[` and `]`) the way `fnmatch.translate` splits it into chunks at
/// range hyphens, drops reversed ranges, and treats every other character literally.
fn parse_class(body: &[char]) -> Token {
    let (negated, body) = match body.split_first() {
        Some(('!', rest)) => (true, rest),
        _ => (false, body),
    };
    let mut chunks: Vec<Vec<char>> = Vec::new();
    let (mut from, mut k) = (0, 1);
    while let Some(h) = (k..body.len()).find(|&h| body[h] == '-') {
        chunks.push(body[from..h].to_vec());
        from = h + 1;
        k = h + 3;
    }
    let tail = body.get(from..).unwrap_or_default();
    match chunks.last_mut() {
        Some(last) if tail.is_empty() => last.push('-'),
        _ => chunks.push(tail.to_vec()),
    }
    for k in (1..chunks.len()).rev() {
        let (prev_last, first) = (chunks[k - 1].last().copied(), chunks[k].first().copied());
        if let (Some(a), Some(b)) = (prev_last, first) {
            if a > b {
                let rest = chunks.remove(k);
                chunks[k - 1].pop();
                chunks[k - 1].extend_from_slice(&rest[1..]);
            }
        }
    }
    Token::Class {
        negated,
        ranges: ranges_of(&chunks),
    }
}

/// Chunks joined by range hyphens: the last char of one chunk and the first of the next form a
/// range; all other characters stand for themselves.
fn ranges_of(chunks: &[Vec<char>]) -> Vec<(char, char)> {
    let mut ranges: Vec<(char, char)> = Vec::new();
    for (k, chunk) in chunks.iter().enumerate() {
        let skip_first = usize::from(k > 0);
        let skip_last = usize::from(k + 1 < chunks.len());
        let end = chunk.len().saturating_sub(skip_last).max(skip_first);
        ranges.extend(chunk[skip_first..end].iter().map(|&c| (c, c)));
        if k + 1 < chunks.len() {
            if let (Some(&lo), Some(&hi)) = (chunk.last(), chunks[k + 1].first()) {
                ranges.push((lo, hi));
            }
        }
    }
    ranges
}

#[cfg(test)]
mod tests {
    use super::fnmatch;

    /// Expected values checked against `CPython` 3.12 `fnmatch.fnmatchcase`.
    #[test]
    fn matches_like_python() {
        let table: &[(&str, &str, bool)] = &[
            ("tests", "tests", true),
            ("tests", "test", false),
            ("a.py", "*.py", true),
            ("src/a.py", "*.py", true),
            ("src/a.py", "src*", true),
            ("src/a.py", "s?c/a.py", true),
            ("src/a.py", "src?a.py", true),
            ("", "*", true),
            ("", "?", false),
            ("abc", "a*b*c", true),
            ("abcbc", "a*bc", true),
            ("ab", "a*b*c", false),
            ("Tests", "tests", false),
            ("a", "[abc]", true),
            ("d", "[abc]", false),
            ("d", "[!abc]", true),
            ("a", "[!abc]", false),
            ("/", "[!abc]", true),
            ("m", "[a-z]", true),
            ("M", "[a-z]", false),
            ("-", "[a-]", true),
            ("-", "[-a]", true),
            ("]", "[]]", true),
            ("]", "[!]]", false),
            ("x", "[!]]", true),
            ("[", "[", true),
            ("[ab", "[ab", true),
            ("a", "[z-a]", false),
            ("a", "[!z-a]", true),
            ("-", "[a-c-e]", true),
            ("d", "[a-c-e]", false),
            ("e", "[a-c-e]", true),
            ("^", "[^a]", true),
            ("b", "[^a]", false),
            ("\\", "[\\]", true),
            ("x.pyc", "*.py[co]", true),
            ("x.pyx", "*.py[co]", false),
            ("tests/sub/x", "tests/*", true),
            ("a\nb", "a?b", true),
        ];
        for &(name, pattern, expected) in table {
            assert_eq!(
                fnmatch(name, pattern),
                expected,
                "fnmatch({name:?}, {pattern:?})"
            );
        }
    }

    #[test]
    fn star_heavy_pattern_is_fast() {
        let name = "a".repeat(4000);
        let pattern = format!("{}b", "*a".repeat(200));
        assert!(!fnmatch(&name, &pattern));
    }
}
