//! Test doubles for the proxy tests, all on 127.0.0.1: a fake upstream API that records what it
//! receives and answers by path, a CONNECT-capable upstream HTTP proxy that records its use, and
//! the real `sforge proxy` binary as a child process (killed and reaped on drop).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

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
}

/// Reads a request or response head (up to the blank line) and parses it with `httparse`.
fn read_head(reader: &mut impl BufRead) -> io::Result<Option<Vec<u8>>> {
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

fn read_request(reader: &mut BufReader<TcpStream>) -> io::Result<Option<Received>> {
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
/// [`respond`]), and holds `/sse/hold` streams after their first event until released.
pub struct FakeUpstream {
    pub addr: SocketAddr,
    pub received: Arc<Mutex<Vec<Received>>>,
    release_tx: Sender<()>,
}

impl FakeUpstream {
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let received = Arc::new(Mutex::new(Vec::new()));
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let release_rx = Arc::new(Mutex::new(release_rx));
        let log = received.clone();
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (log, release_rx) = (log.clone(), release_rx.clone());
                thread::spawn(move || serve_upstream(stream, &log, &release_rx));
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

fn serve_upstream(stream: TcpStream, log: &Mutex<Vec<Received>>, release: &Mutex<Receiver<()>>) {
    let mut out = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    // A TLS ClientHello (record type 0x16): this upstream speaks plain HTTP only, so hang up.
    if reader.fill_buf().map_or(true, |b| b.first() == Some(&0x16)) {
        return;
    }
    while let Ok(Some(request)) = read_request(&mut reader) {
        log.lock().unwrap().push(request.clone());
        if respond(&request, &mut out, release).is_err() {
            return;
        }
    }
}

const ANTHROPIC_JSON: &str = r#"{"type":"message","content":[],"usage":{"input_tokens":11,"output_tokens":5,"cache_read_input_tokens":7,"cache_creation_input_tokens":2}}"#;
const ANTHROPIC_SSE: &str = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":20,\"output_tokens\":1}}}\n\nevent: message_delta\ndata: {\"type\":\"message_delta\",\"usage\":{\"output_tokens\":9}}\n\n";
const OPENAI_CHAT_SSE: &str = "data: {\"object\":\"chat.completion.chunk\",\"usage\":null}\n\ndata: {\"object\":\"chat.completion.chunk\",\"usage\":{\"prompt_tokens\":100,\"completion_tokens\":40}}\n\ndata: [DONE]\n\n";
const OPENAI_RESPONSES_SSE: &str = "event: response.completed\ndata: {\"type\":\"response.completed\",\"response\":{\"usage\":{\"input_tokens\":1000,\"output_tokens\":400}}}\n\n";

fn write_response(
    out: &mut TcpStream,
    status: u16,
    headers: &[(&str, &str)],
    body: &[u8],
) -> io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {status} Fake\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (n, v) in headers {
        let _ = write!(head, "{n}: {v}\r\n");
    }
    head.push_str("X-Upstream: fake\r\n\r\n");
    out.write_all(head.as_bytes())?;
    out.write_all(body)
}

/// Answers: `/status/<code>` with that status (301 with a Location), `/sse/hold` one event then
/// the rest after a release, `/usage/<shape>` a provider payload, anything else an echo of the
/// body.
fn respond(req: &Received, out: &mut TcpStream, release: &Mutex<Receiver<()>>) -> io::Result<()> {
    let path = req.target.split('?').next().unwrap_or("");
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
            out.write_all(format!("{:x}\r\n{rest}\r\n0\r\n\r\n", rest.len()).as_bytes())
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
fn sse(out: &mut TcpStream, body: &str) -> io::Result<()> {
    let head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n";
    out.write_all(format!("{head}{body}").as_bytes())?;
    out.shutdown(Shutdown::Both)
}

/// An upstream HTTP proxy (a test double): tunnels `CONNECT host:port` and relays absolute-form
/// requests, recording `CONNECT <authority>` or `FORWARD <url>` for each connection it serves.
pub struct ConnectProxy {
    pub addr: SocketAddr,
    pub used: Arc<Mutex<Vec<String>>>,
}

impl ConnectProxy {
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let used = Arc::new(Mutex::new(Vec::new()));
        let log = used.clone();
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let log = log.clone();
                thread::spawn(move || {
                    let _ = tunnel(&stream, &log);
                });
            }
        });
        ConnectProxy { addr, used }
    }

    pub fn used(&self) -> Vec<String> {
        self.used.lock().unwrap().clone()
    }
}

