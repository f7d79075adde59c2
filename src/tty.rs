//! Redrawing a block of lines in place on a terminal (the live views of `run` and `build`).

use std::io::Write;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

/// The status line kept at the bottom of the terminal while other output scrolls above it.
#[derive(Debug)]
struct Footer {
    /// The text, while a footer is kept.
    text: Option<String>,
    /// Whether it is on screen now (it is hidden while a partial line is printed).
    shown: bool,
    /// Whether the cursor is at the start of a line (apart from the footer).
    at_line_start: bool,
}

static FOOTER: Mutex<Footer> = Mutex::new(Footer {
    text: None,
    shown: false,
    at_line_start: true,
});

/// Shows `text` as the footer (replacing the last one).
pub fn set_footer(text: &str) {
    let mut footer = FOOTER.lock().unwrap_or_else(PoisonError::into_inner);
    footer.text = Some(text.to_owned());
    let mut out = std::io::stdout().lock();
    if footer.shown {
        let _ = out.write_all(b"\r\x1b[K");
        footer.shown = false;
    }
    if footer.at_line_start {
        let _ = out.write_all(text.as_bytes());
        footer.shown = true;
    }
    let _ = out.flush();
}

/// Removes the footer for good.
pub fn clear_footer() {
    let mut footer = FOOTER.lock().unwrap_or_else(PoisonError::into_inner);
    if footer.shown {
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(b"\r\x1b[K");
        let _ = out.flush();
    }
    footer.text = None;
    footer.shown = false;
}

/// Writes `bytes` to stdout above the footer (when there is one).
pub fn echo(bytes: &[u8]) {
    let mut footer = FOOTER.lock().unwrap_or_else(PoisonError::into_inner);
    let mut out = std::io::stdout().lock();
    if footer.shown {
        let _ = out.write_all(b"\r\x1b[K");
        footer.shown = false;
    }
    let _ = out.write_all(bytes);
    if let Some(&last) = bytes.last() {
        footer.at_line_start = last == b'\n';
    }
    if let (Some(text), true) = (&footer.text, footer.at_line_start) {
        let _ = out.write_all(text.as_bytes());
        footer.shown = true;
    }
    let _ = out.flush();
}

/// Replaces the `drawn` lines printed last on stdout with `lines`; returns how many lines are on
/// screen now (to pass as `drawn` next time).
#[must_use = "the count is the next call's `drawn`"]
pub fn redraw(lines: &[String], drawn: usize) -> usize {
    // Up to the first line of the last drawing, then clear to the end of the screen.
    let mut text = if drawn > 0 {
        format!("\x1b[{drawn}F\x1b[J")
    } else {
        String::new()
    };
    for line in lines {
        text.push_str(line);
        text.push('\n');
    }
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
    lines.len()
}

/// `m:ss`, or `h:mm:ss` from an hour.
#[must_use]
pub fn clock(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_like_clocks() {
        assert_eq!(clock(Duration::from_secs(75)), "1:15");
        assert_eq!(clock(Duration::from_secs(3725)), "1:02:05");
    }
}
