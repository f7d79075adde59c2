//! How progress reaches the console: on a terminal with several tasks, a table redrawn in place
//! every second; otherwise one line per phase change and graded round, and every minute a
//! status line per running task; nothing with `--silent`. The view also polls the judge's
//! history of each registered task for new rounds.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::judge_client::JudgeClient;
use super::progress::{Progress, TaskState};
use crate::tty::clock;

/// How often the view looks.
const TICK: Duration = Duration::from_secs(1);
/// How often the judge's history is read.
const POLL: Duration = Duration::from_secs(3);
/// How often plain output repeats every running task's status.
const STATUS_EVERY: Duration = Duration::from_secs(60);

/// Where progress goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ViewMode {
    /// A table redrawn in place (a terminal, several tasks).
    Live,
    /// One task on a terminal: its status as a footer under the agent's streaming output.
    Footer,
    /// Lines as things happen (a pipe, a log file, or one task whose agent output streams).
    Lines,
    /// Nothing on the console (events still go to the events file).
    Off,
}

/// The running view; [`ProgressView::stop`] draws the last state.
pub struct ProgressView {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl ProgressView {
    #[must_use]
    pub fn start(progress: Arc<Progress>, client: JudgeClient, mode: ViewMode) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("progress".to_owned())
            .spawn(move || watch(&progress, &client, mode, &flag))
            .map_err(|e| log::warn!("no progress view: {e}"))
            .ok();
        ProgressView { stop, thread }
    }

    pub fn stop(mut self) {
        self.halt();
    }

    fn halt(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for ProgressView {
    fn drop(&mut self) {
        self.halt();
    }
}

fn watch(progress: &Progress, client: &JudgeClient, mode: ViewMode, stop: &AtomicBool) {
    let mut drawn = 0;
    let mut last_poll: Option<Instant> = None;
    let mut last_status = Instant::now();
    loop {
        let stopping = stop.load(Ordering::SeqCst);
        if stopping || last_poll.is_none_or(|t| t.elapsed() >= POLL) {
            poll(progress, client);
            last_poll = Some(Instant::now());
        }
        let lines = progress.take_lines();
        match mode {
            ViewMode::Live => drawn = crate::tty::redraw(&table(&progress.snapshot()), drawn),
            ViewMode::Lines => {
                for line in lines {
                    outln!("{line}");
                }
                if last_status.elapsed() >= STATUS_EVERY {
                    last_status = Instant::now();
                    for s in progress.snapshot().iter().filter(|s| !s.done) {
                        outln!("[{}] {}", s.task, status(s));
                    }
                }
            }
            ViewMode::Footer => match progress.snapshot().first() {
                Some(s) if !stopping => {
                    crate::tty::set_footer(&format!(
                        "[{}] {}  {}",
                        s.task,
                        status(s),
                        s.last_event
                    ));
                }
                _ => crate::tty::clear_footer(),
            },
            ViewMode::Off => {}
        }
        if stopping {
            return;
        }
        std::thread::sleep(TICK);
    }
}

/// New graded rounds of every registered task still running.
fn poll(progress: &Progress, client: &JudgeClient) {
    for s in progress.snapshot() {
        if let (Some(token), false) = (&s.token, s.done) {
            if let Ok(history) = client.history(token) {
                progress.history(&s.task, &history);
            }
        }
    }
}

/// The live table: a header and one row per task.
#[must_use]
pub fn table(tasks: &[TaskState]) -> Vec<String> {
    let width = tasks.iter().map(|s| s.task.len()).max().unwrap_or(4).max(4);
    let mut rows = vec![format!(
        "{:<width$}  {:<9}  {:<13}  {:>6}  {:<14}  LAST",
        "TASK", "PHASE", "TIME", "ROUNDS", "BEST"
    )];
    for s in tasks {
        rows.push(format!(
            "{:<width$}  {:<9}  {:<13}  {:>6}  {:<14}  {}",
            s.task,
            s.phase,
            time(s),
            s.rounds,
            best(s),
            clip(&s.last_event, 48)
        ));
    }
    rows
}

fn status(s: &TaskState) -> String {
    format!(
        "{} {}, {} rounds, best {}",
        s.phase,
        time(s),
        s.rounds,
        best(s)
    )
}

/// Elapsed against the budget while the agent runs, else since the task started.
fn time(s: &TaskState) -> String {
    match s.agent {
        Some((at, budget)) => format!("{} / {}", clock(at.elapsed()), clock(budget)),
        None => clock(s.started.elapsed()),
    }
}

fn best(s: &TaskState) -> String {
    match (s.best_pass_rate, s.best_score) {
        (Some(rate), Some(score)) => format!("{:.0}% ({score})", rate * 100.0),
        (Some(rate), None) => format!("{:.0}%", rate * 100.0),
        _ => "-".to_owned(),
    }
}

fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max - 1).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_aligns_and_times_read_like_clocks() {
        let p = Progress::new(&["text_utils".to_owned(), "tp".to_owned()], None).unwrap();
        p.phase("tp", "install");
        let rows = table(&p.snapshot());
        assert_eq!(rows.len(), 3);
        assert!(rows[0].starts_with("TASK        PHASE"), "{rows:?}");
        assert!(
            rows[2].starts_with("tp          install    0:00"),
            "{rows:?}"
        );
        assert_eq!(clip("abcdef", 4), "abc…");
    }
}
