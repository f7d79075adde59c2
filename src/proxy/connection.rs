//! One client connection: reads requests one after another (HTTP/1.1 keep-alive), hands each to
//! the admin API or the forwarder, and writes the access log line.

use std::io::{self, BufRead, BufReader, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;

use super::admin::{self, LOCAL_PREFIX};
use super::forward::{self, send_json, Exchange, Shared};
use super::http1::{self, BodyReader, HeadError};

/// How often an idle connection checks for shutdown.
const IDLE_POLL: Duration = Duration::from_millis(200);
/// How long an idle keep-alive connection stays open.
const KEEP_ALIVE_IDLE: Duration = Duration::from_secs(60);
/// Longest silence from the client inside a request (head or body).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(300);

/// Serves requests on `stream` until the client closes, asks to close, or shutdown begins.
pub fn serve(stream: TcpStream, shared: &Shared, stopping: &AtomicBool) {
    let _ = stream.set_nodelay(true);
    let Ok(mut out) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::with_capacity(16 << 10, stream);
    loop {
        if !wait_for_request(&mut reader, stopping) {
            return;
        }
        let _ = reader.get_ref().set_read_timeout(Some(REQUEST_TIMEOUT));
        match serve_one(&mut reader, &mut out, shared, stopping) {
            Ok(true) => {}
            Ok(false) => return,
            Err(e) => {
                log::debug!("connection ended: {e}");
                return;
            }
        }
    }
}

/// Serves one request; `Ok(true)` when the connection may carry another.
fn serve_one(
    reader: &mut BufReader<TcpStream>,
    out: &mut TcpStream,
    shared: &Shared,
    stopping: &AtomicBool,
) -> io::Result<bool> {
    let head = match http1::read_head(reader) {
        Ok(Some(head)) => head,
        Ok(None) => return Ok(false),
        Err(HeadError::Io(e)) => return Err(e),
        Err(e @ HeadError::TooLarge) => return reject(out, 431, &e),
        Err(e @ HeadError::Malformed(_)) => return reject(out, 400, &e),
    };
    let framing = match head.body_framing() {
        Ok(framing) => framing,
        Err(e) => return reject(out, 400, &e),
    };
    let started = Instant::now();
    let keep_alive = head.wants_keep_alive() && !stopping.load(Ordering::SeqCst);
    let expects_continue = super::headers::find(&head.headers, "expect")
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("100-continue"));
    if expects_continue && framing != http1::Framing::Length(0) {
        out.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
    }
    let mut body = BodyReader::new(reader, framing);
    let exchange: Exchange = if head.target.starts_with(LOCAL_PREFIX) {
        admin::handle(shared.keyless.as_ref(), &head, &mut body, out, keep_alive)?
    } else {
        forward::forward(shared, &head, framing, &mut body, out, keep_alive)?
    };
    let path = head.target.split('?').next().unwrap_or("");
    log::info!(
        "{} {path} {} {}B {}ms",
        head.method,
        exchange.status,
        exchange.bytes,
        started.elapsed().as_millis()
    );
    Ok(exchange.keep_alive && !stopping.load(Ordering::SeqCst))
}

fn reject(out: &mut TcpStream, status: u16, err: &HeadError) -> io::Result<bool> {
    log::debug!("rejected a request: {err}");
    send_json(out, status, &json!({"error": err.to_string()}), false)?;
    Ok(false)
}

/// Waits for the first byte of the next request; `false` when the client went away, stayed idle
/// too long, or shutdown began.
fn wait_for_request(reader: &mut BufReader<TcpStream>, stopping: &AtomicBool) -> bool {
    if !reader.buffer().is_empty() {
        return true;
    }
    let _ = reader.get_ref().set_read_timeout(Some(IDLE_POLL));
    let deadline = Instant::now() + KEEP_ALIVE_IDLE;
    loop {
        match reader.fill_buf() {
            Ok(bytes) => return !bytes.is_empty(),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                if stopping.load(Ordering::SeqCst) || Instant::now() >= deadline {
                    return false;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return false,
        }
    }
}
