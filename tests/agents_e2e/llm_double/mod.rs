//! Scripted LLM API servers (test doubles) for driving the real claude-code and codex CLIs: plain
//! HTTP on an address of this host, one thread per connection, every request recorded. The
//! Anthropic Messages API lives in `anthropic.rs`, the `OpenAI` Responses API in `openai.rs`; the
//! conversation they play is the same and is decided here, from the last user input of each
//! request (see [`Turn`] and [`reply_to`]).

pub mod anthropic;
pub mod openai;

use std::fmt::Write as _;
use std::io::{self, BufReader, Write};
use std::net::{IpAddr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

pub use crate::fake_upstream::Received;

/// What the stop hook tells the agent (the start of `templates/agent/stop-hook.sh.j2`'s reason).
pub const STOP_HOOK_TEXT: &str = "Do not stop yet";
/// The prompt of sforge's resume command for both CLIs.
pub const RESUME_TEXT: &str = "Continue working.";
/// The final answer of the scripted model after its tool call.
pub const FINAL_TEXT: &str = "I wrote change.py and submitted it with sforge-submit.";
/// The message of the API error that ends a CLI session (see [`Reply::EndSession`]).
pub const END_SESSION_TEXT: &str = "scripted end of session (sforge test double)";

/// Which wire format the double speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    /// `POST /v1/messages` (claude-code).
    Anthropic,
    /// `POST <base>/responses` (codex).
    OpenAiResponses,
}

/// What the last user input of a conversation request is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Turn {
    /// The task prompt (the start of a session).
    Task,
    /// The output of the scripted tool call.
    ToolResult,
    /// The stop hook's continuation ("Do not stop yet …").
    StopHook,
    /// sforge's resume command ("Continue working.").
    Resume,
    /// Anything else.
    Other,
}

impl Turn {
    /// The turn a user text starts, by what it says (the hook and resume texts first: they may
    /// quote the task).
    #[must_use]
    pub fn of_text(text: &str) -> Self {
        if text.contains(STOP_HOOK_TEXT) {
            Turn::StopHook
        } else if text.contains(RESUME_TEXT) {
            Turn::Resume
        } else if text.contains("sforge-submit") {
            Turn::Task
        } else {
            Turn::Other
        }
    }
}

/// What the scripted model answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// Run `command` with the CLI's shell tool.
    Shell(String),
    /// End the turn with this text.
    Text(String),
    /// Wait for the command still running in this exec session (codex's `write_stdin`).
    Poll(u64),
    /// An API error (HTTP 400, `invalid_request_error`) that the CLIs do not retry: the CLI
    /// process exits before its deadline, which is what makes sforge resume it. Without it codex
    /// would answer the stop hook until the deadline.
    EndSession,
}

/// How long the double keeps a resumed CLI waiting before ending its session: longer than the
/// one second under which sforge takes an exit for a systematic failure and stops resuming.
pub const RESUME_PAUSE: Duration = Duration::from_millis(1500);

/// The scripted conversation: the task prompt gets a shell call of `command` (write the
/// solution, submit it), its output a final text; the stop hook's continuation ends the session
/// with an API error, and so does the resume prompt after [`RESUME_PAUSE`] (this call sleeps).
/// sforge therefore resumes the CLI until its deadline.
#[must_use]
pub fn reply_to(turn: Turn, command: &str) -> Reply {
    match turn {
        Turn::Task => Reply::Shell(command.to_owned()),
        Turn::ToolResult | Turn::Other => Reply::Text(FINAL_TEXT.to_owned()),
        Turn::StopHook => Reply::EndSession,
        Turn::Resume => {
            thread::sleep(RESUME_PAUSE);
            Reply::EndSession
        }
    }
}

/// A number no other reply of any double used, for message, tool call and response ids.
pub fn next_id() -> u64 {
    static IDS: AtomicU64 = AtomicU64::new(1);
    IDS.fetch_add(1, Ordering::Relaxed)
}

/// What the double understood of a request.
#[derive(Debug, Clone, Default)]
pub struct Understood {
    /// The conversation turn, for requests of the agent's main conversation (`None` for side
    /// requests such as claude-code's title generation or a connectivity probe).
    pub turn: Option<Turn>,
    /// The output of the shell tool, on a [`Turn::ToolResult`].
    pub tool_output: Option<String>,
}

/// One request as the double received and understood it.
#[derive(Debug, Clone)]
pub struct Exchange {
    pub request: Received,
    pub turn: Option<Turn>,
    pub tool_output: Option<String>,
    /// When it arrived.
    pub at: Instant,
}

impl Exchange {
    /// The request body as text.
    #[must_use]
    pub fn body(&self) -> String {
        String::from_utf8_lossy(&self.request.body).into_owned()
    }
}

/// A scripted LLM API server; it stops accepting connections when dropped.
pub struct LlmDouble {
    pub addr: SocketAddr,
    exchanges: Arc<Mutex<Vec<Exchange>>>,
    _server: HttpServer,
}

