//! `sforge list`: the task table of SForge 1.0 (ID, Name, Base Image, Parser), or JSON with
//! each task's image names.

use std::io::Write;

use serde_json::json;
use unicode_width::UnicodeWidthChar;

use crate::cli::ListArgs;
use crate::config::Settings;
use crate::task::{Catalog, Task};

pub fn list_tasks(settings: &Settings, args: &ListArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let dir = &settings.tasks_dir.value;
    if !dir.is_dir() {
        anyhow::bail!(
            "tasks directory {} does not exist (set it with --tasks-dir or SFORGE_TASKS_DIR)",
            dir.display()
        );
    }
    let tasks = Catalog::open(dir)?.all_tasks()?;
    if args.json {
        let items: Vec<_> = tasks.iter().map(task_json).collect();
        writeln!(out, "{}", serde_json::to_string_pretty(&items)?)?;
    } else if tasks.is_empty() {
        writeln!(out, "No tasks found in {}", dir.display())?;
    } else {
        out.write_all(table(&tasks).as_bytes())?;
    }
    Ok(())
}

fn task_json(t: &Task) -> serde_json::Value {
    json!({
        "task_id": t.task_id,
        "name": t.name,
        "base_image": t.base_image,
        "parser": t.judge.parser,
        "platform": t.platform,
        "internet": t.internet,
        "game_mode": t.game_mode,
        "images": {
            "base": t.images.base.to_string(),
            "work": t.images.work.to_string(),
            "judge": t.images.judge.to_string(),
        },
    })
}

/// Columns as wide as their widest cell plus 2, left-aligned, joined by one space (trailing
/// spaces kept), then a dash line as long as the widths plus 3.
#[must_use]
pub fn table(tasks: &[Task]) -> String {
    let header = ["ID", "Name", "Base Image", "Parser"];
    let rows: Vec<[&str; 4]> = tasks
        .iter()
        .map(|t| [t.task_id.as_str(), &t.name, &t.base_image, &t.judge.parser])
        .collect();
    let mut widths = header.map(display_width);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(display_width(cell));
        }
    }
    let widths = widths.map(|w| w + 2);
    let line = |cells: [&str; 4]| -> String {
        let padded: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(cell, w)| format!("{cell}{}", " ".repeat(w - display_width(cell))))
            .collect();
        padded.join(" ") + "\n"
    };
    let mut text = line(header);
    text.push_str(&"-".repeat(widths.iter().sum::<usize>() + 3));
    text.push('\n');
    for row in rows {
        text.push_str(&line(row));
    }
    text
}

/// East-Asian wide and full-width characters count 2 columns, every other character 1.
fn display_width(text: &str) -> usize {
    text.chars()
        .map(|c| if c.width() == Some(2) { 2 } else { 1 })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::display_width;

    #[test]
    fn wide_characters_count_twice() {
        assert_eq!(display_width("Demo Tâsk"), 9);
        assert_eq!(display_width("任务"), 4);
        assert_eq!(display_width("ｔａｓｋ"), 8);
    }
}
