//! A unified diff between the files of two submitted archives: changed files only, at most
//! [`MAX_FILES`] of them and [`MAX_LINES`] lines each, binary files as "binary changed", and
//! every text diff bounded in time (Myers with a deadline, then a coarser answer) so that long
//! files with a huge edit distance cannot hold a worker (docs/visualizer.md#submission-diffs).

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use serde::Serialize;
use similar::{Algorithm, ChangeTag, DiffOp, TextDiff};

use super::snapshot::Content;

/// Most changed files shown.
pub const MAX_FILES: usize = 50;
/// Most diff lines shown per file.
pub const MAX_LINES: usize = 500;
/// Longest line shown (bytes, cut at a character boundary).
pub const MAX_LINE_BYTES: usize = 2000;
/// Time the diff algorithm may take per file before it settles for a coarser diff.
const FILE_TIME: Duration = Duration::from_millis(250);
/// Time for all files of one diff; later files get a coarse diff at once.
const TOTAL_TIME: Duration = Duration::from_secs(3);
/// Lines of context around each change.
const CONTEXT: usize = 3;

/// One line of a hunk: `op` is `+`, `-` or a space.
#[derive(Debug, Clone, Serialize)]
pub struct Line {
    pub op: &'static str,
    pub text: String,
}

/// One hunk with its `@@ -a,b +c,d @@` header.
#[derive(Debug, Clone, Serialize)]
pub struct Hunk {
    pub header: String,
    pub lines: Vec<Line>,
}

/// The change of one file.
#[derive(Debug, Clone, Serialize)]
pub struct FileDiff {
    pub path: String,
    /// added, removed, modified or binary.
    pub status: &'static str,
    /// Sizes in bytes on each side (absent on the side without the file).
    pub old_size: Option<u64>,
    pub new_size: Option<u64>,
    /// Lines added and removed in the whole file (also those not shown).
    pub added: usize,
    pub removed: usize,
    pub hunks: Vec<Hunk>,
    /// What of this file's diff is not shown, if anything.
    pub cut: Option<String>,
}

/// The changed files between two archives, and what was left out.
#[derive(Debug, Clone, Serialize)]
pub struct Diff {
    pub files: Vec<FileDiff>,
    /// Changed files in all (also those not shown).
    pub changed: usize,
    pub unchanged: usize,
    pub cut: Option<String>,
}

/// Diffs `old` (empty when there is no previous round) against `new`.
#[must_use]
pub fn diff(old: &BTreeMap<String, Content>, new: &BTreeMap<String, Content>) -> Diff {
    let paths: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    let started = Instant::now();
    let mut files = Vec::new();
    let (mut changed, mut unchanged) = (0, 0);
    for path in paths {
        let (a, b) = (old.get(path), new.get(path));
        if same(a, b) {
            unchanged += 1;
            continue;
        }
        changed += 1;
        if files.len() >= MAX_FILES {
            continue;
        }
        let deadline = (started + TOTAL_TIME)
            .max(Instant::now())
            .min(Instant::now() + FILE_TIME);
        files.push(file_diff(path, a, b, deadline));
    }
    let cut = (changed > files.len()).then(|| {
        format!(
            "{} more changed file(s) not shown (at most {MAX_FILES})",
            changed - files.len()
        )
    });
    Diff {
        files,
        changed,
        unchanged,
        cut,
    }
}

/// Whether a file is on both sides with the same bytes: digests are compared, since the same
/// file may be text on one side and binary on the other (past the text budget of one archive).
fn same(a: Option<&Content>, b: Option<&Content>) -> bool {
    matches!((a, b), (Some(a), Some(b)) if a.digest() == b.digest())
}

/// Whether a file was over the size read as text (compared by digest only).
fn large(c: Option<&Content>) -> bool {
    c.is_some_and(|c| c.size() > super::snapshot::MAX_FILE)
}

