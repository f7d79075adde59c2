//! One client connection: requests one after another (keep-alive), each head and body read under
//! the limits' time and byte bounds, handed to the server's handler, and one access-log line each.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::body::Body;
use super::handler::{Request, Shared};
use super::head::{self, is_timeout, Framing, HeadError};
use super::response::{self, BodyFraming, Response};

/// How often an idle connection checks for shutdown.
const IDLE_POLL: Duration = Duration::from_millis(200);
/// Read buffer of a connection.
const READ_BUFFER: usize = 16 << 10;

/// The client socket as a reader that fails with `TimedOut` once its deadline passes or the
/// client stays silent for `silence`, however slowly bytes trickle in.
pub(super) struct Socket {
    stream: TcpStream,
    deadline: Option<Instant>,
    silence: Duration,
}

impl Socket {
    fn arm(&mut self, deadline: Option<Instant>, silence: Duration) {
        self.deadline = deadline;
        self.silence = silence;
    }
}

impl Read for Socket {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut wait = self.silence;
        if let Some(deadline) = self.deadline {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "the request took too long",
                ));
            }
            wait = wait.min(left);
        }
        self.stream
            .set_read_timeout(Some(wait.max(Duration::from_millis(1))))?;
        self.stream.read(buf)
    }
}

/// What the connection does after an exchange.
enum Next {
    KeepAlive,
    Close,
    /// Close after reading (and discarding) what the client still sends, for a short while.
    Linger,
}

/// Serves requests on `stream` until the client closes, a limit is hit, or shutdown begins.
pub(super) fn serve(stream: TcpStream, shared: &Shared) {
    let _ = stream.set_nodelay(true);
    let _ = stream.set_write_timeout(Some(shared.limits.io_timeout));
    let Ok(out) = stream.try_clone() else {
        return;
    };
    let socket = Socket {
        stream,
        deadline: None,
        silence: IDLE_POLL,
    };
    let mut reader = BufReader::with_capacity(READ_BUFFER, socket);
    loop {
        if !wait_for_request(&mut reader, shared) {
            return;
        }
        match serve_one(&mut reader, &out, shared) {
            Next::KeepAlive => {}
            Next::Close => return,
            Next::Linger => return linger(&mut reader, &out, shared.limits.linger),
        }
    }
}

/// Waits for the first byte of the next request; `false` when the client went away, stayed idle
/// too long, or shutdown began.
fn wait_for_request(reader: &mut BufReader<Socket>, shared: &Shared) -> bool {
    if !reader.buffer().is_empty() {
        return true;
    }
    reader.get_mut().arm(None, IDLE_POLL);
    let deadline = Instant::now() + shared.limits.idle_timeout;
    loop {
        match reader.fill_buf() {
            Ok(bytes) => return !bytes.is_empty(),
            Err(e) if is_timeout(&e) => {
                if shared.stopping.load(Ordering::SeqCst) || Instant::now() >= deadline {
                    return false;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return false,
        }
    }
}

/// Reads one request, lets the handler answer it, and logs it.
fn serve_one(reader: &mut BufReader<Socket>, out: &TcpStream, shared: &Shared) -> Next {
    let limits = &shared.limits;
    let started = Instant::now();
    reader
        .get_mut()
        .arm(Some(started + limits.head_timeout), limits.io_timeout);
    let head = match head::read_head(reader, limits) {
        Ok(Some(head)) => head,
        Ok(None) => return Next::Close,
        Err(e) => return refuse(shared, out, &e),
    };
    let framing = match head.framing() {
        Ok(framing) => framing,
        Err(e) => return refuse(shared, out, &e),
    };
    if let Framing::Length(n) = framing {
        if n > limits.max_body_bytes {
            let message = too_large_message(limits.max_body_bytes);
            log::info!(
                "{}: {} refused: {message} ({n} declared)",
                shared.name,
                head.method
            );
            send_error(shared, out, 413, &message);
            return Next::Linger;
        }
    }
    reader
        .get_mut()
        .arm(Some(started + limits.request_timeout), limits.io_timeout);
    let finished = AtomicBool::new(false);
    let interim = head.expects_continue().then_some(out);
    let keep_alive = head.wants_keep_alive() && !shared.stopping.load(Ordering::SeqCst);
    let is_head = head.method == "HEAD";
    let (method, path) = (head.method.clone(), head.path().to_owned());
    let mut res =
        Response::new(out, keep_alive, &finished, is_head).for_client_version(head.minor_version);
    let mut req = Request {
        body: Body::new(reader, framing, limits.max_body_bytes, interim, &finished),
        head,
    };
    let outcome = panic::catch_unwind(AssertUnwindSafe(|| {
        shared.handler.handle(&mut req, &mut res)
    }));
    let body_finished = req.body.is_finished();
    drop(req);
    match outcome {
        Ok(Ok(())) => {}
        Ok(Err(e)) => log::debug!("{}: {method} {path}: {e}", shared.name),
        Err(_) => log::error!("{}: the handler panicked on {method} {path}", shared.name),
    }
    if res.status().is_none() {
        let body = shared.handler.error_body(500, "Internal Server Error");
        let _ = res.json(500, &body);
    }
    log::info!(
        "{}: {method} {path} {} {}B {:.1}ms",
        shared.name,
        res.status().unwrap_or(0),
        res.bytes(),
        started.elapsed().as_secs_f64() * 1000.0
    );
    if res.is_reusable() && !shared.stopping.load(Ordering::SeqCst) {
        Next::KeepAlive
    } else if body_finished {
        Next::Close
    } else {
        Next::Linger
    }
}

/// The message of a 413.
#[must_use]
pub fn too_large_message(limit: u64) -> String {
    format!("Request body too large: the limit is {limit} bytes")
}

/// Answers a request that cannot be served (when anyone is there to read the answer).
fn refuse(shared: &Shared, out: &TcpStream, err: &HeadError) -> Next {
    log::info!("{}: refused a request: {err}", shared.name);
    match err.status() {
        Some(status) => {
            send_error(shared, out, status, &err.to_string());
            Next::Linger
        }
        None => Next::Close,
    }
}

fn send_error(shared: &Shared, out: &TcpStream, status: u16, message: &str) {
    let body = serde_json::to_vec(&shared.handler.error_body(status, message)).unwrap_or_default();
    let headers = [("Content-Type".to_owned(), "application/json".to_owned())];
    let framing = BodyFraming::Length(body.len() as u64);
    let mut head = response::head_bytes(
        status,
        response::reason_phrase(status),
        &headers,
        framing,
        false,
    );
    head.extend_from_slice(&body);
    let mut out = out;
    let _ = out.write_all(&head).and_then(|()| out.flush());
}

/// Stops sending, then reads and discards what the client still sends for up to `linger`, so that
/// closing does not reset the connection before the client has read the answer.
fn linger(reader: &mut BufReader<Socket>, out: &TcpStream, linger: Duration) {
    let _ = out.shutdown(Shutdown::Write);
    reader.get_mut().arm(Some(Instant::now() + linger), linger);
    let mut scratch = [0u8; 16 << 10];
    while matches!(reader.read(&mut scratch), Ok(n) if n > 0) {}
}
