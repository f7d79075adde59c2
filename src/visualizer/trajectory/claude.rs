//! claude-code `--output-format stream-json`: `system`, `assistant`, `user` and `result` events,
//! one JSON object per line, as blocks; sub-agent events keep their parent tool call.

use std::fmt::Write as _;

use serde_json::Value;

use super::block::{block, Block};

/// claude-code `--output-format stream-json`: one JSON event per line; other lines are output.
pub fn parse_stream_json(text: &str) -> Vec<Block> {
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

#[cfg(test)]
mod tests {
    use super::parse_stream_json;

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
        let blocks = parse_stream_json(text);
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
}
