//! The processes this one started and that still run, read from `/proc`, and stopping them on a
//! signal (`sforge build`: a `docker build` client that gets SIGTERM cancels its build).

use std::path::Path;
use std::time::{Duration, Instant};

use super::cmd::Cmd;
use super::runner::Runner;

/// Pause between two rounds of [`terminate_children`].
const ROUND: Duration = Duration::from_millis(100);

/// Process ids of the running (not zombie) children of this process.
#[must_use]
pub fn live_children() -> Vec<u32> {
    children_of(Path::new("/proc"), std::process::id())
}

/// Running children of `parent` according to the `stat` files under `proc`.
fn children_of(proc: &Path, parent: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir(proc) else {
        return Vec::new();
    };
    let mut pids: Vec<u32> = entries
        .flatten()
        .filter_map(|entry| {
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
            let (state, parent_pid) = parse_stat(&stat)?;
            (parent_pid == parent && state != 'Z' && state != 'X').then_some(pid)
        })
        .collect();
    pids.sort_unstable();
    pids
}

/// (state, parent pid) of a `/proc/<pid>/stat` line: `pid (comm) state ppid …`, where `comm`
/// may hold spaces and parentheses (the last `)` ends it).
fn parse_stat(stat: &str) -> Option<(char, u32)> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace();
    let state = fields.next()?.chars().next()?;
    let ppid = fields.next()?.parse().ok()?;
    Some((state, ppid))
}

/// Sends SIGTERM to every running child, again each round for children started meanwhile,
/// until none runs or `within` has passed; returns the children still running then.
pub fn terminate_children(runner: &dyn Runner, within: Duration) -> Vec<u32> {
    let deadline = Instant::now() + within;
    loop {
        let pids = live_children();
        if pids.is_empty() || Instant::now() >= deadline {
            return pids;
        }
        // The shell's builtin `kill`: present wherever `sh` is.
        let kill = Cmd::new("sh")
            .args(["-c", r#"kill -TERM "$@" 2>/dev/null; exit 0"#, "sh"])
            .args(pids.iter().map(u32::to_string));
        if let Err(e) = runner.run(&kill) {
            log::warn!("cannot stop the child processes {pids:?}: {e}");
        }
        std::thread::sleep(ROUND);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_lines_with_odd_command_names() {
        assert_eq!(parse_stat("42 (docker) S 7 42 42 0"), Some(('S', 7)));
        assert_eq!(parse_stat("42 (a) b) (c) R 9 1"), Some(('R', 9)));
        assert_eq!(parse_stat("42 (x) Z 1"), Some(('Z', 1)));
        assert_eq!(parse_stat("garbage"), None);
    }

    #[test]
    fn children_are_found_by_parent_and_zombies_skipped() {
        let proc = tempfile::tempdir().unwrap();
        for (pid, stat) in [
            ("10", "10 (docker) S 5 0"),
            ("11", "11 (sh) Z 5 0"),
            ("12", "12 (other) S 6 0"),
            ("self", "1 (x) S 5 0"),
        ] {
            std::fs::create_dir(proc.path().join(pid)).unwrap();
            std::fs::write(proc.path().join(pid).join("stat"), stat).unwrap();
        }
        assert_eq!(children_of(proc.path(), 5), [10]);
    }
}
