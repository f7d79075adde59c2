//! Reads the paths a Rust source file names: comments and literals blanked out, then tokens,
//! then every `use` tree and every other `a::b` path, with its line and scope.

/// One path a file names: its segments as written, the inline module it sits in, whether it is
/// a re-export (`pub use`), and the line (1-based) where it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathRef {
    pub segments: Vec<String>,
    /// The name it is known by in the scope (the alias, else the last segment).
    pub name: String,
    /// Inline modules (`mod tests { … }`) around it, outermost first.
    pub scope: Vec<String>,
    pub reexport: bool,
    pub line: usize,
}

/// What a file declares and names.
#[derive(Debug, Default)]
pub struct FileRefs {
    pub paths: Vec<PathRef>,
    /// Inline modules, as paths relative to the file's module.
    pub inline_modules: Vec<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Ident(String),
    PathSep,
    Punct(char),
}

/// Replaces comments, string, byte-string, raw-string and char literals with spaces, keeping
/// newlines, so that braces and paths inside them are not read as code.
#[must_use]
pub fn blank_non_code(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let blank = |out: &mut String, span: &[char]| {
        out.extend(span.iter().map(|&c| if c == '\n' { '\n' } else { ' ' }));
    };
    while i < chars.len() {
        let end = literal_end(&chars, i);
        if end > i {
            blank(&mut out, &chars[i..end]);
            i = end;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

/// Where the comment or literal starting at `i` ends, or `i` when none starts there.
fn literal_end(chars: &[char], i: usize) -> usize {
    let at = |k: usize| chars.get(k).copied().unwrap_or('\0');
    let prev_ident = i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_');
    match at(i) {
        '/' if at(i + 1) == '/' => (i..chars.len())
            .find(|&k| chars[k] == '\n')
            .unwrap_or(chars.len()),
        '/' if at(i + 1) == '*' => block_comment_end(chars, i),
        '"' => quoted_end(chars, i + 1, '"'),
        'b' if !prev_ident && at(i + 1) == '"' => quoted_end(chars, i + 2, '"'),
        'r' | 'b' if !prev_ident => raw_string_end(chars, i).unwrap_or(i),
        '\'' if at(i + 1) == '\\' => quoted_end(chars, i + 1, '\''),
        '\'' if at(i + 2) == '\'' => i + 3,
        _ => i,
    }
}

fn block_comment_end(chars: &[char], start: usize) -> usize {
    let mut depth = 0;
    let mut k = start;
    while k + 1 < chars.len() {
        match (chars[k], chars[k + 1]) {
            ('/', '*') => {
                depth += 1;
                k += 2;
            }
            ('*', '/') => {
                depth -= 1;
                k += 2;
                if depth == 0 {
                    return k;
                }
            }
            _ => k += 1,
        }
    }
    chars.len()
}

fn quoted_end(chars: &[char], mut k: usize, quote: char) -> usize {
    while k < chars.len() {
        match chars[k] {
            '\\' => k += 2,
            c if c == quote => return k + 1,
            _ => k += 1,
        }
    }
    chars.len()
}

/// `r"…"`, `r#"…"#`, `br#"…"#`: the end of the raw string starting at `i`, if one starts there.
fn raw_string_end(chars: &[char], i: usize) -> Option<usize> {
    let mut k = i;
    if chars[k] == 'b' {
        k += 1;
    }
    if chars.get(k) != Some(&'r') {
        return None;
    }
    k += 1;
    let hashes = chars[k..].iter().take_while(|&&c| c == '#').count();
    k += hashes;
    if chars.get(k) != Some(&'"') {
        return None;
    }
    k += 1;
    while k < chars.len() {
        if chars[k] == '"'
            && chars[k + 1..]
                .iter()
                .take(hashes)
                .filter(|&&c| c == '#')
                .count()
                == hashes
        {
            return Some(k + 1 + hashes);
        }
        k += 1;
    }
    Some(chars.len())
}

fn tokenize(code: &str) -> Vec<(Tok, usize)> {
    let chars: Vec<char> = code.chars().collect();
    let mut tokens = Vec::new();
    let (mut i, mut line) = (0, 1);
    while i < chars.len() {
        let c = chars[i];
        if c == '\n' {
            line += 1;
            i += 1;
        } else if c.is_whitespace() {
            i += 1;
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            tokens.push((Tok::Ident(chars[start..i].iter().collect()), line));
        } else if c == ':' && chars.get(i + 1) == Some(&':') {
            tokens.push((Tok::PathSep, line));
            i += 2;
        } else {
            tokens.push((Tok::Punct(c), line));
            i += 1;
        }
    }
    tokens
}

/// Every path `text` names (see [`PathRef`]) and the inline modules it declares.
#[must_use]
pub fn file_refs(text: &str) -> FileRefs {
    let tokens = tokenize(&blank_non_code(text));
    let mut scanner = Scanner {
        tokens: &tokens,
        refs: FileRefs::default(),
        scope: Vec::new(),
        depth: 0,
    };
    let mut i = 0;
    while i < tokens.len() {
        i = scanner.step(i);
    }
    scanner.refs
}

/// Walks the tokens, keeping track of the inline modules around the current one.
struct Scanner<'t> {
    tokens: &'t [(Tok, usize)],
    refs: FileRefs,
    /// Inline modules entered, with the brace depth at which each was opened.
    scope: Vec<(String, usize)>,
    depth: usize,
}

impl Scanner<'_> {
    fn tok(&self, k: usize) -> Option<&Tok> {
        self.tokens.get(k).map(|t| &t.0)
    }

    fn ident(&self, k: usize) -> Option<&str> {
        match self.tok(k) {
            Some(Tok::Ident(name)) => Some(name.as_str()),
            _ => None,
        }
    }

    fn names(&self) -> Vec<String> {
        self.scope.iter().map(|(name, _)| name.clone()).collect()
    }

    /// Handles the token at `i`; returns where to go on.
    fn step(&mut self, i: usize) -> usize {
        match self.tok(i) {
            Some(Tok::Punct('{')) => self.depth += 1,
            Some(Tok::Punct('}')) => {
                self.depth = self.depth.saturating_sub(1);
                if self.scope.last().is_some_and(|(_, at)| *at == self.depth) {
                    self.scope.pop();
                }
            }
            Some(Tok::Ident(word))
                if word == "mod" && self.tok(i + 2) == Some(&Tok::Punct('{')) =>
            {
                return self.inline_module(i);
            }
            Some(Tok::Ident(word)) if word == "use" => return self.use_item(i),
            Some(Tok::Ident(_))
                if self.tok(i + 1) == Some(&Tok::PathSep)
                    && (i == 0 || self.tok(i - 1) != Some(&Tok::PathSep)) =>
            {
                return self.path(i);
            }
            _ => {}
        }
        i + 1
    }

    /// `mod name {` at `i`.
    fn inline_module(&mut self, i: usize) -> usize {
        if let Some(name) = self.ident(i + 1).map(str::to_owned) {
            let mut path = self.names();
            path.push(name.clone());
            self.refs.inline_modules.push(path);
            self.scope.push((name, self.depth));
        }
        self.depth += 1;
        i + 3
    }

    /// `[pub] use tree;` starting at the `use` at `i`.
    fn use_item(&mut self, i: usize) -> usize {
        let reexport = is_public(self.tokens, i);
        let line = self.tokens[i].1;
        let mut k = i + 1;
        let mut leaves = Vec::new();
        use_tree(self.tokens, &mut k, &[], &mut leaves);
        for (segments, name) in leaves {
            let scope = self.names();
            self.refs.paths.push(PathRef {
                segments,
                name,
                scope,
                reexport,
                line,
            });
        }
        k
    }

    /// A path `a::b::c` in code, starting at `i`.
    fn path(&mut self, i: usize) -> usize {
        let line = self.tokens[i].1;
        let mut segments = Vec::new();
        segments.extend(self.ident(i).map(str::to_owned));
        let mut k = i + 1;
        while self.tok(k) == Some(&Tok::PathSep) {
            let Some(next) = self.ident(k + 1) else { break };
            segments.push(next.to_owned());
            k += 2;
        }
        let name = segments.last().cloned().unwrap_or_default();
        let scope = self.names();
        self.refs.paths.push(PathRef {
            segments,
            name,
            scope,
            reexport: false,
            line,
        });
        k
    }
}

/// Whether the `use` at `at` is preceded by `pub` or `pub(…)`.
fn is_public(tokens: &[(Tok, usize)], at: usize) -> bool {
    let word = |k: usize| matches!(tokens.get(k), Some((Tok::Ident(w), _)) if w == "pub");
    if at >= 1 && word(at - 1) {
        return true;
    }
    if at >= 1 && tokens[at - 1].0 == Tok::Punct(')') {
        let open = tokens[..at - 1]
            .iter()
            .rposition(|t| t.0 == Tok::Punct('('));
        return open.is_some_and(|open| open >= 1 && word(open - 1));
    }
    false
}

/// Parses one use tree from `tokens[*k]`, appending each leaf as (full path, name in scope), and
/// leaves `*k` after the closing `;` (or the `,`/`}` that ends a nested tree).
fn use_tree(
    tokens: &[(Tok, usize)],
    k: &mut usize,
    prefix: &[String],
    leaves: &mut Vec<(Vec<String>, String)>,
) {
    let mut path = prefix.to_vec();
    while let Some((tok, _)) = tokens.get(*k) {
        match tok {
            Tok::Ident(word) if word == "as" => {
                if let Some((Tok::Ident(alias), _)) = tokens.get(*k + 1) {
                    let name = alias.clone();
                    leaves.push((std::mem::take(&mut path), name));
                }
                *k += 2;
                continue;
            }
            Tok::Ident(word) => path.push(word.clone()),
            Tok::Punct('*') => path.push("*".into()),
            Tok::Punct('{') => {
                *k += 1;
                loop {
                    use_tree(tokens, k, &path, leaves);
                    match tokens.get(*k).map(|t| &t.0) {
                        Some(Tok::Punct(',')) => *k += 1,
                        Some(Tok::Punct('}')) => {
                            *k += 1;
                            break;
                        }
                        _ => break,
                    }
                }
                path.clear();
                continue;
            }
            Tok::Punct(',' | '}') => break,
            Tok::Punct(';') => {
                *k += 1;
                break;
            }
            Tok::PathSep | Tok::Punct(_) => {}
        }
        *k += 1;
    }
    if path.len() > prefix.len() {
        leaf(path, leaves);
    }
}

/// Records a use-tree leaf: `a::b::self` is `a::b` known as `b`.
fn leaf(mut path: Vec<String>, leaves: &mut Vec<(Vec<String>, String)>) {
    if path.last().is_some_and(|s| s == "self") && path.len() > 1 {
        path.pop();
    }
    let name = path.last().cloned().unwrap_or_default();
    leaves.push((path, name));
}
