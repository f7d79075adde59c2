//! The fake upstream API (a test double) on 127.0.0.1, plain HTTP or HTTPS: records what it
//! receives and answers by path.

use std::fmt::Write as _;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread;

/// One request as the fake upstream received it.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Panics if a hop-by-hop header the test client sent reached the upstream.
    pub fn assert_no_hop_by_hop(&self) {
        for dropped in [
            "x-hop",
            "keep-alive",
            "te",
            "upgrade",
            "proxy-authorization",
        ] {
            assert_eq!(self.header(dropped), None, "{dropped} was forwarded");
        }
    }

    /// The request target in origin form (`/path?query`). Like any HTTP/1.1 server (RFC 9112
    /// §3.2.2) this upstream also accepts the absolute form, which ureq 2 sends inside a CONNECT
    /// tunnel.
    pub fn origin_form(&self) -> &str {
        match self.target.split_once("://") {
            Some((_, rest)) => rest.find('/').map_or("/", |i| &rest[i..]),
            None => &self.target,
        }
    }
}

/// Reads a request or response head (up to the blank line) and parses it with `httparse`.
pub fn read_head(reader: &mut impl BufRead) -> io::Result<Option<Vec<u8>>> {
    let mut raw = Vec::new();
    loop {
        let n = reader.read_until(b'\n', &mut raw)?;
        if n == 0 {
            return Ok(None);
        }
        if raw.ends_with(b"\r\n\r\n") {
            return Ok(Some(raw));
        }
    }
}

pub fn read_request(reader: &mut BufReader<impl Read>) -> io::Result<Option<Received>> {
    let Some(raw) = read_head(reader)? else {
        return Ok(None);
    };
    let mut slots = [httparse::EMPTY_HEADER; 64];
    let mut req = httparse::Request::new(&mut slots);
    req.parse(&raw)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
    let headers: Vec<(String, String)> = req
        .headers
        .iter()
        .map(|h| {
            (
                h.name.to_owned(),
                String::from_utf8_lossy(h.value).into_owned(),
            )
        })
        .collect();
    let mut received = Received {
        method: req.method.unwrap_or_default().to_owned(),
        target: req.path.unwrap_or_default().to_owned(),
        headers,
        body: Vec::new(),
    };
    if received
        .header("transfer-encoding")
        .is_some_and(|te| te.contains("chunked"))
    {
        chunked_transfer::Decoder::new(&mut *reader).read_to_end(&mut received.body)?;
    } else if let Some(len) = received.header("content-length") {
        let len: u64 = len.trim().parse().unwrap();
        (&mut *reader).take(len).read_to_end(&mut received.body)?;
    }
    Ok(Some(received))
}

/// The fake upstream API (a test double): records every request, answers by path (see
/// [`respond`]), and holds `/sse/hold` streams after their first event until released. Speaks
/// plain HTTP, or HTTPS with [`FakeUpstream::start_tls`].
pub struct FakeUpstream {
    pub addr: SocketAddr,
    pub received: Arc<Mutex<Vec<Received>>>,
    release_tx: Sender<()>,
}

impl FakeUpstream {
    pub fn start() -> Self {
        Self::start_with(None)
    }

    /// An HTTPS upstream presenting the certificate of `config` (see `tls::TestPki`).
    pub fn start_tls(config: Arc<rustls::ServerConfig>) -> Self {
        Self::start_with(Some(config))
    }

