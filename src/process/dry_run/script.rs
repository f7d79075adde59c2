//! The text a plan prints for one command, runnable as printed (docs/architecture.md#plans):
//! secrets are `${NAME:?…}` references read when the script is replayed, stdin is a
//! here-document, a file, or a here-document computed at replay time, and addresses that could
//! not be resolved here are the variables of their [`ReplayLookup`].

use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::process::cmd::Cmd;
use crate::process::replay::{heredoc_escape, secret_ref, ReplayLookup, ReplayStdin};
use crate::shell::{is_variable_name, quote};

/// Here-document delimiter for stdin; a suffix is added if the text contains it.
const HEREDOC_END: &str = "SFORGE_STDIN";

/// Where binary stdin (archives copied into containers) is written, so that the plan reads it
/// from a file when replayed.
pub struct StdinFiles {
    pub dir: PathBuf,
    next: AtomicUsize,
}

impl StdinFiles {
    #[must_use]
    pub fn new(dir: PathBuf) -> Self {
        StdinFiles {
            dir,
            next: AtomicUsize::new(1),
        }
    }

    fn write(&self, bytes: &[u8]) -> std::io::Result<PathBuf> {
        std::fs::create_dir_all(&self.dir)?;
        let n = self.next.fetch_add(1, Ordering::SeqCst);
        let path = self.dir.join(format!("stdin-{n:03}.bin"));
        std::fs::write(&path, bytes)?;
        Ok(path)
    }
}

/// What the printer knows besides the command.
#[derive(Default, Clone, Copy)]
pub struct Context<'a> {
    pub lookups: &'a [ReplayLookup],
    pub files: Option<&'a StdinFiles>,
}

/// The script text for one command, ending in a newline.
pub fn render(cmd: &Cmd, ctx: Context<'_>) -> std::io::Result<String> {
    let mut out = String::new();
    if let Some(note) = cmd.get_note() {
        let _ = writeln!(out, "# {note}");
    }
    let line = command_line(cmd, ctx.lookups);
    if let Some(path) = cmd.get_stdin_file() {
        let _ = writeln!(out, "{line} < {}", quote(&path.to_string_lossy()));
        return Ok(out);
    }
    if let Some(replay) = cmd.get_replay_stdin() {
        out.push_str(&replay.prelude);
        out.push_str(&unquoted_heredoc(&line, &replay.body));
        return Ok(out);
    }
    let Some(stdin) = cmd.get_stdin() else {
        match ctx
            .lookups
            .iter()
            .find(|l| line.contains(&l.sentinel.to_string()))
        {
            Some(lookup) => out.push_str(&lookup.loop_line(&line)),
            None => {
                let _ = writeln!(out, "{line}");
            }
        }
        return Ok(out);
    };
    let text = std::str::from_utf8(stdin)
        .ok()
        .filter(|t| !t.contains('\0'));
    match (text, ctx.files) {
        (Some(text), _) if !cmd.is_stdin_secret() => match expand_lookups(text, ctx.lookups) {
            Some(replay) => {
                out.push_str(&replay.prelude);
                out.push_str(&unquoted_heredoc(&line, &replay.body));
            }
            None => out.push_str(&heredoc(&line, text)),
        },
        (None, Some(files)) if !cmd.is_stdin_secret() => {
            let path = files.write(stdin)?;
            let _ = writeln!(out, "{line} < {}", quote(&path.to_string_lossy()));
        }
        _ => {
            let kind = if cmd.is_stdin_secret() {
                "secret"
            } else {
                "binary"
            };
            let n = stdin.len();
            let _ = writeln!(
                out,
                "# the next command reads {n} bytes on stdin ({kind}, not shown)\n{line}"
            );
        }
    }
    Ok(out)
}

/// `K=V program args`: secret values are `${K:?…}` references; an `--add-host` standing for a
/// host resolved at replay becomes that host's `--add-host` words.
fn command_line(cmd: &Cmd, lookups: &[ReplayLookup]) -> String {
    let mut line = String::new();
    if let Some(dir) = cmd.get_cwd() {
        let _ = write!(line, "(cd {} && ", quote(&dir.to_string_lossy()));
    }
    let plain = cmd.get_env().iter().all(|(k, _)| is_variable_name(k));
    if !plain {
        line.push_str("env ");
    }
    for (key, value) in cmd.get_env() {
        let shown = match (value.secret, plain) {
            (true, true) => format!("{key}=\"{}\"", secret_ref(key)),
            (_, true) => format!("{key}={}", quote(value.shown())),
            (_, false) => quote(&format!("{key}={}", value.shown())).into_owned(),
        };
        let _ = write!(line, "{shown} ");
    }
    line.push_str(&quote(cmd.program()));
    let args = cmd.get_args();
    let mut i = 0;
    while i < args.len() {
        let pin = args
            .get(i + 1)
            .filter(|_| args[i] == "--add-host")
            .and_then(|next| lookups.iter().find(|l| l.pin() == *next));
        if let Some(lookup) = pin {
            let _ = write!(line, " ${}", lookup.add_hosts_var());
            i += 2;
        } else {
            let _ = write!(line, " {}", quote(&args[i]));
            i += 1;
        }
    }
    if cmd.get_cwd().is_some() {
        line.push(')');
    }
    line
}

