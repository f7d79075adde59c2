//! Resolving `--task ID... | --all` against the tasks directory.

use crate::cli::TaskSelection;
use crate::task::{Catalog, Task};

/// The selected tasks, in the order given (`--all`: file-name order). Any unknown id is an error.
pub fn select(catalog: &Catalog, selection: &TaskSelection) -> anyhow::Result<Vec<Task>> {
    if selection.all {
        return Ok(catalog.all_tasks()?);
    }
    let mut tasks: Vec<Task> = Vec::new();
    for id in &selection.task {
        if !tasks.iter().any(|t| &t.task_id == id) {
            tasks.push(catalog.task(id)?);
        }
    }
    Ok(tasks)
}
