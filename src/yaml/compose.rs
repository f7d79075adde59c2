//! Builds values from yaml-rust2's event stream the way `PyYAML`'s composer and `SafeConstructor`
//! do: one document, anchors and aliases, `<<` merge keys and dict semantics for mappings.

use super::problem::Problem;
use super::python::is_same_key;
use super::resolve::{self, Scalar};
use super::value::{Yaml, YamlError, STD_TAG};
use std::collections::HashMap;
use std::str::Chars;
use yaml_rust2::parser::{Event, Parser, Tag};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// Deeper nesting is refused rather than risking the stack (`PyYAML` itself stops near 300).
const MAX_DEPTH: usize = 256;
/// Bound on the values produced, so that nested aliases cannot expand exponentially.
const MAX_NODES: usize = 1_000_000;

pub(super) struct Composer<'a> {
    parser: Parser<Chars<'a>>,
    /// Completed anchored values by yaml-rust2's anchor id, with their size in nodes.
    anchors: HashMap<usize, (Yaml, usize)>,
    depth: usize,
    nodes: usize,
}

fn error_at(mark: Marker, message: impl Into<String>) -> YamlError {
    YamlError {
        line: mark.line(),
        column: mark.col() + 1,
        message: message.into(),
    }
}

fn full_tag(tag: Option<&Tag>) -> Option<String> {
    tag.map(|t| format!("{}{}", t.handle, t.suffix))
}

/// Checks the tag of a sequence or mapping: none, `!`, or the matching `!!seq`/`!!map`.
fn check_collection_tag(
    tag: Option<&Tag>,
    expected: &str,
    found: &'static str,
) -> Result<(), Problem> {
    let Some(tag) = full_tag(tag) else {
        return Ok(());
    };
    match tag.strip_prefix(STD_TAG) {
        _ if tag == "!" => Ok(()),
        Some(suffix) if suffix == expected => Ok(()),
        Some("str" | "int" | "float" | "bool" | "null" | "merge" | "value") => {
            Err(Problem::WrongNode {
                expected: "scalar",
                found,
            })
        }
        Some("seq") => Err(Problem::WrongNode {
            expected: "sequence",
            found,
        }),
        Some("map") => Err(Problem::WrongNode {
            expected: "mapping",
            found,
        }),
        _ => Err(Problem::UnsupportedTag(tag)),
    }
}

/// A mapping key: the `<<` merge key or an ordinary value.
enum Key {
    Merge,
    Value(Yaml),
}

impl<'a> Composer<'a> {
    pub(super) fn new(text: &'a str) -> Self {
        Composer {
            parser: Parser::new_from_str(text),
            anchors: HashMap::new(),
            depth: 0,
            nodes: 0,
        }
    }

    fn next(&mut self) -> Result<(Event, Marker), YamlError> {
        self.parser
            .next_token()
            .map_err(|e| error_at(*e.marker(), e.info()))
    }

    /// The stream must hold at most one document; an empty stream loads as `Null`.
    pub(super) fn single_document(mut self) -> Result<Yaml, YamlError> {
        let mut value = Yaml::Null;
        let mut seen_document = false;
        loop {
            match self.next()? {
                (Event::StreamStart | Event::Nothing | Event::DocumentEnd, _) => {}
                (Event::StreamEnd, _) => return Ok(value),
                (Event::DocumentStart, mark) if seen_document => {
                    return Err(error_at(
                        mark,
                        "expected a single document in the stream, but found another document",
                    ));
                }
                (Event::DocumentStart, _) => {
                    let (event, mark) = self.next()?;
                    value = self.node(event, mark)?;
                    seen_document = true;
                }
                (event, mark) => {
                    return Err(error_at(
                        mark,
                        format!("unexpected {event:?} between documents"),
                    ));
                }
            }
        }
    }

    fn count(&mut self, nodes: usize, mark: Marker) -> Result<(), YamlError> {
        self.nodes = self.nodes.saturating_add(nodes);
        if self.nodes > MAX_NODES {
            return Err(error_at(
                mark,
                format!("the document expands to more than {MAX_NODES} values through aliases"),
            ));
        }
        Ok(())
    }

    fn node(&mut self, event: Event, mark: Marker) -> Result<Yaml, YamlError> {
        let start = self.nodes;
        let (anchor, value) = match event {
            Event::Alias(id) => return self.alias(id, mark),
            Event::Scalar(text, style, anchor, tag) => {
                self.count(1, mark)?;
                (anchor, Self::scalar(&text, style, tag.as_ref(), mark)?)
            }
            Event::SequenceStart(anchor, tag) => {
                check_collection_tag(tag.as_ref(), "seq", "sequence")
                    .map_err(|m| error_at(mark, m.to_string()))?;
                (anchor, self.nested(mark, Self::sequence)?)
            }
            Event::MappingStart(anchor, tag) => {
                check_collection_tag(tag.as_ref(), "map", "mapping")
                    .map_err(|m| error_at(mark, m.to_string()))?;
                (anchor, self.nested(mark, Self::mapping)?)
            }
            other => return Err(error_at(mark, format!("expected a node, found {other:?}"))),
        };
        if anchor > 0 {
            self.anchors
                .insert(anchor, (value.clone(), self.nodes - start));
        }
        Ok(value)
    }

