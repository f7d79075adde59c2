//! The agent's trajectory from a window of `agent_output.txt`: claude-code `stream-json` lines
//! (system, assistant, user and result events) or a codex `exec` transcript (blocks opened by
//! `user`, `thinking`, `codex`, `exec` and `tokens used` lines) become messages, tool calls and
//! tool results; anything else is plain output. Every block is capped in size.

use std::fmt::Write as _;

use serde::Serialize;
use serde_json::Value;

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

fn block(kind: &'static str, title: impl Into<String>, text: impl Into<String>) -> Block {
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
        return (Format::ClaudeStreamJson, parse_stream_json(text));
    }
    if text.lines().any(|l| is_codex_marker(l).is_some()) {
        return (Format::CodexTranscript, parse_codex(text));
    }
    let blocks = if text.is_empty() {
        Vec::new()
    } else {
        vec![block("output", "", text)]
    };
    (Format::Plain, blocks)
}

/// claude-code `--output-format stream-json`: one JSON event per line; other lines are output.
fn parse_stream_json(text: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut plain = String::new();
    for line in text.lines() {
        match serde_json::from_str::<Value>(line) {
            Ok(event) if event.get("type").is_some() => {
                if !plain.is_empty() {
                    blocks.push(block("output", "", std::mem::take(&mut plain)));
                }
                let parent = event["parent_tool_use_id"].as_str().map(str::to_owned);
                let start = blocks.len();
                stream_event(&event, &mut blocks);
                for b in &mut blocks[start..] {
                    b.parent.clone_from(&parent);
                }
            }
            _ => {
                plain.push_str(line);
                plain.push('\n');
            }
        }
    }
    if !plain.is_empty() {
        blocks.push(block("output", "", plain));
    }
    blocks
}

fn stream_event(event: &Value, blocks: &mut Vec<Block>) {
    let kind = event["type"].as_str().unwrap_or("");
    match kind {
        "system" => {
            let subtype = event["subtype"].as_str().unwrap_or("system");
            let mut text = String::new();
            // init carries the session; task and notification events a description or text.
            let keys: &[&str] = if subtype == "init" {
                &["model", "cwd", "session_id"]
            } else {
                &["description", "status", "summary", "text"]
            };
            for key in keys {
                if let Some(v) = event[*key].as_str() {
                    let _ = writeln!(text, "{key}: {v}");
                }
            }
            if let Some(tools) = event["tools"].as_array() {
                let _ = writeln!(text, "tools: {}", tools.len());
            }
            blocks.push(block("system", subtype, text));
        }
        "assistant" | "user" => {
            for item in event["message"]["content"].as_array().into_iter().flatten() {
                content_item(kind, item, blocks);
            }
            if let Some(text) = event["message"]["content"].as_str() {
                blocks.push(block(
                    if kind == "user" { "user" } else { "assistant" },
                    "",
                    text,
                ));
            }
        }
        "result" => {
            let mut text = event["result"].as_str().unwrap_or("").to_owned();
            for key in ["num_turns", "duration_ms", "total_cost_usd"] {
                if !event[key].is_null() {
                    let _ = write!(text, "\n{key}: {}", event[key]);
                }
            }
            let mut b = block(
                "result",
                event["subtype"].as_str().unwrap_or("result"),
                text,
            );
            b.is_error = event["is_error"].as_bool().unwrap_or(false);
            blocks.push(b);
        }
        other => blocks.push(block("system", other, event.to_string())),
    }
}

