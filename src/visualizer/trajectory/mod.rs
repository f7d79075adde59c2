//! The agent's trajectory from a window of `agent_output.txt`: claude-code `stream-json` lines
//! or a codex `exec` transcript become messages, tool calls and tool results; anything else is
//! plain output. Every block is capped in size.

mod block;
mod claude;
mod codex;

use serde::Serialize;

use block::block;
pub use block::Block;

/// The format a window was read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    ClaudeStreamJson,
    CodexTranscript,
    Plain,
}

/// Parses one window of agent output.
#[must_use]
pub fn parse(text: &str) -> (Format, Vec<Block>) {
    let json_lines = text
        .lines()
        .filter(|l| l.starts_with('{') && l.contains("\"type\""))
        .take(5)
        .count();
    if json_lines > 0 {
        return (Format::ClaudeStreamJson, claude::parse_stream_json(text));
    }
    if text.lines().any(|l| codex::is_codex_marker(l).is_some()) {
        return (Format::CodexTranscript, codex::parse_codex(text));
    }
    let blocks = if text.is_empty() {
        Vec::new()
    } else {
        vec![block("output", "", text)]
    };
    (Format::Plain, blocks)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_told_apart() {
        let claude = "{\"type\":\"system\",\"subtype\":\"init\"}\n";
        assert_eq!(parse(claude).0, Format::ClaudeStreamJson);
        let codex = "OpenAI Codex v0.130.0\n--------\nuser\nhi\n";
        assert_eq!(parse(codex).0, Format::CodexTranscript);
        assert_eq!(parse("Step 1\nRound: agent-1\n").0, Format::Plain);
        assert!(parse("").1.is_empty());
    }

    #[test]
    fn blocks_are_capped() {
        let (_, blocks) = parse(&"x".repeat(block::MAX_BLOCK * 2));
        assert!(blocks[0].text.len() < block::MAX_BLOCK + 100);
    }
}
