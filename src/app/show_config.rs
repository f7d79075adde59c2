//! `sforge config`: every resolved setting with its value (secrets as `***`) and its source.

use std::io::Write;

use serde_json::{json, Value};

use crate::cli::ConfigArgs;
use crate::config::{redacted_entries, Resolver};
use crate::task::Catalog;

pub fn show_config(
    resolver: &Resolver,
    args: &ConfigArgs,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let settings = match &args.task {
        Some(id) => {
            let global = resolver.global();
            let task = Catalog::open(&global.tasks_dir.value)?.task(id)?;
            resolver.for_task(&task)
        }
        None => resolver.global(),
    };
    for warning in crate::run::setting_warnings(&settings) {
        eprintln!("warning: {warning}");
    }
    let entries = redacted_entries(&settings);
    if args.json {
        let settings: serde_json::Map<String, Value> = entries
            .iter()
            .map(|(name, value, source)| {
                (
                    (*name).to_owned(),
                    json!({ "value": value, "source": source.to_string() }),
                )
            })
            .collect();
        let doc = json!({
            "task": args.task,
            "experiment": resolver.experiment().map(|e| e.path.display().to_string()),
            "settings": settings,
        });
        writeln!(out, "{}", serde_json::to_string_pretty(&doc)?)?;
        return Ok(());
    }
    let rows: Vec<[String; 3]> = entries
        .iter()
        .map(|(name, value, source)| [(*name).to_owned(), show(value), source.to_string()])
        .collect();
    let name_w = rows.iter().map(|r| r[0].len()).max().unwrap_or(0);
    let value_w = rows
        .iter()
        .map(|r| r[1].chars().count())
        .max()
        .unwrap_or(0)
        .min(48);
    writeln!(out, "{:name_w$}  {:value_w$}  SOURCE", "SETTING", "VALUE")?;
    for [name, value, source] in rows {
        writeln!(out, "{name:name_w$}  {value:value_w$}  {source}")?;
    }
    Ok(())
}

/// A value as one table cell: unset values as `-`, lists and maps comma-separated.
fn show(value: &Value) -> String {
    match value {
        Value::Null => "-".to_owned(),
        Value::String(s) if s.is_empty() => "\"\"".to_owned(),
        Value::String(s) => s.clone(),
        Value::Array(items) if items.is_empty() => "-".to_owned(),
        Value::Array(items) => items.iter().map(show).collect::<Vec<_>>().join(","),
        Value::Object(map) if map.is_empty() => "-".to_owned(),
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| format!("{k}={}", show(v)))
            .collect::<Vec<_>>()
            .join(","),
        other => other.to_string(),
    }
}
