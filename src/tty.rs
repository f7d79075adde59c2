//! Redrawing a block of lines in place on a terminal (the live views of `run` and `build`).

use std::io::Write;
use std::time::Duration;

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
