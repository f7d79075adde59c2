//! TEMPORARY shim (replaced by the PyYAML-compatible loader).

use yaml_rust2::{Yaml as Y, YamlLoader};

#[derive(Debug, Clone, PartialEq)]
pub enum Yaml {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    Seq(Vec<Yaml>),
    Map(Vec<(Yaml, Yaml)>),
}

#[derive(Debug, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct YamlError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

pub fn parse(text: &str) -> Result<Yaml, YamlError> {
    let docs = YamlLoader::load_from_str(text).map_err(|e| YamlError {
        line: e.marker().line(),
        column: e.marker().col() + 1,
        message: e.to_string(),
    })?;
    Ok(docs.into_iter().next().map_or(Yaml::Null, convert))
}

fn convert(y: Y) -> Yaml {
    match y {
        Y::Real(s) => Yaml::Float(s.parse().unwrap_or(0.0)),
        Y::Integer(i) => Yaml::Int(i128::from(i)),
        Y::String(s) => Yaml::Str(s),
        Y::Boolean(b) => Yaml::Bool(b),
        Y::Array(a) => Yaml::Seq(a.into_iter().map(convert).collect()),
        Y::Hash(h) => Yaml::Map(
            h.into_iter()
                .map(|(k, v)| (convert(k), convert(v)))
                .collect(),
        ),
        _ => Yaml::Null,
    }
}

impl Yaml {
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&Yaml> {
        match self {
            Yaml::Map(m) => m
                .iter()
                .find(|(k, _)| k.as_str() == Some(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }
    #[must_use]
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Yaml::Str(s) => Some(s),
            _ => None,
        }
    }
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
    #[must_use]
    pub fn to_python_str(&self) -> String {
        match self {
            Yaml::Null => "None".into(),
            Yaml::Bool(true) => "True".into(),
            Yaml::Bool(false) => "False".into(),
            Yaml::Int(i) => i.to_string(),
            Yaml::Float(f) => f.to_string(),
            Yaml::Str(s) => s.clone(),
            other => format!("{other:?}"),
        }
    }
}