fn content_item(role: &str, item: &Value, blocks: &mut Vec<Block>) {
    match item["type"].as_str().unwrap_or("") {
        "text" => {
            let kind = if role == "user" { "user" } else { "assistant" };
            blocks.push(block(kind, "", item["text"].as_str().unwrap_or("")));
        }
        "thinking" => blocks.push(block(
            "thinking",
            "",
            item["thinking"].as_str().unwrap_or(""),
        )),
        "tool_use" => {
            let input = &item["input"];
            let text = tool_input(input);
            let name = item["name"].as_str().unwrap_or("tool");
            blocks.push(block("tool_call", name, text));
        }
        "tool_result" => {
            let text = match &item["content"] {
                Value::String(s) => s.clone(),
                Value::Array(parts) => parts
                    .iter()
                    .filter_map(|p| p["text"].as_str())
                    .collect::<Vec<_>>()
                    .join("\n"),
                other => other.to_string(),
            };
            let mut b = block(
                "tool_result",
                item["tool_use_id"].as_str().unwrap_or(""),
                text,
            );
            b.is_error = item["is_error"].as_bool().unwrap_or(false);
            blocks.push(b);
        }
        _ => blocks.push(block("system", "content", item.to_string())),
    }
}

/// A tool call's input as text: a shell command as it is, other fields one per line (text
/// fields with their line breaks).
fn tool_input(input: &Value) -> String {
    if let Some(command) = input["command"].as_str() {
        return command.to_owned();
    }
    let Some(fields) = input.as_object() else {
        return input.to_string();
    };
    let mut text = String::new();
    for (key, value) in fields {
        match value.as_str() {
            Some(v) if v.contains('\n') => {
                let _ = writeln!(text, "{key}:\n{v}");
            }
            Some(v) => {
                let _ = writeln!(text, "{key}: {v}");
            }
            None => {
                let _ = writeln!(text, "{key}: {value}");
            }
        }
    }
    text
}

/// The block kind a codex transcript marker line opens (an optional `[timestamp] ` prefix
/// allowed).
fn is_codex_marker(line: &str) -> Option<&'static str> {
    let line = line.trim_end();
    let line = match line.strip_prefix('[') {
        Some(rest) => rest.split_once("] ").map_or(line, |(_, after)| after),
        None => line,
    };
    match line {
        "user" => Some("user"),
        "codex" => Some("assistant"),
        "thinking" => Some("thinking"),
        "exec" => Some("tool_call"),
        "tokens used" => Some("result"),
        _ => None,
    }
}

/// A codex `exec` transcript: the header up to the first marker is a system block; an `exec`
/// block is the command line, then the output after its ` succeeded in`/` exited N in` line.
fn parse_codex(text: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut kind = "system";
    let mut body: Vec<&str> = Vec::new();
    let flush = |kind: &'static str, body: &mut Vec<&str>, blocks: &mut Vec<Block>| {
        let text = body.join("\n");
        body.clear();
        if text.trim().is_empty() {
            return;
        }
        if kind == "tool_call" {
            blocks.extend(codex_exec(&text));
        } else {
            let title = match kind {
                "system" => "session",
                "result" => "tokens used",
                _ => "",
            };
            blocks.push(block(kind, title, text.trim_end()));
        }
    };
    for line in text.lines() {
        if let Some(next) = is_codex_marker(line) {
            flush(kind, &mut body, &mut blocks);
            kind = next;
        } else if line.starts_with("OpenAI Codex v") {
            // A new session (codex prints its header again on every resume).
            flush(kind, &mut body, &mut blocks);
            kind = "system";
            body.push(line);
        } else if let Some(error) = line.strip_prefix("ERROR: ") {
            flush(kind, &mut body, &mut blocks);
            let mut b = block("system", "error", error);
            b.is_error = true;
            blocks.push(b);
        } else {
            body.push(line);
        }
    }
    flush(kind, &mut body, &mut blocks);
    blocks
}

/// Whether `line` is the status line that ends an `exec` command (` succeeded in 12ms:` or
/// ` exited 1 in 48ms:`).
fn is_exec_status(line: &str) -> bool {
    let line = line.trim_start();
    line.ends_with(':')
        && (line.starts_with("succeeded in ")
            || line
                .strip_prefix("exited ")
                .and_then(|rest| rest.split_once(" in "))
                .is_some_and(|(code, _)| code.parse::<i32>().is_ok()))
}

