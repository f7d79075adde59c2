//! Shell words: the one quoting rule for every command line and script sforge writes or shows
//! (`sh`/`bash`), and what a shell variable name is.

use std::borrow::Cow;

/// `word` as one `sh` word: unchanged when it needs no quoting, else single-quoted. A NUL byte
/// can be neither a shell word's nor a process argument's; it is written as the two characters
/// `\0`, so the word stays visible and can never end a script early.
#[must_use]
pub fn quote(word: &str) -> Cow<'_, str> {
    match shlex::try_quote(word) {
        Ok(quoted) => quoted,
        Err(_) => Cow::Owned(
            shlex::try_quote(&word.replace('\0', "\\0"))
                .map_or_else(|_| String::from("''"), Cow::into_owned),
        ),
    }
}

/// The words quoted with [`quote`] and joined by spaces.
#[must_use]
pub fn join<'a>(words: impl IntoIterator<Item = &'a str>) -> String {
    words.into_iter().map(quote).collect::<Vec<_>>().join(" ")
}

/// Whether `name` can be a shell variable (`KEY=value`, `export KEY=…`): a letter or `_`, then
/// letters, digits and `_`.
#[must_use]
pub fn is_variable_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_words_stay_and_others_round_trip() {
        assert_eq!(quote("a/b:1.0"), "a/b:1.0");
        assert_eq!(quote(""), "''");
        let words = ["it's", "$HOME", "", "x;y|z"];
        let line = join(words);
        assert_eq!(shlex::split(&line).expect("valid shell words"), words);
    }

    #[test]
    fn nul_is_written_as_backslash_zero() {
        assert_eq!(
            shlex::split(&join(["a\0b", "c"])).expect("words"),
            ["a\\0b", "c"]
        );
        assert!(!quote("x\0").contains('\0'));
    }

    #[test]
    fn variable_names() {
        assert!(is_variable_name("_A1") && is_variable_name("http_proxy"));
        assert!(!is_variable_name("1A") && !is_variable_name("A-B") && !is_variable_name(""));
    }
}
