//! Input checks `PyYAML` makes that yaml-rust2 does not: characters its reader refuses, and an
//! anchor name defined twice in one document.

use super::value::YamlError;
use std::collections::HashMap;
use yaml_rust2::scanner::{Scanner, TokenType};

/// Rejects the characters `PyYAML`'s reader refuses before it parses anything.
pub(super) fn check_printable(text: &str) -> Result<(), YamlError> {
    let is_printable = |c: char| {
        matches!(c, '\t' | '\n' | '\r' | ' '..='~' | '\u{85}')
            || ('\u{a0}'..='\u{d7ff}').contains(&c)
            || ('\u{e000}'..='\u{fffd}').contains(&c)
            || c >= '\u{10000}'
    };
    let Some((index, bad)) = text.char_indices().find(|&(_, c)| !is_printable(c)) else {
        return Ok(());
    };
    let before = &text[..index];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    Err(YamlError {
        line,
        column,
        message: format!(
            "unacceptable character #x{:04x}: special characters are not allowed",
            u32::from(bad)
        ),
    })
}

/// `PyYAML` refuses to redefine an anchor within a document; yaml-rust2 silently rebinds it.
/// Scanning stops quietly at a syntax error, which the parser then reports.
pub(super) fn check_duplicate_anchors(text: &str) -> Result<(), YamlError> {
    let mut seen: HashMap<String, (usize, usize)> = HashMap::new();
    for token in Scanner::new(text.chars()) {
        let (line, column) = (token.0.line(), token.0.col() + 1);
        match token.1 {
            TokenType::DocumentStart | TokenType::DocumentEnd => seen.clear(),
            TokenType::Anchor(name) => {
                if let Some((first_line, first_column)) = seen.get(&name) {
                    return Err(YamlError {
                        line,
                        column,
                        message: format!(
                            "found duplicate anchor '{name}' (first defined at line \
                             {first_line}, column {first_column})"
                        ),
                    });
                }
                seen.insert(name, (line, column));
            }
            _ => {}
        }
    }
    Ok(())
}
