//! One window of a large line-oriented file (`agent_output.txt`, which may be 256 MiB): at most
//! a fixed number of bytes from the line that starts at or after an offset, cut after its last
//! complete line, never the whole file (docs/visualizer.md#trajectories).

use std::path::Path;

use super::error::VizError;
use super::files;

/// A window of whole lines and where it sits in the file.
#[derive(Debug, Clone)]
pub struct Window {
    /// The window's bytes (whole lines, except as said on [`read_lines`]).
    pub bytes: Vec<u8>,
    pub total_bytes: u64,
    /// Where the window's first line starts.
    pub offset: u64,
    /// Where the next window starts (also when the file is still growing).
    pub end_offset: u64,
    /// Whether the window reached the end of the file.
    pub reached_end: bool,
}

impl Window {
    /// The window as text (invalid UTF-8 replaced).
    #[must_use]
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }
}

/// At most `len` bytes of `path` from the line that starts at or after `offset`, cut after its
/// last complete line; a last line without a line end is included only when `growing` is false
/// (the file is complete).
pub fn read_lines(path: &Path, offset: u64, len: u64, growing: bool) -> Result<Window, VizError> {
    let size = std::fs::metadata(path)
        .map_err(|e| VizError::io(path, e))?
        .len();
    let offset = offset.min(size);
    // One byte before the window tells whether it starts at a line start.
    let from = offset.saturating_sub(1);
    let (bytes, size) = files::read_window(path, from, len + (offset - from))?;
    let start = if offset == 0 {
        0
    } else if bytes.first() == Some(&b'\n') {
        1
    } else {
        bytes
            .iter()
            .position(|b| *b == b'\n')
            .map_or(bytes.len(), |i| i + 1)
    };
    let reached_end = from + bytes.len() as u64 >= size;
    let mut end = bytes.len();
    if !reached_end || growing {
        end = bytes[start..]
            .iter()
            .rposition(|b| *b == b'\n')
            .map_or(start, |i| start + i + 1);
        if end == start && !reached_end {
            // One line longer than the window: shown cut rather than never.
            end = bytes.len();
        }
    }
    Ok(Window {
        bytes: bytes[start..end].to_vec(),
        total_bytes: size,
        offset: from + start as u64,
        end_offset: from + end as u64,
        reached_end,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_hold_whole_lines() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("out.txt");
        std::fs::write(&path, "one\ntwo\nthree\npartial").unwrap();
        let w = read_lines(&path, 0, 10, false).unwrap();
        assert_eq!(w.text(), "one\ntwo\n");
        assert!(!w.reached_end);
        let w = read_lines(&path, w.end_offset, 100, true).unwrap();
        assert_eq!(w.text(), "three\n");
        let w = read_lines(&path, 5, 100, false).unwrap();
        assert_eq!(w.text(), "three\npartial");
        assert_eq!(w.offset, 8);
        assert!(w.reached_end);
    }
}
