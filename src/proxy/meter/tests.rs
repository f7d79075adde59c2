//! Usage extraction from payloads shaped like the providers' documented responses.

use super::*;

const ANTHROPIC_JSON: &str = r#"{"id":"msg_01","type":"message","role":"assistant",
"content":[{"type":"text","text":"Hi"}],"model":"claude","stop_reason":"end_turn",
"usage":{"input_tokens":12,"cache_creation_input_tokens":3,"cache_read_input_tokens":40,"output_tokens":7}}"#;

const ANTHROPIC_SSE: &str = "event: message_start\n\
data: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"usage\":{\"input_tokens\":25,\"cache_read_input_tokens\":5,\"output_tokens\":1}}}\n\
\n\
event: content_block_delta\n\
data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"usage\"}}\n\
\n\
event: message_delta\n\
data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":15}}\n\
\n\
event: message_stop\n\
data: {\"type\":\"message_stop\"}\n\n";

const OPENAI_CHAT_JSON: &str = r#"{"id":"chatcmpl-1","object":"chat.completion","choices":[],
"usage":{"prompt_tokens":9,"completion_tokens":12,"total_tokens":21,"prompt_tokens_details":{"cached_tokens":4}}}"#;

const OPENAI_CHAT_SSE: &str = "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"delta\":{\"content\":\"x\"}}],\"usage\":null}\r\n\r\n\
data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[],\"usage\":{\"prompt_tokens\":30,\"completion_tokens\":8}}\r\n\r\n\
data: [DONE]\r\n\r\n";

const OPENAI_RESPONSES_SSE: &str = "event: response.created\n\
data: {\"type\":\"response.created\",\"response\":{\"id\":\"resp_1\",\"usage\":null}}\n\n\
event: response.output_text.delta\n\
data: {\"type\":\"response.output_text.delta\",\"delta\":\"hi\"}\n\n\
event: response.completed\n\
data: {\"type\":\"response.completed\",\"response\":{\"id\":\"resp_1\",\"usage\":{\"input_tokens\":100,\"input_tokens_details\":{\"cached_tokens\":60},\"output_tokens\":20,\"total_tokens\":120}}}\n\n";

const OPENAI_RESPONSES_JSON: &str = r#"{"id":"resp_1","object":"response","status":"completed",
"usage":{"input_tokens":11,"output_tokens":22,"total_tokens":33}}"#;

fn meter(content_type: &str, body: &str, piece: usize) -> Usage {
    let mut m = Meter::for_content_type(Some(content_type));
    for part in body.as_bytes().chunks(piece) {
        m.observe(part);
    }
    m.finish()
}

fn usage(input: u64, output: u64, read: u64, creation: u64) -> Usage {
    Usage {
        input_tokens: input,
        output_tokens: output,
        cache_read_input_tokens: read,
        cache_creation_input_tokens: creation,
    }
}

#[test]
fn anthropic_json_counts_every_field() {
    assert_eq!(
        meter("application/json", ANTHROPIC_JSON, 5),
        usage(12, 7, 40, 3)
    );
}

#[test]
fn anthropic_sse_takes_input_from_start_and_output_from_delta() {
    for piece in [1, 7, 4096] {
        assert_eq!(
            meter("text/event-stream; charset=utf-8", ANTHROPIC_SSE, piece),
            usage(25, 15, 5, 0),
            "piece size {piece}"
        );
    }
}

#[test]
fn openai_chat_json_and_stream() {
    assert_eq!(
        meter("application/json", OPENAI_CHAT_JSON, 3),
        usage(9, 12, 4, 0)
    );
    assert_eq!(
        meter("text/event-stream", OPENAI_CHAT_SSE, 2),
        usage(30, 8, 0, 0)
    );
}

#[test]
fn openai_responses_json_and_stream() {
    assert_eq!(
        meter("application/json", OPENAI_RESPONSES_JSON, 64),
        usage(11, 22, 0, 0)
    );
    assert_eq!(
        meter("text/event-stream", OPENAI_RESPONSES_SSE, 9),
        usage(100, 20, 60, 0)
    );
}

#[test]
fn malformed_or_foreign_bodies_count_nothing() {
    assert_eq!(
        meter("application/json", "{\"usage\": {\"input_tokens\": 5", 4),
        Usage::default()
    );
    assert_eq!(meter("application/json", "[1,2,3]", 4), Usage::default());
    assert_eq!(
        meter("application/json", "{\"usage\": \"many\"}", 4),
        Usage::default()
    );
    assert_eq!(meter("text/plain", ANTHROPIC_JSON, 4), Usage::default());
    let garbage = "data: {not json\n\ndata: [DONE]\n\n: comment\n\n";
    assert_eq!(meter("text/event-stream", garbage, 3), Usage::default());
}

#[test]
fn a_last_line_without_newline_is_still_read() {
    let body = "data: {\"type\":\"message_delta\",\"usage\":{\"output_tokens\":4}}";
    assert_eq!(meter("text/event-stream", body, 10), usage(0, 4, 0, 0));
}

#[test]
fn overlong_sse_lines_are_skipped_without_losing_the_next_event() {
    let long = format!("data: {}\n", "x".repeat(MAX_LINE + 10));
    let body = format!("{long}data: {{\"usage\":{{\"input_tokens\":2}}}}\n");
    assert_eq!(meter("text/event-stream", &body, 65536), usage(2, 0, 0, 0));
}

#[test]
fn usage_adds_up() {
    let mut total = usage(1, 2, 3, 4);
    total.add(usage(10, 20, 30, 40));
    assert_eq!(total, usage(11, 22, 33, 44));
}