/// An `exec` block: the command (it may span lines, up to its status line), then its output.
fn codex_exec(text: &str) -> Vec<Block> {
    let lines: Vec<&str> = text.lines().collect();
    let (command, status, output) = match lines.iter().position(|l| is_exec_status(l)) {
        Some(i) => (
            lines[..i].join("\n"),
            lines[i].trim().trim_end_matches(':').to_owned(),
            lines[i + 1..].join("\n"),
        ),
        None => (lines.join("\n"), String::new(), String::new()),
    };
    let command = command.trim().to_owned();
    let mut result = block("tool_result", status.clone(), output);
    result.is_error = status.contains("exited") && !status.contains("exited 0");
    vec![block("tool_call", "exec", command), result]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_json_pairs_calls_and_results() {
        let text = concat!(
            r#"{"type":"system","subtype":"init","model":"claude-x","cwd":"/w","tools":["Bash"]}"#,
            "\n",
            r#"{"type":"assistant","message":{"content":[{"type":"text","text":"Let me look."},{"type":"tool_use","id":"t1","name":"Bash","input":{"command":"ls"}}]}}"#,
            "\n",
            r#"{"type":"user","message":{"content":[{"type":"tool_result","tool_use_id":"t1","content":"a.py\n","is_error":false}]}}"#,
            "\n",
            "not json\n",
            r#"{"type":"result","subtype":"success","result":"Done","num_turns":2,"is_error":false}"#,
            "\n",
        );
        let (format, blocks) = parse(text);
        assert_eq!(format, Format::ClaudeStreamJson);
        let kinds: Vec<_> = blocks.iter().map(|b| b.kind).collect();
        assert_eq!(
            kinds,
            [
                "system",
                "assistant",
                "tool_call",
                "tool_result",
                "output",
                "result"
            ]
        );
        assert_eq!(blocks[2].title, "Bash");
        assert_eq!(blocks[2].text, "ls");
        assert_eq!(blocks[3].title, "t1");
    }

    #[test]
    fn codex_transcript_blocks() {
        let text = "OpenAI Codex v0.130.0\n--------\nmodel: gpt-5\n--------\nuser\nSolve it\n\nthinking\nPlanning\n\nexec\nbash -lc ls in /w\n succeeded in 12ms:\na.py\n\ncodex\nDone.\ntokens used\n1,234\n";
        let (format, blocks) = parse(text);
        assert_eq!(format, Format::CodexTranscript);
        let kinds: Vec<_> = blocks.iter().map(|b| b.kind).collect();
        assert_eq!(
            kinds,
            [
                "system",
                "user",
                "thinking",
                "tool_call",
                "tool_result",
                "assistant",
                "result"
            ]
        );
        assert_eq!(blocks[3].text, "bash -lc ls in /w");
        assert_eq!(blocks[4].text.trim(), "a.py");
    }

    #[test]
    fn codex_multi_line_commands_failures_errors_and_resumed_sessions() {
        let text = "exec\n/bin/bash -lc \"cat > a.py <<'EOF'\nx = 1\nEOF\" in /w\n exited 2 in 5ms:\nboom\n\
                    ERROR: {\"error\": \"refused\"}\nOpenAI Codex v0.130.0\n--------\nuser\nContinue working.\n";
        let (_, blocks) = parse(text);
        let kinds: Vec<_> = blocks.iter().map(|b| (b.kind, b.is_error)).collect();
        assert_eq!(
            kinds,
            [
                ("tool_call", false),
                ("tool_result", true),
                ("system", true),
                ("system", false),
                ("user", false)
            ]
        );
        assert_eq!(
            blocks[0].text,
            "/bin/bash -lc \"cat > a.py <<'EOF'\nx = 1\nEOF\" in /w"
        );
        assert_eq!(blocks[1].title, "exited 2 in 5ms");
        assert!(blocks[3].text.starts_with("OpenAI Codex v0.130.0"));
    }

    #[test]
    fn blocks_are_capped() {
        let (_, blocks) = parse(&"x".repeat(MAX_BLOCK * 2));
        assert!(blocks[0].text.len() < MAX_BLOCK + 100);
    }
}
