//! The `OpenAI` Responses API as the scripted double speaks it to codex: `POST <base>/responses`,
//! streamed as server-sent events (`response.created`, `response.output_item.added` and
//! `.done`, `response.completed`). codex 0.130's shell tool is the function `exec_command` with
//! a `cmd` string; a command still running when its `yield_time_ms` ends is polled with
//! `write_stdin`.

use std::io::{self, Write};

use serde_json::{json, Value};

use super::{next_id, reply_to, write_body, write_sse, Reply, Turn, Understood, END_SESSION_TEXT};

/// The name of codex's shell tool, and of the tool that polls a command still running.
const SHELL_TOOL: &str = "exec_command";
const POLL_TOOL: &str = "write_stdin";
/// How long codex waits for a command's output before handing back a session to poll.
const YIELD_MS: u64 = 30_000;

/// Answers `POST <base>/responses`, and anything else with a 404.
pub fn respond(
    (method, path, body): (&str, &str, &[u8]),
    command: &str,
    out: &mut impl Write,
) -> (Understood, io::Result<bool>) {
    if method != "POST" || !path.ends_with("/responses") {
        let error = json!({"error": {"type": "invalid_request_error", "param": null,
            "code": "unknown_url", "message": format!("the test double does not serve {path}")}});
        return (
            Understood::default(),
            write_body(out, 404, "application/json", error.to_string().as_bytes()),
        );
    }
    let body: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let has_shell = body["tools"]
        .as_array()
        .is_some_and(|tools| tools.iter().any(|t| t["name"] == SHELL_TOOL));
    if !has_shell {
        return (
            Understood::default(),
            send(out, &Reply::Text("OK".to_owned())),
        );
    }
    let (turn, output) = last_input_turn(&body);
    let reply = match output.as_deref().and_then(running_session) {
        Some(session) => Reply::Poll(session),
        None => reply_to(turn, command),
    };
    let understood = Understood {
        turn: Some(turn),
        tool_output: output,
    };
    (understood, send(out, &reply))
}

/// The turn of the last input item, and the tool's output when it is one.
fn last_input_turn(body: &Value) -> (Turn, Option<String>) {
    let Some(item) = body["input"].as_array().and_then(|items| items.last()) else {
        return (Turn::Other, None);
    };
    match item["type"].as_str() {
        Some("function_call_output") => {
            let output = item["output"].as_str().unwrap_or_default();
            (Turn::ToolResult, Some(output.to_owned()))
        }
        Some("message") if item["role"] == "user" => {
            let text: Vec<&str> = item["content"]
                .as_array()
                .map(|parts| parts.iter().filter_map(|p| p["text"].as_str()).collect())
                .unwrap_or_default();
            (Turn::of_text(&text.join("\n")), None)
        }
        _ => (Turn::Other, None),
    }
}

/// The session id in the output of a command that has not finished ("Process running with
/// session ID 3").
fn running_session(output: &str) -> Option<u64> {
    let rest = output.split("Process running with session ID ").nth(1)?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// The output item of a reply.
fn function_call(reply: &Reply, id: u64) -> Value {
    match reply {
        Reply::Shell(command) => call(
            id,
            SHELL_TOOL,
            &json!({"cmd": command, "yield_time_ms": YIELD_MS, "max_output_tokens": 20_000}),
        ),
        Reply::Poll(session) => call(
            id,
            POLL_TOOL,
            &json!({"session_id": session, "chars": "", "yield_time_ms": YIELD_MS}),
        ),
        Reply::Text(text) => json!({"type": "message", "id": format!("msg_{id}"),
            "role": "assistant", "status": "completed",
            "content": [{"type": "output_text", "text": text, "annotations": []}]}),
        Reply::EndSession => unreachable!("an error has no output item"),
    }
}

fn call(id: u64, name: &str, arguments: &Value) -> Value {
    json!({"type": "function_call", "id": format!("fc_{id}"), "call_id": format!("call_{id}"),
           "name": name, "arguments": arguments.to_string(), "status": "completed"})
}

fn send(out: &mut impl Write, reply: &Reply) -> io::Result<bool> {
    if *reply == Reply::EndSession {
        let error = json!({"error": {"type": "invalid_request_error", "param": null,
                                     "code": null, "message": END_SESSION_TEXT}});
        return write_body(out, 400, "application/json", error.to_string().as_bytes());
    }
    let id = next_id();
    let item = function_call(reply, id);
    let response = |status: &str, output: Value| {
        json!({"id": format!("resp_{id}"), "object": "response", "status": status,
               "model": "gpt-sforge-test-double", "output": output})
    };
    let mut added = item.clone();
    added["status"] = json!("in_progress");
    let mut completed = response("completed", json!([item]));
    completed["usage"] = json!({"input_tokens": 1000, "output_tokens": 20, "total_tokens": 1020,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens_details": {"reasoning_tokens": 0}});
    let events = [
        (
            "response.created",
            json!({"type": "response.created", "response": response("in_progress", json!([]))}),
        ),
        (
            "response.output_item.added",
            json!({"type": "response.output_item.added", "output_index": 0, "item": added}),
        ),
        (
            "response.output_item.done",
            json!({"type": "response.output_item.done", "output_index": 0, "item": item}),
        ),
        (
            "response.completed",
            json!({"type": "response.completed", "response": completed}),
        ),
    ];
    write_sse(out, &events)
}
