//! The project's single YAML loader: parses one document into [`Yaml`] values typed exactly as
//! `PyYAML`'s `yaml.safe_load` (YAML 1.1) types them, because image hashes are computed over them.

mod checks;
mod compose;
mod construct;
mod emit;
mod python;
mod resolve;
#[cfg(test)]
mod tests;

pub use emit::{to_yaml, to_yaml_documents};
pub use python::float_repr;

/// A loaded YAML value, shaped like the Python object `yaml.safe_load` would return.
#[derive(Debug, Clone, PartialEq)]
pub enum Yaml {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    Seq(Vec<Yaml>),
    /// A Python dict: keys are unique (Python equality) and keep their first-insertion order.
    Map(Vec<(Yaml, Yaml)>),
}

/// A syntax or typing error, positioned at a 1-based line and column.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct YamlError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

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

impl Yaml {
    /// Looks up a string key in a mapping; `None` for other values or a missing key.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&Yaml> {
        match self {
            Yaml::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.as_str() == Some(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// The string, if this is a string.
    #[must_use]
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Yaml::Str(s) => Some(s),
            _ => None,
        }
    }

    /// A user-facing name of the value's type, for error messages.
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            Yaml::Null => "null",
            Yaml::Bool(_) => "boolean",
            Yaml::Int(_) => "integer",
            Yaml::Float(_) => "float",
            Yaml::Str(_) => "string",
            Yaml::Seq(_) => "list",
            Yaml::Map(_) => "mapping",
        }
    }

    /// What Python's `str()` prints for the loaded value (`None`, `True`, `1.0`, `['a', 1]`...).
    #[must_use]
    pub fn to_python_str(&self) -> String {
        python::to_str(self)
    }
}
