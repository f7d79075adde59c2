//! One block of a trajectory (a message, a tool call or result, an event), capped in size.

use std::fmt::Write as _;

use serde::Serialize;

/// Longest text kept in one block (the page collapses long blocks anyway).
pub const MAX_BLOCK: usize = 64 << 10;

/// One block of the trajectory.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Block {
    /// `system`, `user`, `assistant`, `thinking`, `tool_call`, `tool_result`, `result` or `output`.
    pub kind: &'static str,
    /// A tool's name, a tool call's id, or an event subtype.
    pub title: String,
    pub text: String,
    pub is_error: bool,
    /// The tool call a sub-agent's block belongs to (claude-code `parent_tool_use_id`).
    pub parent: Option<String>,
}

pub fn block(kind: &'static str, title: impl Into<String>, text: impl Into<String>) -> Block {
    let mut text: String = text.into();
    if text.len() > MAX_BLOCK {
        let mut end = MAX_BLOCK;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let cut = text.len() - end;
        text.truncate(end);
        let _ = write!(text, "\n[... {cut} more bytes ...]");
    }
    Block {
        kind,
        title: title.into(),
        text,
        is_error: false,
        parent: None,
    }
}
