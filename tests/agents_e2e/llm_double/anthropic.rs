//! The Anthropic Messages API as the scripted double speaks it to claude-code: `POST
//! /v1/messages` (claude-code adds `?beta=true`), streamed as server-sent events when the request
//! says `"stream": true`, else one JSON message. The agent's conversation is the request whose
//! tools include `Bash`; its other requests (the session title, asked for with a JSON schema)
//! get a short text. `HEAD /` (a connectivity probe) and token counting are answered too.

use std::io::{self, Write};

use serde_json::{json, Value};

use super::{next_id, reply_to, write_body, write_sse, Reply, Turn, Understood, END_SESSION_TEXT};

/// The name of claude-code's shell tool.
const SHELL_TOOL: &str = "Bash";
const MODEL: &str = "claude-sforge-test-double";

/// Answers `method path` (the query left out) with `body`.
pub fn respond(
    (method, path, body): (&str, &str, &[u8]),
    command: &str,
    out: &mut impl Write,
) -> (Understood, io::Result<bool>) {
    match (method, path) {
        ("POST", "/v1/messages") => {
            let body: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
            let understood = if is_conversation(&body) {
                last_user_turn(&body)
            } else {
                Understood::default()
            };
            let reply = match understood.turn {
                Some(turn) => reply_to(turn, command),
                None => Reply::Text(side_answer(&body)),
            };
            (understood, send(out, &reply, body["stream"] == true))
        }
        ("POST", "/v1/messages/count_tokens") => (
            Understood::default(),
            write_body(out, 200, "application/json", br#"{"input_tokens": 1000}"#),
        ),
        ("HEAD" | "GET", "/") => (
            Understood::default(),
            write_body(out, 200, "text/plain", b""),
        ),
        _ => {
            let error = json!({"type": "error", "error": {"type": "not_found_error",
                "message": format!("the test double does not serve {path}")}});
            (
                Understood::default(),
                write_body(out, 404, "application/json", error.to_string().as_bytes()),
            )
        }
    }
}

/// Whether `body` is a turn of the agent's conversation (it offers the shell tool).
fn is_conversation(body: &Value) -> bool {
    body["tools"]
        .as_array()
        .is_some_and(|tools| tools.iter().any(|t| t["name"] == SHELL_TOOL))
}

/// The turn that the last user message starts (claude-code may append system messages after
/// it), with the tool's output when it carries one.
fn last_user_turn(body: &Value) -> Understood {
    let turn = |turn| Understood {
        turn: Some(turn),
        tool_output: None,
    };
    let Some(message) = body["messages"]
        .as_array()
        .and_then(|m| m.iter().rev().find(|m| m["role"] == "user"))
    else {
        return turn(Turn::Other);
    };
    let blocks = match &message["content"] {
        Value::String(text) => return turn(Turn::of_text(text)),
        Value::Array(blocks) => blocks,
        _ => return turn(Turn::Other),
    };
    if let Some(result) = blocks.iter().find(|b| b["type"] == "tool_result") {
        return Understood {
            turn: Some(Turn::ToolResult),
            tool_output: Some(text_of(&result["content"])),
        };
    }
    turn(Turn::of_text(&text_of(&message["content"])))
}

/// The text of a content field: a string, or the text blocks of a list joined by newlines.
fn text_of(content: &Value) -> String {
    match content {
        Value::String(text) => text.clone(),
        Value::Array(blocks) => {
            let texts: Vec<&str> = blocks.iter().filter_map(|b| b["text"].as_str()).collect();
            texts.join("\n")
        }
        _ => String::new(),
    }
}

/// The answer to a side request: a title when a JSON schema asks for one.
fn side_answer(body: &Value) -> String {
    if body["output_config"]["format"]["schema"]["properties"]["title"].is_object() {
        json!({"title": "Coin change with the fewest coins"}).to_string()
    } else {
        "OK".to_owned()
    }
}

fn usage(output_tokens: u64) -> Value {
    json!({"input_tokens": 1000, "output_tokens": output_tokens,
           "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0})
}

/// The content block of a reply, and the stop reason that goes with it.
fn block(reply: &Reply) -> (Value, &'static str) {
    match reply {
        Reply::Shell(command) => (
            json!({"type": "tool_use", "id": format!("toolu_{}", next_id()), "name": SHELL_TOOL,
                   "input": {"command": command, "description": "Write the solution and submit it",
                             "timeout": 600_000}}),
            "tool_use",
        ),
        Reply::Text(text) => (json!({"type": "text", "text": text}), "end_turn"),
        Reply::Poll(_) | Reply::EndSession => unreachable!("not a reply of this API: {reply:?}"),
    }
}

fn send(out: &mut impl Write, reply: &Reply, stream: bool) -> io::Result<bool> {
    if *reply == Reply::EndSession {
        let error = json!({"type": "error", "error": {"type": "invalid_request_error",
                                                      "message": END_SESSION_TEXT}});
        return write_body(out, 400, "application/json", error.to_string().as_bytes());
    }
    let (block, stop_reason) = block(reply);
    let id = format!("msg_{}", next_id());
    if !stream {
        let message = json!({"id": id, "type": "message", "role": "assistant", "model": MODEL,
            "content": [block], "stop_reason": stop_reason, "stop_sequence": null,
            "usage": usage(20)});
        return write_body(out, 200, "application/json", message.to_string().as_bytes());
    }
    let start = json!({"type": "message_start", "message": {"id": id, "type": "message",
        "role": "assistant", "model": MODEL, "content": [], "stop_reason": null,
        "stop_sequence": null, "usage": usage(1)}});
    let mut events = vec![("message_start", start)];
    events.extend(block_events(&block));
    events.push((
        "message_delta",
        json!({"type": "message_delta", "usage": {"output_tokens": 20},
               "delta": {"stop_reason": stop_reason, "stop_sequence": null}}),
    ));
    events.push(("message_stop", json!({"type": "message_stop"})));
    write_sse(out, &events)
}

/// `content_block_start`, deltas (the text, or the tool input as JSON in two pieces) and
/// `content_block_stop` of block 0.
fn block_events(block: &Value) -> Vec<(&'static str, Value)> {
    let (empty, deltas) = if block["type"] == "tool_use" {
        let input = block["input"].to_string();
        let mut middle = input.len() / 2;
        while !input.is_char_boundary(middle) {
            middle -= 1;
        }
        let (a, b) = input.split_at(middle);
        let deltas = [a, b]
            .map(|part| json!({"type": "input_json_delta", "partial_json": part}))
            .to_vec();
        let mut empty = block.clone();
        empty["input"] = json!({});
        (empty, deltas)
    } else {
        let text = block["text"].as_str().unwrap_or_default();
        let deltas = vec![json!({"type": "text_delta", "text": text})];
        (json!({"type": "text", "text": ""}), deltas)
    };
    let mut events = vec![(
        "content_block_start",
        json!({"type": "content_block_start", "index": 0, "content_block": empty}),
    )];
    for delta in deltas {
        events.push((
            "content_block_delta",
            json!({"type": "content_block_delta", "index": 0, "delta": delta}),
        ));
    }
    events.push((
        "content_block_stop",
        json!({"type": "content_block_stop", "index": 0}),
    ));
    events
}