    fn scalar(
        text: &str,
        style: TScalarStyle,
        tag: Option<&Tag>,
        mark: Marker,
    ) -> Result<Yaml, YamlError> {
        let tag = full_tag(tag);
        match resolve::scalar(text, style == TScalarStyle::Plain, tag.as_deref()) {
            Ok(Scalar::Value(value)) => Ok(value),
            Ok(Scalar::Merge) => Err(error_at(
                mark,
                "a merge key '<<' may only be used as a mapping key",
            )),
            Ok(Scalar::Equals) => Err(error_at(
                mark,
                "a plain '=' may only be used as a mapping key; quote it",
            )),
            Err(problem) => Err(error_at(mark, problem.to_string())),
        }
    }

    fn alias(&mut self, id: usize, mark: Marker) -> Result<Yaml, YamlError> {
        let Some((value, size)) = self.anchors.get(&id) else {
            return Err(error_at(
                mark,
                "an alias may not refer to the node that contains it",
            ));
        };
        let (value, size) = (value.clone(), *size);
        self.count(size, mark)?;
        Ok(value)
    }

    fn nested(
        &mut self,
        mark: Marker,
        build: fn(&mut Self) -> Result<Yaml, YamlError>,
    ) -> Result<Yaml, YamlError> {
        self.count(1, mark)?;
        if self.depth >= MAX_DEPTH {
            return Err(error_at(
                mark,
                format!("nesting deeper than {MAX_DEPTH} levels is not supported"),
            ));
        }
        self.depth += 1;
        let value = build(self);
        self.depth -= 1;
        value
    }

    fn sequence(&mut self) -> Result<Yaml, YamlError> {
        let mut items = Vec::new();
        loop {
            match self.next()? {
                (Event::SequenceEnd, _) => return Ok(Yaml::Seq(items)),
                (event, mark) => items.push(self.node(event, mark)?),
            }
        }
    }

    fn key(&mut self, event: Event, mark: Marker) -> Result<Key, YamlError> {
        if let Event::Scalar(text, style, 0, tag) = &event {
            let tag = full_tag(tag.as_ref());
            match resolve::scalar(text, *style == TScalarStyle::Plain, tag.as_deref()) {
                Ok(Scalar::Merge) => return Ok(Key::Merge),
                Ok(Scalar::Equals) => return Ok(Key::Value(Yaml::Str(text.clone()))),
                _ => {}
            }
        }
        match self.node(event, mark)? {
            Yaml::Seq(_) | Yaml::Map(_) => Err(error_at(
                mark,
                "found unhashable key (a list or mapping cannot be a key)",
            )),
            key => Ok(Key::Value(key)),
        }
    }

    /// A mapping as `SafeConstructor` builds it: merged entries first (their mappings in the
    /// order `PyYAML` applies them), then the explicit ones, inserted into a Python dict.
    fn mapping(&mut self) -> Result<Yaml, YamlError> {
        let mut merged = Vec::new();
        let mut explicit = Vec::new();
        loop {
            let (event, mark) = self.next()?;
            if event == Event::MappingEnd {
                break;
            }
            let key = self.key(event, mark)?;
            let (event, value_mark) = self.next()?;
            let value = self.node(event, value_mark)?;
            match key {
                Key::Merge => {
                    merged.extend(
                        merge_entries(value).map_err(|m| error_at(value_mark, m.to_string()))?,
                    );
                }
                Key::Value(key) => explicit.push((key, value)),
            }
        }
        let mut dict = Dict::default();
        for (key, value) in merged.into_iter().chain(explicit) {
            dict.insert(key, value);
        }
        Ok(Yaml::Map(dict.entries))
    }
}

/// The entries a `<<` value contributes: a mapping's own, or for a list of mappings each one's,
/// last mapping first, so that on conflicts the earlier mapping in the list wins.
fn merge_entries(value: Yaml) -> Result<Vec<(Yaml, Yaml)>, Problem> {
    match value {
        Yaml::Map(entries) => Ok(entries),
        Yaml::Seq(items) => {
            let mut all = Vec::new();
            for item in items.into_iter().rev() {
                match item {
                    Yaml::Map(entries) => all.extend(entries),
                    other => return Err(Problem::MergeItem(node_kind(&other))),
                }
            }
            Ok(all)
        }
        other => Err(Problem::MergeValue(node_kind(&other))),
    }
}

fn node_kind(value: &Yaml) -> &'static str {
    match value {
        Yaml::Seq(_) => "sequence",
        Yaml::Map(_) => "mapping",
        _ => "scalar",
    }
}

/// A Python dict in insertion order: a repeated key keeps its first position and takes the
/// last value. String keys are indexed; other keys (rare) are found by a scan.
#[derive(Default)]
struct Dict {
    entries: Vec<(Yaml, Yaml)>,
    strings: HashMap<String, usize>,
}

impl Dict {
    fn insert(&mut self, key: Yaml, value: Yaml) {
        let existing = match &key {
            Yaml::Str(s) => self.strings.get(s).copied(),
            _ => self.entries.iter().position(|(k, _)| is_same_key(k, &key)),
        };
        if let Some(index) = existing {
            self.entries[index].1 = value;
            return;
        }
        if let Yaml::Str(s) = &key {
            self.strings.insert(s.clone(), self.entries.len());
        }
        self.entries.push((key, value));
    }
}
