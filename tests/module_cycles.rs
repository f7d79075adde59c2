//! No import cycles between the crate's files, nor between its directories: each layer of
//! docs/architecture.md depends only on the layers below it, and a file only on files that do not
//! depend on it back. The graph is read from `use` lines and `crate::`/`super::` paths.

mod module_graph;

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use module_graph::Graph;

/// Every `.rs` file under `dir`, keyed by its path relative to `root`.
fn read_sources(root: &Path, dir: &Path, sources: &mut BTreeMap<String, String>) {
    for entry in fs::read_dir(dir).expect("readable source directory") {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            read_sources(root, &path, sources);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            let relative = path
                .strip_prefix(root)
                .expect("under the root")
                .to_string_lossy()
                .into_owned();
            sources.insert(
                relative,
                fs::read_to_string(&path).expect("readable source file"),
            );
        }
    }
}

fn graph_of(files: &[(&str, &str)]) -> Graph {
    Graph::new(
        &files
            .iter()
            .map(|(path, text)| ((*path).to_string(), (*text).to_string()))
            .collect(),
    )
}

fn cycle_members(files: &[(&str, &str)]) -> Vec<Vec<String>> {
    graph_of(files)
        .cycles()
        .into_iter()
        .map(|cycle| cycle.members)
        .collect()
}

#[test]
fn the_crate_has_no_import_cycles() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut sources = BTreeMap::new();
    read_sources(&src, &src, &mut sources);
    sources.remove("main.rs"); // the binary is another crate
    let graph = Graph::new(&sources);
    assert!(
        graph.edges.len() > 100,
        "the graph lost its edges: {}",
        graph.edges.len()
    );
    let cycles = graph.cycles();
    let report: String = cycles.iter().map(ToString::to_string).collect();
    assert!(
        cycles.is_empty(),
        "{} import cycle(s):\n{report}",
        cycles.len()
    );
}

#[test]
fn sibling_files_importing_each_other_are_a_cycle() {
    let cycles = cycle_members(&[
        ("lib.rs", "mod a;"),
        ("a/mod.rs", "mod x; mod y; pub use x::X;"),
        ("a/x.rs", "use super::y::Y; pub struct X;"),
        ("a/y.rs", "pub struct Y; fn f() -> crate::a::X { todo!() }"),
    ]);
    assert_eq!(cycles, [vec!["x".to_string(), "y".to_string()]]);
}

#[test]
fn directories_importing_each_other_are_a_cycle() {
    let cycles = cycle_members(&[
        ("lib.rs", "pub mod config; pub mod sandbox;"),
        ("config/mod.rs", "mod env;"),
        ("config/env.rs", "use crate::sandbox::spec::{Spec, self};"),
        ("sandbox/mod.rs", "pub mod spec; mod docker;"),
        ("sandbox/spec.rs", "pub struct Spec;"),
        ("sandbox/docker.rs", "fn f(s: &crate::config::env::Env) {}"),
    ]);
    assert_eq!(cycles, [vec!["config".to_string(), "sandbox".to_string()]]);
}

#[test]
fn a_facade_reexporting_its_children_is_no_cycle_and_comments_and_strings_do_not_count() {
    let cycles = cycle_members(&[
        ("lib.rs", "mod agent;"),
        ("agent/mod.rs", "mod env; mod codex; pub use env::Env; pub use codex::Codex; pub struct AgentError;"),
        ("agent/env.rs", "use super::AgentError; pub struct Env;"),
        ("agent/codex.rs", "use super::Env; pub struct Codex; // super::Codex\nconst S: &str = \"crate::agent::codex\";"),
        ("agent/tests.rs", "#[cfg(test)] mod tests { use super::*; }"),
    ]);
    assert!(cycles.is_empty(), "{cycles:?}");
}

#[test]
fn inline_test_modules_and_path_attributes_resolve_super_from_where_they_are() {
    let cycles = cycle_members(&[
        ("lib.rs", "mod a; mod b;"),
        ("a.rs", "#[cfg(test)]\n#[path = \"a_tests.rs\"]\nmod tests;\npub fn f() {}"),
        ("a_tests.rs", "use super::f; use crate::b::g;"),
        ("b.rs", "pub fn g() {} mod tests { use super::g; fn t() { let _ = r#\"}\"#; super::super::a::f(); } }"),
    ]);
    assert_eq!(cycles, [vec!["a".to_string(), "b".to_string()]]);
}
