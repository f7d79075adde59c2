//! The loaded YAML value, shaped like the Python object `yaml.safe_load` returns, and the
//! positioned error of loading it.

/// The prefix of the standard `!!` tags once the parser has expanded them.
pub(super) const STD_TAG: &str = "tag:yaml.org,2002:";

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
}