    fn start_with(tls: Option<Arc<rustls::ServerConfig>>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let received = Arc::new(Mutex::new(Vec::new()));
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let release_rx = Arc::new(Mutex::new(release_rx));
        let log = received.clone();
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (log, release_rx, tls) = (log.clone(), release_rx.clone(), tls.clone());
                thread::spawn(move || serve_connection(stream, tls, &log, &release_rx));
            }
        });
        FakeUpstream {
            addr,
            received,
            release_tx,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Lets one held SSE stream finish.
    pub fn release(&self) {
        self.release_tx.send(()).unwrap();
    }

    pub fn requests(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

fn serve_connection(
    stream: TcpStream,
    tls: Option<Arc<rustls::ServerConfig>>,
    log: &Mutex<Vec<Received>>,
    release: &Mutex<Receiver<()>>,
) {
    let Some(config) = tls else {
        // A TLS ClientHello (record type 0x16): this upstream speaks plain HTTP, so hang up.
        let mut first = [0u8; 1];
        if stream
            .peek(&mut first)
            .map_or(true, |n| n == 0 || first[0] == 0x16)
        {
            return;
        }
        return serve_upstream(stream, log, release, |s| {
            let _ = s.shutdown(Shutdown::Both);
        });
    };
    let Ok(server) = rustls::ServerConnection::new(config) else {
        return;
    };
    serve_upstream(
        rustls::StreamOwned::new(server, stream),
        log,
        release,
        |s| {
            s.conn.send_close_notify();
            let _ = s.flush();
            let _ = s.sock.shutdown(Shutdown::Both);
        },
    );
}

/// Serves requests in turn on one connection until the client or a response closes it.
fn serve_upstream<S: Read + Write>(
    stream: S,
    log: &Mutex<Vec<Received>>,
    release: &Mutex<Receiver<()>>,
    hang_up: impl Fn(&mut S),
) {
    let mut reader = BufReader::new(stream);
    while let Ok(Some(request)) = read_request(&mut reader) {
        log.lock().unwrap().push(request.clone());
        match respond(&request, reader.get_mut(), release) {
            Ok(true) => {}
            Ok(false) => return hang_up(reader.get_mut()),
            Err(_) => return,
        }
    }
}

const ANTHROPIC_JSON: &str = r#"{"type":"message","content":[],"usage":{"input_tokens":11,"output_tokens":5,"cache_read_input_tokens":7,"cache_creation_input_tokens":2}}"#;
const ANTHROPIC_SSE: &str = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":20,\"output_tokens\":1}}}\n\nevent: message_delta\ndata: {\"type\":\"message_delta\",\"usage\":{\"output_tokens\":9}}\n\n";
const OPENAI_CHAT_SSE: &str = "data: {\"object\":\"chat.completion.chunk\",\"usage\":null}\n\ndata: {\"object\":\"chat.completion.chunk\",\"usage\":{\"prompt_tokens\":100,\"completion_tokens\":40}}\n\ndata: [DONE]\n\n";
const OPENAI_RESPONSES_SSE: &str = "event: response.completed\ndata: {\"type\":\"response.completed\",\"response\":{\"usage\":{\"input_tokens\":1000,\"output_tokens\":400}}}\n\n";

/// Writes a complete response; `Ok(true)`: the connection stays open.
fn write_response(
    out: &mut impl Write,
    status: u16,
    headers: &[(&str, &str)],
    body: &[u8],
) -> io::Result<bool> {
    let mut head = format!(
        "HTTP/1.1 {status} Fake\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (n, v) in headers {
        let _ = write!(head, "{n}: {v}\r\n");
    }
    head.push_str("X-Upstream: fake\r\n\r\n");
    out.write_all(head.as_bytes())?;
    out.write_all(body)?;
    out.flush()?;
    Ok(true)
}

/// Answers: `/status/<code>` with that status (301 with a Location), `/sse/hold` one event then
/// the rest after a release, `/usage/<shape>` a provider payload, anything else an echo of the
/// body. `Ok(false)`: the body ends with the connection, so hang up.
fn respond(
    req: &Received,
    out: &mut impl Write,
    release: &Mutex<Receiver<()>>,
) -> io::Result<bool> {
    let path = req.origin_form().split('?').next().unwrap_or("");
    let path = path.rsplit_once("/api").map_or(path, |(_, p)| p);
    if let Some(code) = path.strip_prefix("/status/") {
        let code: u16 = code.parse().unwrap();
        let body = if code == 204 {
            Vec::new()
        } else {
            format!("status {code}").into_bytes()
        };
        return write_response(out, code, &[("Location", "/status/200")], &body);
    }
    match path {
        "/sse/hold" => {
            let head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n";
            let first = "data: first\n\n";
            out.write_all(format!("{head}{:x}\r\n{first}\r\n", first.len()).as_bytes())?;
            out.flush()?;
            release.lock().unwrap().recv().unwrap();
            let rest = "data: second\n\n";
            out.write_all(format!("{:x}\r\n{rest}\r\n0\r\n\r\n", rest.len()).as_bytes())?;
            out.flush()?;
            Ok(true)
        }
        "/usage/anthropic-json" => write_response(
            out,
            200,
            &[("Content-Type", "application/json")],
            ANTHROPIC_JSON.as_bytes(),
        ),
        "/usage/anthropic-sse" => sse(out, ANTHROPIC_SSE),
        "/usage/openai-chat-sse" => sse(out, OPENAI_CHAT_SSE),
        "/usage/openai-responses-sse" => sse(out, OPENAI_RESPONSES_SSE),
        _ => write_response(
            out,
            200,
            &[("Content-Type", "application/octet-stream")],
            &req.body,
        ),
    }
}

/// An SSE body delimited by closing the connection.
fn sse(out: &mut impl Write, body: &str) -> io::Result<bool> {
    let head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n";
    out.write_all(format!("{head}{body}").as_bytes())?;
    Ok(false)
}
