//! `sforge build`: render and build missing images, with SForge 1.0's console lines. Ctrl-C or
//! SIGTERM stops the builds, removes their secret files and exits 130.

use std::io::IsTerminal as _;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::Context as _;

use crate::app::console::Console;
use crate::app::selection::ImageCommand;
use crate::cli::{BuildArgs, GlobalArgs};
use crate::config::Settings;
use crate::image::{
    build_tasks, record_digests, Board, BuildEvents, BuildOptions, ImageBuilder, Outcome,
    TaskResult,
};
use crate::parallel;

/// Set by the first Ctrl-C or SIGTERM.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);
/// How long the signal handler keeps stopping `docker build` clients before it exits anyway.
const STOP_LIMIT: Duration = Duration::from_secs(10);

/// Ctrl-C or SIGTERM: start no more builds, remove the secret files of running ones, stop their
/// `docker build` clients (the daemon then cancels the builds), exit 130. The handler, not the
/// builds, ends the process.
fn install_signal_handler() -> anyhow::Result<()> {
    ctrlc::set_handler(|| {
        if INTERRUPTED.swap(true, Ordering::SeqCst) {
            return;
        }
        eprintln!("Interrupted — stopping the builds...");
        crate::image::stop_builds();
        let runner = crate::process::runner(false);
        let left = crate::process::terminate_children(runner.as_ref(), STOP_LIMIT);
        if !left.is_empty() {
            eprintln!("warning: processes {left:?} still run after {STOP_LIMIT:?}");
        }
        std::process::exit(130);
    })
    .context("cannot install the signal handler")
}

pub fn build_images(
    settings: &Settings,
    global: &GlobalArgs,
    args: &BuildArgs,
) -> anyhow::Result<ExitCode> {
    install_signal_handler()?;
    let ImageCommand {
        catalog,
        tasks,
        runner,
        docker,
        console,
        local,
    } = ImageCommand::prepare(settings, &args.select, args.dry_run)?;
    let builder = ImageBuilder {
        runner: runner.as_ref(),
        docker,
        log_dir: settings.log_dir.value.clone(),
        dry_run: args.dry_run,
    };
    let opts = BuildOptions {
        force: args.force_rebuild || args.force_rebuild_with_base,
        force_base: args.force_rebuild_with_base,
        jobs: args.jobs.map_or_else(parallel::default_jobs, usize::from),
    };
    let single = tasks.len() == 1;
    let images = tasks
        .iter()
        .flat_map(|t| [&t.images.base, &t.images.work, &t.images.judge].map(ToString::to_string));
    let events = ConsoleEvents {
        console: &console,
        task: single.then(|| &tasks[0]),
        stream: single && !global.silent,
        board: (!single && !global.silent && !args.dry_run).then(|| Board::new(images)),
        live: std::io::stdout().is_terminal(),
        drawn: Mutex::new((0, None)),
    };
    if single {
        console.say(&format!("Building images for task: {}", tasks[0].task_id));
    } else {
        console.say(&format!(
            "Building images for {} tasks in parallel (up to {} at a time; verbose output is off, build logs are under {})...",
            tasks.len(),
            opts.jobs,
            settings.log_dir.value.join("build_images").display()
        ));
    }
    let results = build_tasks(
        &builder,
        settings,
        &catalog.benchmark,
        &tasks,
        &local,
        opts,
        &events,
    );
    if INTERRUPTED.load(Ordering::SeqCst) {
        // The signal handler is stopping the builds and exits the process when done.
        std::thread::sleep(STOP_LIMIT * 2);
        return Ok(ExitCode::from(130));
    }
    if !args.dry_run {
        record_digests(&builder, &results);
    }
    if single {
        report_single(&console, &results[0]);
    } else {
        report_many(&console, &results);
    }
    let failed = results.iter().any(|r| r.error().is_some());
    console.say("Done.");
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

struct ConsoleEvents<'a> {
    console: &'a Console,
    task: Option<&'a crate::task::Task>,
    stream: bool,
    /// Several tasks: each image's state, redrawn in place on a terminal (`live`), else a
    /// line per finished image.
    board: Option<Board>,
    live: bool,
    /// Lines on screen and when they were drawn.
    drawn: Mutex<(usize, Option<Instant>)>,
}

impl ConsoleEvents<'_> {
    /// Redraws the board, at most once a second unless `now`.
    fn redraw(&self, board: &Board, now: bool) {
        let mut drawn = self.drawn.lock().unwrap_or_else(PoisonError::into_inner);
        if now
            || drawn
                .1
                .is_none_or(|at| at.elapsed() >= Duration::from_secs(1))
        {
            drawn.0 = crate::tty::redraw(&board.table(), drawn.0);
            drawn.1 = Some(Instant::now());
        }
    }
}

impl BuildEvents for ConsoleEvents<'_> {
    fn stage(&self, stage: u8) {
        let Some(task) = self.task else { return };
        match stage {
            1 => self.console.say(&format!(
                "[build] Stage 1/2: base image  ({})",
                task.images.base
            )),
            _ => self.console.say("[build] Stage 2/2: work + judge images"),
        }
    }

    fn line(&self, line: &str) {
        if self.stream {
            self.console.warn(&format!("    {line}"));
        }
        if let (Some(board), true) = (&self.board, self.live) {
            self.redraw(board, false);
        }
    }

    fn image_started(&self, image: &str) {
        let Some(board) = &self.board else { return };
        board.started(image);
        if self.live {
            self.redraw(board, true);
        } else {
            self.console.say(&format!("  {image}: building"));
        }
    }

    fn image_done(&self, image: &str, outcome: &Outcome) {
        let Some(board) = &self.board else { return };
        let line = board.done(image, outcome);
        if self.live {
            self.redraw(board, true);
        } else if !matches!(outcome, Outcome::Present) {
            self.console.say(&format!("  {line}"));
        }
    }
}

fn status(outcome: &Outcome) -> &'static str {
    match outcome {
        Outcome::Present => "present",
        Outcome::Built => "built",
        Outcome::Failed(_) => "FAILED",
    }
}

fn report_single(console: &Console, r: &TaskResult) {
    console.say(&format!(
        "  work:  {}  ({})",
        r.work.image,
        status(&r.work.outcome)
    ));
    console.say(&format!(
        "  judge: {}  ({})",
        r.judge.image,
        status(&r.judge.outcome)
    ));
    for (_, image) in r.images() {
        if let Outcome::Failed(e) = &image.outcome {
            console.warn(&format!("error: {e}"));
        }
    }
    console.say(&format!(
        "Base:  {}  ({})",
        r.base.image,
        status(&r.base.outcome)
    ));
    console.say(&format!("Work:  {}", r.work.image));
    console.say(&format!("Judge: {}", r.judge.image));
}

fn report_many(console: &Console, results: &[TaskResult]) {
    let (mut built, mut present, mut failed) = (0, 0, 0);
    for r in results {
        for (_, image) in r.images() {
            match image.outcome {
                Outcome::Built => built += 1,
                Outcome::Present => present += 1,
                Outcome::Failed(_) => failed += 1,
            }
        }
        match r.error() {
            Some(e) => console.warn(&format!("  [{}] FAILED: {e}", r.task_id)),
            None => console.say(&format!(
                "  [{}] OK  base={} work={} judge={}  ({})",
                r.task_id,
                r.base.image,
                r.work.image,
                r.judge.image,
                r.images()
                    .map(|(role, i)| format!("{role} {}", status(&i.outcome)))
                    .join(", ")
            )),
        }
    }
    console.say(&format!(
        "{built} built, {present} already present, {failed} failed (images counted per task)"
    ));
}
