//! What can be wrong with one scalar, tag or merge value; [`super::YamlError`] adds where.

use super::value::STD_TAG;

/// A typing problem of one node, worded as `PyYAML` users know it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(super) enum Problem {
    #[error("invalid boolean '{0}' (expected yes/no, true/false or on/off)")]
    Bool(String),
    #[error("'{0}' is not a number")]
    NotNumber(String),
    #[error("'{0}' is not a valid integer")]
    Int(String),
    #[error("integer {0} does not fit in 128 bits")]
    TooBig(String),
    #[error("'{0}' is not a valid float")]
    Float(String),
    #[error("'{0}' is a date/time, which is not supported; quote it to make it a string")]
    DateTime(String),
    /// A tag that names another kind of node (`expected` is scalar, sequence or mapping).
    #[error("expected a {expected} node, but found {found}")]
    WrongNode {
        expected: &'static str,
        found: &'static str,
    },
    #[error(
        "unsupported tag '{}' (only !!str, !!int, !!float, !!bool, !!null, !!seq and !!map are \
         supported)",
        shown_tag(.0)
    )]
    UnsupportedTag(String),
    #[error("expected a mapping for merging, but found {0}")]
    MergeItem(&'static str),
    #[error("expected a mapping or list of mappings for merging, but found {0}")]
    MergeValue(&'static str),
}

/// `!!int` for the standard tags, the full tag otherwise.
fn shown_tag(tag: &str) -> String {
    tag.strip_prefix(STD_TAG)
        .map_or_else(|| tag.to_owned(), |s| format!("!!{s}"))
}
