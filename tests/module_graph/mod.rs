//! The import graph of a crate's source files and its cycles, at every level of the module tree:
//! between sibling files, and between sibling directories (`config` ↔ `sandbox` is a cycle even
//! when no two files form one). See docs/architecture.md for the layers this keeps apart.
//!
//! An edge goes from a file to the file that defines what it names: re-exports are followed to
//! their origin, and a module re-exporting its own descendants (a facade) depends on nothing by
//! doing so. A module's own file is a node among its children, so `mod.rs` defining what its
//! children use while using them is a cycle too.

pub mod lex;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// One import of one file that lands in another file.
#[derive(Debug, Clone)]
pub struct Edge {
    pub from: usize,
    pub to: usize,
    /// `src/run/agent/env.rs:12 crate::run::agent::claude_code::plan`
    pub site: String,
}

/// A cycle among the children of one module.
#[derive(Debug)]
pub struct Cycle {
    /// The module whose children form the cycle (`crate` for the top level).
    pub parent: String,
    /// The children (a directory module, a file, or the parent's own file), sorted.
    pub members: Vec<String>,
    /// One import per edge inside the cycle.
    pub sites: Vec<String>,
}

impl fmt::Display for Cycle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "cycle in {}: {}", self.parent, self.members.join(" ↔ "))?;
        for site in &self.sites {
            writeln!(f, "    {site}")?;
        }
        Ok(())
    }
}

/// The files of a crate (paths relative to `src/`, `lib.rs` the root) and their imports.
#[derive(Debug)]
pub struct Graph {
    pub files: Vec<(String, Vec<String>)>,
    pub edges: Vec<Edge>,
}

impl Graph {
    /// Builds the graph from `relative path → source text`.
    #[must_use]
    pub fn new(sources: &BTreeMap<String, String>) -> Self {
        let files = module_paths(sources);
        let mut modules: BTreeMap<Vec<String>, usize> = BTreeMap::new();
        let mut refs = Vec::new();
        for (index, (path, module)) in files.iter().enumerate() {
            let found = lex::file_refs(&sources[path]);
            modules.insert(module.clone(), index);
            for inline in &found.inline_modules {
                modules.insert([module.clone(), inline.clone()].concat(), index);
            }
            refs.push(found.paths);
        }
        let mut reexports: BTreeMap<Vec<String>, BTreeMap<String, Vec<String>>> = BTreeMap::new();
        let mut absolute = Vec::new();
        for (index, paths) in refs.iter().enumerate() {
            let module = &files[index].1;
            for path in paths {
                let here = [module.clone(), path.scope.clone()].concat();
                let Some(abs) = absolutize(&here, &path.segments, &modules) else {
                    continue;
                };
                if path.reexport {
                    reexports
                        .entry(here)
                        .or_default()
                        .insert(path.name.clone(), abs.clone());
                }
                absolute.push((
                    index,
                    abs,
                    path.reexport,
                    path.line,
                    path.segments.join("::"),
                ));
            }
        }
        let resolver = Resolver {
            modules: &modules,
            reexports: &reexports,
        };
        let mut edges = Vec::new();
        for (from, abs, reexport, line, written) in absolute {
            let Some(to) = resolver.file_of(&abs, 0) else {
                continue;
            };
            let facade = reexport && files[to].1.starts_with(&files[from].1);
            if to != from && !facade {
                let site = format!("src/{}:{line} {written}", files[from].0);
                edges.push(Edge { from, to, site });
            }
        }
        Self { files, edges }
    }

    /// Every cycle among the children of every module, parents in order.
    #[must_use]
    pub fn cycles(&self) -> Vec<Cycle> {
        let mut levels: BTreeMap<Vec<String>, BTreeMap<(String, String), String>> = BTreeMap::new();
        for edge in &self.edges {
            let (a, b) = (&self.files[edge.from].1, &self.files[edge.to].1);
            let common = a.iter().zip(b).take_while(|(x, y)| x == y).count();
            let parent = a[..common].to_vec();
            let node = |m: &Vec<String>| m.get(common).cloned().unwrap_or_else(|| OWN_FILE.into());
            levels
                .entry(parent)
                .or_default()
                .entry((node(a), node(b)))
                .or_insert_with(|| edge.site.clone());
        }
        let mut cycles = Vec::new();
        for (parent, edges) in &levels {
            for members in strongly_connected(edges.keys()) {
                let sites = edges
                    .iter()
                    .filter(|((a, b), _)| members.contains(a) && members.contains(b))
                    .map(|((a, b), site)| format!("{a} → {b}: {site}"))
                    .collect();
                let parent = if parent.is_empty() {
                    "crate".into()
                } else {
                    format!("crate::{}", parent.join("::"))
                };
                cycles.push(Cycle {
                    parent,
                    members: members.into_iter().collect(),
                    sites,
                });
            }
        }
        cycles
    }
}