fn file_diff(path: &str, a: Option<&Content>, b: Option<&Content>, deadline: Instant) -> FileDiff {
    let status = match (a, b) {
        (Some(Content::Binary { .. }), _) | (_, Some(Content::Binary { .. })) => "binary",
        (None, _) => "added",
        (_, None) => "removed",
        _ => "modified",
    };
    let mut file = FileDiff {
        path: path.to_owned(),
        status,
        old_size: a.map(Content::size),
        new_size: b.map(Content::size),
        added: 0,
        removed: 0,
        hunks: Vec::new(),
        cut: None,
    };
    if status == "binary" {
        if large(a) || large(b) {
            file.cut = Some(format!(
                "over {} bytes: compared by SHA-256 only",
                super::snapshot::MAX_FILE
            ));
        }
        return file;
    }
    let text = |c: Option<&Content>| match c {
        Some(Content::Text { text, .. }) => text.clone(),
        _ => String::new(),
    };
    let (old, new) = (text(a), text(b));
    let diff = TextDiff::configure()
        .algorithm(Algorithm::Myers)
        .deadline(deadline)
        .diff_lines(&old, &new);
    for op in diff.ops() {
        match *op {
            DiffOp::Insert { new_len, .. } => file.added += new_len,
            DiffOp::Delete { old_len, .. } => file.removed += old_len,
            DiffOp::Replace {
                old_len, new_len, ..
            } => {
                file.added += new_len;
                file.removed += old_len;
            }
            DiffOp::Equal { .. } => {}
        }
    }
    let mut shown = 0usize;
    let mut long_lines = false;
    for hunk in diff.unified_diff().context_radius(CONTEXT).iter_hunks() {
        if shown >= MAX_LINES {
            break;
        }
        let mut lines = Vec::new();
        for change in hunk.iter_changes() {
            if shown >= MAX_LINES {
                break;
            }
            let op = match change.tag() {
                ChangeTag::Equal => " ",
                ChangeTag::Delete => "-",
                ChangeTag::Insert => "+",
            };
            let value = change.value().trim_end_matches(['\n', '\r']);
            let text = if value.len() > MAX_LINE_BYTES {
                long_lines = true;
                let mut end = MAX_LINE_BYTES;
                while !value.is_char_boundary(end) {
                    end -= 1;
                }
                format!("{}…", &value[..end])
            } else {
                value.to_owned()
            };
            lines.push(Line { op, text });
            shown += 1;
        }
        file.hunks.push(Hunk {
            header: hunk.header().to_string().trim_end().to_owned(),
            lines,
        });
    }
    let mut notes = Vec::new();
    if shown >= MAX_LINES && file.added + file.removed + 1 > shown {
        notes.push(format!("only the first {MAX_LINES} diff lines are shown"));
    }
    if long_lines {
        notes.push(format!("lines over {MAX_LINE_BYTES} bytes are cut"));
    }
    file.cut = (!notes.is_empty()).then(|| notes.join("; "));
    file
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `n` lines made by `line`.
    fn numbered(n: u64, line: impl Fn(u64) -> u64) -> String {
        use std::fmt::Write as _;
        (0..n).fold(String::new(), |mut out, i| {
            let _ = writeln!(out, "{}", line(i));
            out
        })
    }

    fn files(list: &[(&str, &str)]) -> BTreeMap<String, Content> {
        list.iter()
            .map(|(p, t)| ((*p).to_owned(), Content::text((*t).to_owned())))
            .collect()
    }

    #[test]
    fn changes_are_classified_and_shown_as_hunks() {
        let old = files(&[
            ("a.py", "x = 1\ny = 2\n"),
            ("gone.py", "bye\n"),
            ("same", "s\n"),
        ]);
        let mut new = files(&[
            ("a.py", "x = 1\ny = 3\n"),
            ("new.py", "hi\n"),
            ("same", "s\n"),
        ]);
        new.insert(
            "logo.png".to_owned(),
            Content::Binary {
                size: 10,
                digest: [0; 32],
            },
        );
        let d = diff(&old, &new);
        let by = |p: &str| d.files.iter().find(|f| f.path == p).unwrap();
        assert_eq!(d.changed, 4);
        assert_eq!(d.unchanged, 1);
        assert_eq!(by("a.py").status, "modified");
        assert_eq!((by("a.py").added, by("a.py").removed), (1, 1));
        let lines = &by("a.py").hunks[0].lines;
        assert!(lines.iter().any(|l| l.op == "-" && l.text == "y = 2"));
        assert!(lines.iter().any(|l| l.op == "+" && l.text == "y = 3"));
        assert!(by("a.py").hunks[0].header.starts_with("@@ -1,2 +1,2 @@"));
        assert_eq!(by("gone.py").status, "removed");
        assert_eq!(by("new.py").status, "added");
        assert_eq!(by("logo.png").status, "binary");
        assert!(by("logo.png").hunks.is_empty());
        assert!(d.cut.is_none());
    }

    #[test]
    fn output_is_capped_in_files_lines_and_line_length() {
        let many: Vec<(String, String)> = (0..MAX_FILES + 5)
            .map(|i| (format!("f{i:03}"), format!("{i}\n")))
            .collect();
        let new: BTreeMap<String, Content> = many
            .into_iter()
            .map(|(p, t)| (p, Content::text(t)))
            .collect();
        let d = diff(&BTreeMap::new(), &new);
        assert_eq!(d.files.len(), MAX_FILES);
        assert_eq!(d.changed, MAX_FILES + 5);
        assert!(d.cut.unwrap().contains("5 more"));

        let long = numbered(2000, |i| i);
        let wide = format!("{}\n", "é".repeat(MAX_LINE_BYTES));
        let d = diff(&files(&[]), &files(&[("long", &long), ("wide", &wide)]));
        let f = &d.files[0];
        assert_eq!(f.added, 2000);
        assert_eq!(
            f.hunks.iter().map(|h| h.lines.len()).sum::<usize>(),
            MAX_LINES
        );
        assert!(f.cut.as_ref().unwrap().contains("first 500"));
        assert!(d.files[1].hunks[0].lines[0].text.len() <= MAX_LINE_BYTES + 3);
        assert!(d.files[1].cut.as_ref().unwrap().contains("cut"));
    }

    #[test]
    fn huge_edit_distances_still_finish() {
        let a = numbered(50_000, |i| i * 7919 % 50_000);
        let b = numbered(50_000, |i| i * 104_729 % 50_000);
        let d = diff(&files(&[("x", &a)]), &files(&[("x", &b)]));
        // Same lines, shuffled two ways: a huge edit distance, answered (coarsely) in bounded time.
        let f = &d.files[0];
        assert_eq!(f.added, f.removed);
        assert!(f.added > 0 && f.added <= 50_000);
        assert_eq!(
            f.hunks.iter().map(|h| h.lines.len()).sum::<usize>(),
            MAX_LINES
        );
    }
}
