//! The HTTP front: a fixed pool of threads taking requests from `tiny_http`, one access-log line
//! per request (never the query string, which carries tokens and secrets).

use std::io;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Instant;

use serde_json::{json, Value};
use tiny_http::{Header, Request, Response, Server};

use super::routes::{self, Context};

/// Starts `count` threads serving requests until `stop` is set and they are unblocked.
pub fn spawn_http(
    count: usize,
    server: &Arc<Server>,
    ctx: &Arc<Context>,
    stop: &Arc<AtomicBool>,
) -> io::Result<Vec<JoinHandle<()>>> {
    (0..count.max(1))
        .map(|i| {
            let (server, ctx, stop) = (server.clone(), ctx.clone(), stop.clone());
            thread::Builder::new()
                .name(format!("judge-http-{i}"))
                .spawn(move || {
                    while !stop.load(Ordering::SeqCst) {
                        match server.recv() {
                            Ok(req) => serve(&ctx, req),
                            Err(_) if stop.load(Ordering::SeqCst) => break,
                            Err(e) => log::warn!("judge http: {e}"),
                        }
                    }
                })
        })
        .collect()
}

/// Handles one request and writes its access-log line.
fn serve(ctx: &Context, mut req: Request) {
    let started = Instant::now();
    let method = req.method().clone();
    let url = req.url().to_owned();
    let (path, query) = url.split_once('?').unwrap_or((url.as_str(), ""));
    let (status, body) = panic::catch_unwind(AssertUnwindSafe(|| {
        routes::dispatch(ctx, &mut req, path, query)
    }))
    .unwrap_or_else(|_| {
        log::error!("judge http: handler panicked on {method} {path}");
        (500, json!({ "detail": "Internal Server Error" }))
    });
    drain(&mut req);
    let result = req.respond(json_response(status, &body));
    log::info!(
        "{method} {path} {status} {:.1}ms",
        started.elapsed().as_secs_f64() * 1000.0
    );
    if let Err(e) = result {
        log::debug!("judge http: could not send the response: {e}");
    }
}

/// Reads what is left of the body in small chunks. `tiny_http` 0.12 would otherwise drain it on
/// drop with one buffer as large as the declared Content-Length.
fn drain(req: &mut Request) {
    let _ = io::copy(req.as_reader(), &mut io::sink());
}

fn json_response(status: u16, body: &Value) -> Response<io::Cursor<Vec<u8>>> {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let response = Response::from_data(bytes).with_status_code(status);
    match Header::from_bytes("Content-Type", "application/json") {
        Ok(header) => response.with_header(header),
        Err(()) => response,
    }
}
