//! `sforge push` and `sforge pull`: every image of the selected tasks, base images once each.

use std::collections::BTreeMap;
use std::process::ExitCode;

use crate::app::console::Console;
use crate::app::selection::ImageCommand;
use crate::cli::RegistryArgs;
use crate::config::Settings;
use crate::image::{default_backoff, Registry, Role, Transfer};
use crate::parallel;
use crate::task::Task;

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Push,
    Pull,
}

pub fn transfer(
    settings: &Settings,
    args: &RegistryArgs,
    direction: Direction,
) -> anyhow::Result<ExitCode> {
    let verb = if direction == Direction::Push {
        "push"
    } else {
        "pull"
    };
    let prefix = args
        .registry
        .clone()
        .or_else(|| settings.registry.value.clone())
        .filter(|r| !r.trim().is_empty())
        .ok_or_else(|| anyhow::anyhow!("--registry or SFORGE_REGISTRY is required for {verb}"))?;
    let ImageCommand {
        tasks,
        runner,
        docker,
        console,
        local,
        ..
    } = ImageCommand::prepare(settings, &args.select, args.dry_run)?;
    let registry = Registry {
        runner: runner.as_ref(),
        docker,
        prefix,
        backoff: default_backoff(),
    };
    let single = tasks.len() == 1;
    if single {
        header(&console, &tasks[0], &registry.prefix, direction);
    }
    let transfer = |image: &String| {
        let remote = registry.remote(image);
        let outcome = match direction {
            Direction::Push => {
                console.say(&format!("[registry] Pushing {remote} ..."));
                registry.push(image, &local)
            }
            Direction::Pull => {
                if !local.contains(image) {
                    console.say(&format!("[registry] Pulling {remote} ..."));
                }
                registry.pull(image, &local)
            }
        };
        console.say(&match (&outcome, direction) {
            (Transfer::Present, _) => {
                format!("[registry] {image} is already present locally, skipped")
            }
            (Transfer::Done, Direction::Push) => format!("[registry] Pushed {remote}"),
            (Transfer::Done, Direction::Pull) => format!("[registry] OK → retagged as {image}"),
            (Transfer::Failed(e), Direction::Push) => format!("[registry] Push failed: {e}"),
            (Transfer::Failed(e), Direction::Pull) => format!("[registry] Pull failed: {e}"),
        });
        outcome
    };
    let jobs = args.jobs.map_or(4, usize::from);
    // Base images first and once each, then the work and judge images.
    let mut bases: Vec<String> = tasks.iter().map(|t| t.images.base.to_string()).collect();
    bases.sort();
    bases.dedup();
    let mut outcomes: BTreeMap<String, Transfer> = bases
        .iter()
        .cloned()
        .zip(parallel::map(&bases, jobs, transfer))
        .collect();
    let others: Vec<String> = tasks
        .iter()
        .flat_map(|t| [t.images.work.to_string(), t.images.judge.to_string()])
        .collect();
    outcomes.extend(
        others
            .iter()
            .cloned()
            .zip(parallel::map(&others, jobs, transfer)),
    );
    let mut failed = false;
    for task in &tasks {
        failed |= report(&console, task, &outcomes, single);
    }
    console.say("Done.");
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn header(console: &Console, task: &Task, registry: &str, direction: Direction) {
    match direction {
        Direction::Pull => {
            console.say(&format!("Pulling images for task: {}", task.task_id));
            console.say(&format!("Registry: {registry}"));
            console.say(&format!("Work:  {}", task.images.work));
            console.say(&format!("Judge: {}", task.images.judge));
        }
        Direction::Push => {
            console.say(&format!("Pushing images for task: {}", task.task_id));
            console.say(&format!("Registry: {registry}"));
            console.say(&format!("Base hash:  {}", task.images.base.tag));
            console.say(&format!("Work hash:  {}", task.images.work.tag));
            console.say(&format!("Judge hash: {}", task.images.judge.tag));
        }
    }
}

/// Print the task's line(s); true when any of its images failed.
fn report(
    console: &Console,
    task: &Task,
    outcomes: &BTreeMap<String, Transfer>,
    single: bool,
) -> bool {
    let images = [
        (Role::Base, task.images.base.to_string()),
        (Role::Work, task.images.work.to_string()),
        (Role::Judge, task.images.judge.to_string()),
    ];
    let ok = |image: &String| outcomes.get(image).is_some_and(Transfer::is_ok);
    let failed = images.iter().any(|(_, i)| !ok(i));
    if single {
        for (role, image) in &images {
            let label = format!("{}:", capitalise(role.as_str()));
            console.say(&format!(
                "{label:<6} {}",
                if ok(image) { "OK" } else { "FAILED" }
            ));
        }
    } else {
        let parts: Vec<String> = images
            .iter()
            .map(|(role, i)| format!("{role}={}", if ok(i) { "OK" } else { "FAIL" }))
            .collect();
        let line = format!(
            "  [{}] {}  {}",
            task.task_id,
            if failed { "PARTIAL" } else { "OK" },
            parts.join(" ")
        );
        if failed {
            console.warn(&line);
        } else {
            console.say(&line);
        }
    }
    failed
}

fn capitalise(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map_or_else(String::new, |c| c.to_uppercase().chain(chars).collect())
}
