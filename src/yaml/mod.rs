//! The project's single YAML loader: parses one document into [`Yaml`] values typed exactly as
//! `PyYAML`'s `yaml.safe_load` (YAML 1.1) types them, because image hashes are computed over them.

mod checks;
mod compose;
mod construct;
mod emit;
mod problem;
mod python;
mod resolve;
#[cfg(test)]
mod tests;
mod value;

pub use emit::{to_yaml, to_yaml_documents};
pub use python::float_repr;
pub use value::{Yaml, YamlError};

/// Parses a single YAML document. An empty stream is `Null`.
///
/// # Errors
///
/// Malformed YAML, more than one document, a date/time or other unsupported plain scalar, an
/// unsupported tag, an integer beyond `i128`, or a list or mapping used as a key.
pub fn parse(text: &str) -> Result<Yaml, YamlError> {
    // PyYAML skips a byte-order mark at the start of the stream; yaml-rust2 would keep it.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    checks::check_printable(text)?;
    checks::check_duplicate_anchors(text)?;
    compose::Composer::new(text).single_document()
}
