//! Benchmark helper for `scripts/bench-proxy.sh`: a minimal keep-alive HTTP/1.1 upstream that
//! answers every request with a fixed body (so the numbers measure the proxy, not the upstream),
//! and a closed-loop load generator that reports throughput and latency percentiles.
//!
//! `proxy_bench upstream PORT BODY_BYTES` serves until killed;
//! `proxy_bench load URL CONNECTIONS SECONDS` prints one line: `req_per_s p50_us p99_us errors`.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::thread;
use std::time::{Duration, Instant};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize, what: &str| -> String {
        args.get(i)
            .cloned()
            .unwrap_or_else(|| usage(&format!("missing {what}")))
    };
    match args.first().map(String::as_str) {
        Some("upstream") => {
            let port: u16 = arg(1, "PORT").parse().unwrap_or_else(|_| usage("bad PORT"));
            let size: usize = arg(2, "BODY_BYTES")
                .parse()
                .unwrap_or_else(|_| usage("bad BODY_BYTES"));
            upstream(port, size);
        }
        Some("load") => {
            let url = arg(1, "URL");
            let conns: usize = arg(2, "CONNECTIONS")
                .parse()
                .unwrap_or_else(|_| usage("bad CONNECTIONS"));
            let secs: u64 = arg(3, "SECONDS")
                .parse()
                .unwrap_or_else(|_| usage("bad SECONDS"));
            load(&url, conns, Duration::from_secs(secs));
        }
        _ => usage("expected `upstream` or `load`"),
    }
}

fn usage(problem: &str) -> ! {
    eprintln!("proxy_bench: {problem}\nusage: proxy_bench upstream PORT BODY_BYTES | proxy_bench load URL CONNECTIONS SECONDS");
    std::process::exit(2)
}

/// Serves forever on 127.0.0.1:`port`, one thread per connection.
fn upstream(port: u16, size: usize) {
    let listener = TcpListener::bind(("127.0.0.1", port)).expect("cannot bind the upstream port");
    let mut response = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {size}\r\n\r\n"
    )
    .into_bytes();
    response.extend(std::iter::repeat_n(b'x', size));
    eprintln!("upstream ready on 127.0.0.1:{port}");
    for stream in listener.incoming().flatten() {
        let response = response.clone();
        thread::spawn(move || {
            let _ = stream.set_nodelay(true);
            let _ = serve(&stream, &response);
        });
    }
}

fn serve(stream: &TcpStream, response: &[u8]) -> io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut out = stream.try_clone()?;
    while let Some(length) = read_head(&mut reader)? {
        io::copy(&mut (&mut reader).take(length), &mut io::sink())?;
        out.write_all(response)?;
    }
    Ok(())
}

/// Reads a head; returns its Content-Length (0 when absent), `None` at end of stream.
fn read_head(reader: &mut impl BufRead) -> io::Result<Option<u64>> {
    let mut length = 0;
    let mut line = String::new();
    let mut first = true;
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return if first {
                Ok(None)
            } else {
                Err(io::ErrorKind::UnexpectedEof.into())
            };
        }
        first = false;
        if line == "\r\n" {
            return Ok(Some(length));
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().unwrap_or(0);
            }
        }
    }
}

/// `connections` keep-alive clients each send GETs back to back for `duration`.
fn load(url: &str, connections: usize, duration: Duration) {
    let rest = url
        .strip_prefix("http://")
        .unwrap_or_else(|| usage("URL must be http://"));
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let path = if path.is_empty() { "/" } else { path };
    let addr: SocketAddr = authority
        .to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .unwrap_or_else(|| usage("URL host does not resolve"));
    let request = format!("GET {path} HTTP/1.1\r\nHost: {authority}\r\n\r\n").into_bytes();
    let deadline = Instant::now() + duration;
    let workers: Vec<_> = (0..connections)
        .map(|_| {
            let request = request.clone();
            thread::spawn(move || client(addr, &request, deadline))
        })
        .collect();
    let mut latencies = Vec::new();
    let mut errors = 0u64;
    for worker in workers {
        let (mut l, e) = worker.join().unwrap_or_default();
        latencies.append(&mut l);
        errors += e;
    }
    latencies.sort_unstable();
    let pick = |q: f64| {
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss
        )]
        let i = ((latencies.len() as f64 - 1.0) * q).round() as usize;
        latencies.get(i).copied().unwrap_or(0)
    };
    #[allow(clippy::cast_precision_loss)]
    let rate = latencies.len() as f64 / duration.as_secs_f64();
    println!("{rate:.0} {} {} {errors}", pick(0.50), pick(0.99));
}

/// One client: latencies in microseconds and the number of failed exchanges.
fn client(addr: SocketAddr, request: &[u8], deadline: Instant) -> (Vec<u64>, u64) {
    let mut latencies = Vec::new();
    let mut errors = 0;
    while Instant::now() < deadline {
        let Ok(stream) = TcpStream::connect(addr) else {
            errors += 1;
            thread::sleep(Duration::from_millis(10));
            continue;
        };
        let _ = stream.set_nodelay(true);
        let (Ok(mut out), Ok(read_half)) = (stream.try_clone(), stream.try_clone()) else {
            errors += 1;
            continue;
        };
        let mut reader = BufReader::new(read_half);
        while Instant::now() < deadline {
            let started = Instant::now();
            let ok = out.write_all(request).is_ok()
                && matches!(read_head(&mut reader), Ok(Some(n))
                    if io::copy(&mut (&mut reader).take(n), &mut io::sink()).is_ok_and(|got| got == n));
            if !ok {
                errors += 1;
                break; // reconnect
            }
            latencies.push(u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX));
        }
    }
    (latencies, errors)
}
