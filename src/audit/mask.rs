//! Judge-only words are shown masked wherever the audit prints them (table, JSON, logs): the
//! first three characters, `***` and the length, enough to recognise a word without repeating
//! it (docs/audit.md#leak).

/// `word` masked: `EXP***(25)`.
#[must_use]
pub fn mask(word: &str) -> String {
    let head: String = word.chars().take(3).collect();
    format!("{head}***({})", word.chars().count())
}

/// `line` with every occurrence of each of `words` masked (longest first, so a word holding
/// another is masked whole).
#[must_use]
pub fn mask_all<S: AsRef<str>>(line: &str, words: &[S]) -> String {
    let mut sorted: Vec<&str> = words.iter().map(AsRef::as_ref).collect();
    sorted.sort_by_key(|w| std::cmp::Reverse(w.len()));
    let mut out = line.to_owned();
    for word in sorted.into_iter().filter(|w| !w.is_empty()) {
        out = out.replace(word, &mask(word));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_masked_with_their_length() {
        assert_eq!(mask("EXPECTED_ANSWER_TOKEN_QX7"), "EXP***(25)");
        let line = mask_all(
            "tests/t.py::EXPECTED_ANSWER_TOKEN_QX7 FAILED, see EXPECTED_ANSWER",
            &["EXPECTED_ANSWER", "EXPECTED_ANSWER_TOKEN_QX7"],
        );
        assert_eq!(line, "tests/t.py::EXP***(25) FAILED, see EXP***(15)");
        assert!(!line.contains("TOKEN"));
    }
}