fn tunnel(client: &TcpStream, log: &Mutex<Vec<String>>) -> io::Result<()> {
    let mut reader = BufReader::new(client.try_clone()?);
    let Some(raw) = read_head(&mut reader)? else {
        return Ok(());
    };
    let text = String::from_utf8_lossy(&raw).into_owned();
    let mut parts = text.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let mut client_out = client.try_clone()?;
    let upstream = if method == "CONNECT" {
        log.lock().unwrap().push(format!("CONNECT {target}"));
        let upstream = TcpStream::connect(target)?;
        client_out.write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n")?;
        upstream
    } else {
        log.lock().unwrap().push(format!("FORWARD {target}"));
        let rest = target.strip_prefix("http://").unwrap_or(target);
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let mut upstream = TcpStream::connect(authority)?;
        let path = if path.is_empty() { "/" } else { path };
        upstream.write_all(text.replacen(target, path, 1).as_bytes())?;
        upstream
    };
    let mut upstream_in = upstream.try_clone()?;
    let buffered = reader.buffer().to_vec();
    upstream_in.write_all(&buffered)?;
    let to_upstream = thread::spawn(move || {
        let _ = io::copy(&mut reader.into_inner(), &mut upstream_in);
        let _ = upstream_in.shutdown(Shutdown::Write);
    });
    let _ = io::copy(&mut upstream.try_clone()?, &mut client_out);
    let _ = client_out.shutdown(Shutdown::Both);
    let _ = to_upstream.join();
    Ok(())
}

/// The real `sforge proxy` binary with a clean environment plus `env`; killed and reaped on drop.
pub struct ProxyProcess {
    pub child: Child,
    pub addr: SocketAddr,
    pub stderr: Arc<Mutex<String>>,
    pub log_dir: tempfile::TempDir,
}

impl ProxyProcess {
    pub fn start(args: &[&str], env: &[(&str, &str)]) -> Self {
        Self::try_start(args, env).unwrap_or_else(|(code, err)| {
            panic!("sforge proxy exited with {code:?} before listening:\n{err}")
        })
    }

    /// Starts the proxy; `Err((exit code, stderr))` when it exits instead of listening.
    pub fn try_start(args: &[&str], env: &[(&str, &str)]) -> Result<Self, (Option<i32>, String)> {
        let log_dir = tempfile::tempdir().unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_sforge"));
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .arg("--log-dir")
            .arg(log_dir.path())
            .args(["-v", "proxy", "--host", "127.0.0.1", "--port", "0"])
            .args(args)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        let stderr = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = mpsc::channel();
        let pipe = child.stderr.take().unwrap();
        let sink = stderr.clone();
        thread::spawn(move || {
            // The address comes first; the start-up banner ends with the SFORGE_AGENT_API_BASE_URL hint.
            let mut addr = None;
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                let _ = writeln!(sink.lock().unwrap(), "{line}");
                if let Some(rest) = line.split("listening on http://").nth(1) {
                    addr = Some(rest.trim().parse::<SocketAddr>().unwrap());
                }
                if line.contains("SFORGE_AGENT_API_BASE_URL") {
                    let _ = tx.send(addr.take().unwrap());
                }
            }
        });
        if let Ok(addr) = rx.recv_timeout(Duration::from_secs(30)) {
            return Ok(ProxyProcess {
                child,
                addr,
                stderr,
                log_dir,
            });
        }
        // Exited (the pipe closed) or hung: make sure it is gone, then report.
        let _ = child.kill();
        let status = child.wait().unwrap();
        thread::sleep(Duration::from_millis(100));
        let text = stderr.lock().unwrap().clone();
        Err((status.code(), text))
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Sends a signal with `kill`.
    pub fn send_signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([format!("-{name}"), self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits (bounded) for the exit code; `None` if still running (or killed by a signal).
    pub fn wait_exit(&mut self, within: Duration) -> Option<i32> {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// Sends a signal and waits (bounded) for the exit code.
    pub fn signal(&mut self, name: &str, within: Duration) -> Option<i32> {
        self.send_signal(name);
        self.wait_exit(within)
    }
}

impl Drop for ProxyProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sends a raw request and reads the whole response (the request should say `Connection: close`).
pub fn raw_exchange(addr: SocketAddr, request: &[u8]) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    stream.write_all(request).unwrap();
    let mut out = Vec::new();
    stream.read_to_end(&mut out).unwrap();
    String::from_utf8_lossy(&out).into_owned()
}

/// Headers of a parsed response head, lower-cased names.
pub fn response_headers(text: &str) -> HashMap<String, String> {
    let head = text.split("\r\n\r\n").next().unwrap_or("");
    head.lines()
        .skip(1)
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect()
}