/// The node standing for a module's own file (`mod.rs`) among its children.
const OWN_FILE: &str = "(its own file)";

/// Each file's module path, from its place in the tree and `#[path = "…"] mod name;` attributes.
fn module_paths(sources: &BTreeMap<String, String>) -> Vec<(String, Vec<String>)> {
    let mut modules: BTreeMap<String, Vec<String>> = sources
        .keys()
        .map(|path| {
            let mut parts: Vec<String> = path
                .trim_end_matches(".rs")
                .split('/')
                .map(String::from)
                .collect();
            if path == "lib.rs" || parts.last().is_some_and(|p| p == "mod") {
                parts.pop();
            }
            (path.clone(), parts)
        })
        .collect();
    let attribute = regex::Regex::new(r#"#\[path\s*=\s*"([^"]+)"\]\s*(?:#\[[^\]]*\]\s*)*(?:pub(?:\([^)]*\))?\s+)?mod\s+(\w+)\s*;"#)
        .expect("valid regex");
    for (path, text) in sources {
        let dir = path.rsplit_once('/').map_or("", |(dir, _)| dir);
        for found in attribute.captures_iter(text) {
            let target = if dir.is_empty() {
                found[1].to_string()
            } else {
                format!("{dir}/{}", &found[1])
            };
            let mut module = modules[path].clone();
            module.push(found[2].to_string());
            modules.insert(target, module);
        }
    }
    modules.into_iter().collect()
}

/// The absolute module path `segments` names from module `here`, or `None` outside the crate.
fn absolutize(
    here: &[String],
    segments: &[String],
    modules: &BTreeMap<Vec<String>, usize>,
) -> Option<Vec<String>> {
    let first = segments.first()?;
    match first.as_str() {
        "crate" => Some(segments[1..].to_vec()),
        "self" => Some([here, &segments[1..]].concat()),
        "super" => {
            let ups = segments.iter().take_while(|s| *s == "super").count();
            let base = here.get(..here.len().checked_sub(ups)?)?;
            Some([base, &segments[ups..]].concat())
        }
        _ => {
            let child = [here, &segments[..1]].concat();
            modules
                .contains_key(&child)
                .then(|| [here, segments].concat())
        }
    }
}

struct Resolver<'a> {
    modules: &'a BTreeMap<Vec<String>, usize>,
    reexports: &'a BTreeMap<Vec<String>, BTreeMap<String, Vec<String>>>,
}

impl Resolver<'_> {
    /// The file that defines what `path` names, following re-exports to their origin.
    fn file_of(&self, path: &[String], depth: usize) -> Option<usize> {
        let known = (0..=path.len())
            .rev()
            .find(|&n| self.modules.contains_key(&path[..n]))?;
        let module = &path[..known];
        if depth < 16 {
            if let Some(target) = path
                .get(known)
                .and_then(|name| self.reexports.get(module)?.get(name))
            {
                if target.as_slice() != path {
                    return self
                        .file_of(&[target.as_slice(), &path[known + 1..]].concat(), depth + 1);
                }
            }
        }
        self.modules.get(module).copied()
    }
}

/// Tarjan's strongly connected components with more than one node.
fn strongly_connected<'a>(
    edges: impl Iterator<Item = &'a (String, String)>,
) -> Vec<BTreeSet<String>> {
    let mut next: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (a, b) in edges {
        next.entry(a).or_default().push(b);
        next.entry(b).or_default();
    }
    let mut state = Tarjan {
        next: &next,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        found: Vec::new(),
    };
    for node in next.keys() {
        if !state.index.contains_key(node) {
            state.visit(node);
        }
    }
    state.found
}

struct Tarjan<'a> {
    next: &'a BTreeMap<&'a str, Vec<&'a str>>,
    index: BTreeMap<&'a str, usize>,
    low: BTreeMap<&'a str, usize>,
    stack: Vec<&'a str>,
    found: Vec<BTreeSet<String>>,
}

impl<'a> Tarjan<'a> {
    fn visit(&mut self, node: &'a str) {
        let index = self.index.len();
        self.index.insert(node, index);
        self.low.insert(node, index);
        self.stack.push(node);
        for &to in &self.next[node] {
            if !self.index.contains_key(to) {
                self.visit(to);
                let low = self.low[node].min(self.low[to]);
                self.low.insert(node, low);
            } else if self.stack.contains(&to) {
                let low = self.low[node].min(self.index[to]);
                self.low.insert(node, low);
            }
        }
        if self.low[node] == self.index[node] {
            let at = self
                .stack
                .iter()
                .rposition(|&n| n == node)
                .expect("on the stack");
            let members: BTreeSet<String> = self.stack.drain(at..).map(String::from).collect();
            if members.len() > 1 {
                self.found.push(members);
            }
        }
    }
}
