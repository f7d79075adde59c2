//! Token metering: reads provider `usage` fields from responses as they pass through the proxy
//! (Anthropic Messages and `OpenAI` Chat/Responses, JSON bodies and SSE streams), never holding back
//! a byte from the client. Bounded: long SSE lines and large JSON bodies are skipped, not buffered.

use serde_json::Value;

/// Longest SSE line inspected; longer lines are skipped (the usage events are short).
const MAX_LINE: usize = 1 << 20;
/// Largest JSON body inspected; larger bodies are not metered.
const MAX_JSON: usize = 8 << 20;

/// Token counts of one response, or summed over many.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_read_input_tokens: u64,
    pub cache_creation_input_tokens: u64,
}

impl Usage {
    pub fn add(&mut self, other: Usage) {
        self.input_tokens += other.input_tokens;
        self.output_tokens += other.output_tokens;
        self.cache_read_input_tokens += other.cache_read_input_tokens;
        self.cache_creation_input_tokens += other.cache_creation_input_tokens;
    }
}

/// Usage fields seen so far in one response; a later event's value replaces an earlier one
/// (Anthropic's `message_delta` carries the cumulative output count).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Partial {
    input: Option<u64>,
    output: Option<u64>,
    cache_read: Option<u64>,
    cache_creation: Option<u64>,
}

impl Partial {
    fn update(&mut self, newer: Partial) {
        self.input = newer.input.or(self.input);
        self.output = newer.output.or(self.output);
        self.cache_read = newer.cache_read.or(self.cache_read);
        self.cache_creation = newer.cache_creation.or(self.cache_creation);
    }

    #[must_use]
    pub fn total(self) -> Usage {
        Usage {
            input_tokens: self.input.unwrap_or(0),
            output_tokens: self.output.unwrap_or(0),
            cache_read_input_tokens: self.cache_read.unwrap_or(0),
            cache_creation_input_tokens: self.cache_creation.unwrap_or(0),
        }
    }
}

/// Reads one `usage` object: Anthropic and `OpenAI` Responses name the counts
/// `input_tokens`/`output_tokens`, `OpenAI` Chat `prompt_tokens`/`completion_tokens`; cached input
/// is `cache_read_input_tokens` (Anthropic) or `*_tokens_details.cached_tokens` (`OpenAI`).
#[must_use]
pub fn read_usage(usage: &Value) -> Partial {
    let num = |path: &[&str]| {
        path.iter()
            .try_fold(usage, |v, key| v.get(key))
            .and_then(Value::as_u64)
    };
    Partial {
        input: num(&["input_tokens"]).or_else(|| num(&["prompt_tokens"])),
        output: num(&["output_tokens"]).or_else(|| num(&["completion_tokens"])),
        cache_read: num(&["cache_read_input_tokens"])
            .or_else(|| num(&["input_tokens_details", "cached_tokens"]))
            .or_else(|| num(&["prompt_tokens_details", "cached_tokens"])),
        cache_creation: num(&["cache_creation_input_tokens"]),
    }
}

/// The usage carried by one SSE `data:` payload or one JSON body, if any.
#[must_use]
pub fn usage_of_event(event: &Value) -> Option<Partial> {
    let usage = match event.get("type").and_then(Value::as_str) {
        Some("message_start") => event.get("message")?.get("usage"),
        Some("response.completed" | "response.incomplete" | "response.failed") => {
            event.get("response")?.get("usage")
        }
        _ => event.get("usage"),
    }?;
    usage.is_object().then(|| read_usage(usage))
}

#[derive(Debug)]
enum Kind {
    Sse,
    Json,
    Unmetered,
}

/// Watches one response body chunk by chunk and sums the usage it reports.
#[derive(Debug)]
pub struct Meter {
    kind: Kind,
    buf: Vec<u8>,
    skipping: bool,
    seen: Partial,
}

impl Meter {
    /// A meter for a response with this `Content-Type`: SSE streams are scanned line by line,
    /// JSON bodies parsed at the end, anything else ignored.
    #[must_use]
    pub fn for_content_type(content_type: Option<&str>) -> Self {
        let ct = content_type.unwrap_or("").to_ascii_lowercase();
        let kind = if ct.contains("text/event-stream") {
            Kind::Sse
        } else if ct.contains("json") {
            Kind::Json
        } else {
            Kind::Unmetered
        };
        Meter {
            kind,
            buf: Vec::new(),
            skipping: false,
            seen: Partial::default(),
        }
    }

    /// Feeds the next bytes of the body.
    pub fn observe(&mut self, chunk: &[u8]) {
        match self.kind {
            Kind::Unmetered => {}
            Kind::Json => {
                if self.skipping || self.buf.len() + chunk.len() > MAX_JSON {
                    self.skipping = true;
                    self.buf = Vec::new();
                } else {
                    self.buf.extend_from_slice(chunk);
                }
            }
            Kind::Sse => self.observe_sse(chunk),
        }
    }

    fn observe_sse(&mut self, mut chunk: &[u8]) {
        while let Some(at) = chunk.iter().position(|&b| b == b'\n') {
            if !self.skipping && self.buf.len() + at <= MAX_LINE {
                self.buf.extend_from_slice(&chunk[..at]);
                let line = std::mem::take(&mut self.buf);
                self.sse_line(&line);
            }
            self.buf.clear();
            self.skipping = false;
            chunk = &chunk[at + 1..];
        }
        if self.skipping || self.buf.len() + chunk.len() > MAX_LINE {
            self.skipping = true;
            self.buf.clear();
        } else {
            self.buf.extend_from_slice(chunk);
        }
    }

    fn sse_line(&mut self, line: &[u8]) {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let Some(data) = line.strip_prefix(b"data:") else {
            return;
        };
        if let Some(found) = serde_json::from_slice::<Value>(data.trim_ascii())
            .ok()
            .and_then(|v| usage_of_event(&v))
        {
            self.seen.update(found);
        }
    }

    /// The usage of the whole response (zero when none was reported or the body was malformed).
    #[must_use]
    pub fn finish(mut self) -> Usage {
        match self.kind {
            Kind::Sse if !self.skipping && !self.buf.is_empty() => {
                let line = std::mem::take(&mut self.buf);
                self.sse_line(&line);
            }
            Kind::Json if !self.skipping => {
                if let Some(found) = serde_json::from_slice::<Value>(&self.buf)
                    .ok()
                    .and_then(|v| usage_of_event(&v))
                {
                    self.seen.update(found);
                }
            }
            _ => {}
        }
        self.seen.total()
    }
}

#[cfg(test)]
mod tests;
