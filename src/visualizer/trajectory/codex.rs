//! A codex `exec` transcript: blocks opened by `user`, `thinking`, `codex`, `exec` and `tokens
//! used` lines, a session header on every (re)start, `ERROR:` lines; `exec` blocks split into the
//! command and its output.

use super::block::{block, Block};

/// The block kind a codex transcript marker line opens (an optional `[timestamp] ` prefix
/// allowed).
pub fn is_codex_marker(line: &str) -> Option<&'static str> {
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
pub fn parse_codex(text: &str) -> Vec<Block> {
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
    use super::parse_codex;

    #[test]
    fn codex_transcript_blocks() {
        let text = "OpenAI Codex v0.130.0\n--------\nmodel: gpt-5\n--------\nuser\nSolve it\n\nthinking\nPlanning\n\nexec\nbash -lc ls in /w\n succeeded in 12ms:\na.py\n\ncodex\nDone.\ntokens used\n1,234\n";
        let blocks = parse_codex(text);
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
        let blocks = parse_codex(text);
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
}