/// A delimiter that no line of `text` equals.
fn delimiter(text: &str) -> String {
    let mut end = HEREDOC_END.to_string();
    for n in 1.. {
        if !text.lines().any(|l| l == end) {
            break;
        }
        end = format!("{HEREDOC_END}_{n}");
    }
    end
}

/// `line <<'END'`, the text, and `END`.
fn heredoc(line: &str, text: &str) -> String {
    let end = delimiter(text);
    let mut out = String::new();
    if !text.is_empty() && !text.ends_with('\n') {
        out.push_str("# the here-document below adds a final newline\n");
    }
    let _ = write!(out, "{line} <<'{end}'\n{text}");
    if !text.is_empty() && !text.ends_with('\n') {
        out.push('\n');
    }
    let _ = writeln!(out, "{end}");
    out
}

/// `line <<END` (expanded when replayed), the body, and `END`.
fn unquoted_heredoc(line: &str, body: &str) -> String {
    let end = delimiter(body);
    let mut out = format!("{line} <<{end}\n{body}");
    if !body.is_empty() && !body.ends_with('\n') {
        out.push('\n');
    }
    let _ = writeln!(out, "{end}");
    out
}

/// YAML `text` whose list items holding a replay lookup's sentinel are repeated, when the plan
/// is replayed, once per address of the host (`None` when no sentinel is in it).
fn expand_lookups(text: &str, lookups: &[ReplayLookup]) -> Option<ReplayStdin> {
    if !lookups
        .iter()
        .any(|l| text.contains(&l.sentinel.to_string()))
    {
        return None;
    }
    let mut lines: Vec<String> = text.lines().map(heredoc_escape).collect();
    let mut prelude = String::new();
    let mut n = 0;
    while let Some((i, lookup)) = lines.iter().enumerate().find_map(|(i, l)| {
        lookups
            .iter()
            .find(|k| l.contains(&k.sentinel.to_string()))
            .map(|k| (i, k))
    }) {
        n += 1;
        let (start, end) = item_span(&lines, i);
        let var = format!("{}_YAML_{n}", lookup.var.trim_end_matches("_IPV4"));
        let sentinel = lookup.sentinel.to_string();
        let item: Vec<String> = lines[start..end]
            .iter()
            .map(|l| l.replace(&sentinel, "${ip}"))
            .collect();
        let item = item.join("\n");
        let stop = delimiter(&item);
        let _ = write!(
            prelude,
            "{var}=$(for ip in ${}; do cat <<{stop}\n{item}\n{stop}\ndone)\n",
            lookup.var,
        );
        lines.splice(start..end, [format!("${{{var}}}")]);
    }
    let mut body = lines.join("\n");
    body.push('\n');
    Some(ReplayStdin { prelude, body })
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

fn is_item(line: &str) -> bool {
    let t = line.trim_start_matches(' ');
    t == "-" || t.starts_with("- ")
}

/// The lines `start..end` of the outermost YAML list item that holds line `i` (line `i` alone
/// when it is in no list).
fn item_span(lines: &[String], i: usize) -> (usize, usize) {
    let mut start = None;
    let mut min = indent(&lines[i]);
    if is_item(&lines[i]) {
        start = Some(i);
    }
    for j in (0..i).rev() {
        let ind = indent(&lines[j]);
        if ind < min {
            if is_item(&lines[j]) {
                start = Some(j);
            }
            min = ind;
        }
    }
    let Some(start) = start else {
        return (i, i + 1);
    };
    let level = indent(&lines[start]);
    let end = (start + 1..lines.len())
        .find(|&k| indent(&lines[k]) <= level)
        .unwrap_or(lines.len());
    (start, end)
}

#[cfg(test)]
#[path = "script_tests.rs"]
mod tests;