impl LlmDouble {
    /// Serves `api` on `ip` (a free port), answering the task with a shell call of `command`.
    #[must_use]
    pub fn start(api: Api, ip: IpAddr, command: &str) -> Self {
        let exchanges = Arc::new(Mutex::new(Vec::new()));
        let (log, command) = (Arc::clone(&exchanges), command.to_owned());
        let server = HttpServer::start(ip, move |request, out| {
            let index = {
                let mut log = log.lock().unwrap();
                log.push(Exchange {
                    request: request.clone(),
                    turn: None,
                    tool_output: None,
                    at: Instant::now(),
                });
                log.len() - 1
            };
            let path = request.origin_form().split('?').next().unwrap_or_default();
            let parts = (request.method.as_str(), path, request.body.as_slice());
            let (understood, keep_open) = match api {
                Api::Anthropic => anthropic::respond(parts, &command, out),
                Api::OpenAiResponses => openai::respond(parts, &command, out),
            };
            let exchange = &mut log.lock().unwrap()[index];
            exchange.turn = understood.turn;
            exchange.tool_output = understood.tool_output;
            keep_open
        });
        Self {
            addr: server.addr,
            exchanges,
            _server: server,
        }
    }

    /// Every request so far, in arrival order.
    #[must_use]
    pub fn exchanges(&self) -> Vec<Exchange> {
        self.exchanges.lock().unwrap().clone()
    }

    /// The requests of the main conversation whose last user input is `turn`.
    #[must_use]
    pub fn turns(&self, turn: Turn) -> Vec<Exchange> {
        self.exchanges()
            .into_iter()
            .filter(|e| e.turn == Some(turn))
            .collect()
    }

    /// The first request of the main conversation whose last user input is `turn`; panics
    /// with what the double saw when there is none.
    #[must_use]
    pub fn first(&self, turn: Turn) -> Exchange {
        self.turns(turn).into_iter().next().unwrap_or_else(|| {
            panic!(
                "the double received no {turn:?} request; it saw:\n{}",
                self.summary()
            )
        })
    }

    /// A one-line-per-request summary with the seconds since the first request, for failure
    /// messages.
    #[must_use]
    pub fn summary(&self) -> String {
        let mut text = String::new();
        let exchanges = self.exchanges();
        let start = exchanges.first().map(|e| e.at);
        for e in exchanges {
            let request = &e.request;
            let _ = writeln!(
                text,
                "{:6.1}s {} {} {:?} ({} bytes)",
                start.map_or(0.0, |t| e.at.duration_since(t).as_secs_f64()),
                request.method,
                request.target,
                e.turn,
                request.body.len()
            );
        }
        text
    }
}

/// What a test server does with one request: write the response to the stream; `Ok(true)`
/// keeps the connection open for the next request.
pub trait Handler:
    Fn(&Received, &mut TcpStream) -> io::Result<bool> + Send + Sync + 'static
{
}
impl<F: Fn(&Received, &mut TcpStream) -> io::Result<bool> + Send + Sync + 'static> Handler for F {}

/// A plain HTTP/1.1 server on `ip` (a free port), one thread per connection; it stops accepting
/// connections when dropped.
pub struct HttpServer {
    pub addr: SocketAddr,
    stopped: Arc<AtomicBool>,
}

impl HttpServer {
    #[must_use]
    pub fn start(ip: IpAddr, handler: impl Handler) -> Self {
        let listener = TcpListener::bind((ip, 0)).expect("bind a test server");
        let addr = listener.local_addr().expect("local address");
        let stopped = Arc::new(AtomicBool::new(false));
        let (stop, handler) = (Arc::clone(&stopped), Arc::new(handler));
        thread::spawn(move || {
            for stream in listener.incoming() {
                if stop.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(stream) = stream else { continue };
                let handler = Arc::clone(&handler);
                thread::spawn(move || serve(stream, &*handler));
            }
        });
        Self { addr, stopped }
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        // Wake the accept loop, which then sees the flag and ends (closing the listener).
        self.stopped.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect_timeout(&self.addr, std::time::Duration::from_secs(1));
    }
}

/// Serves the requests of one connection in turn until the client or a response closes it.
fn serve(stream: TcpStream, handler: &dyn Handler) {
    let mut reader = BufReader::new(stream);
    while let Ok(Some(request)) = crate::fake_upstream::read_request(&mut reader) {
        if !matches!(handler(&request, reader.get_mut()), Ok(true)) {
            let _ = reader.get_mut().shutdown(Shutdown::Both);
            return;
        }
    }
}

/// A response with a body of known length; `Ok(true)`: the connection stays open.
pub fn write_body(
    out: &mut impl Write,
    status: u16,
    content_type: &str,
    body: &[u8],
) -> io::Result<bool> {
    let reason = if status < 400 { "OK" } else { "Error" };
    let head = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    out.write_all(head.as_bytes())?;
    out.write_all(body)?;
    out.flush()?;
    Ok(true)
}

/// A server-sent event stream of `(event name, data)` pairs, ended by closing the connection;
/// `Ok(false)`: hang up.
pub fn write_sse(out: &mut impl Write, events: &[(&str, serde_json::Value)]) -> io::Result<bool> {
    out.write_all(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n\
          Connection: close\r\n\r\n",
    )?;
    for (name, data) in events {
        out.write_all(format!("event: {name}\ndata: {data}\n\n").as_bytes())?;
        out.flush()?;
    }
    Ok(false)
}
