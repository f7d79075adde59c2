//! Hostile clients against the real `sforge serve` and `sforge proxy` binaries on 127.0.0.1
//! (issue 12, "HTTP servers that hold against hostile clients" and "Proxy paths"): an endless
//! header line, slowloris connections, ambiguous framing, oversized bodies and request paths that
//! try to leave the proxy's target prefix. The upstream is the recording fake upstream API.

// Tests observe the system directly, independent of the product's process gateway.
#![allow(clippy::disallowed_methods)]

#[path = "http_hostile/clients.rs"]
mod clients;
#[allow(dead_code)]
#[path = "proxy/doubles.rs"]
mod doubles;
#[allow(dead_code)]
#[path = "proxy/fake_upstream.rs"]
mod fake_upstream;

use std::net::SocketAddr;
use std::thread;
use std::time::Duration;

use clients::{
    endless_header, exchange, peak_rss_kib, slowloris, status_of, timed_request, JudgeProcess,
};
use doubles::{FakeUpstream, ProxyProcess};

/// Slowloris connections opened against each server (the acceptance figure).
const SLOWLORIS: usize = 64;
/// The acceptance bound: a valid request among slowloris connections answers within 1 s.
const ACCEPTABLE: Duration = Duration::from_secs(1);

fn proxy_for(upstream: &FakeUpstream) -> ProxyProcess {
    let target = format!("{}/prefix", upstream.url());
    ProxyProcess::start(&["--target", &target], &[])
}

/// The figure with room for a loaded 2-core machine: of three tries (each allowed 10 s,
/// where a stalled server never answers), the fastest must be within [`ACCEPTABLE`].
fn assert_served_promptly(addr: SocketAddr, request: &str) {
    let times: Vec<Option<Duration>> = (0..3)
        .map(|_| timed_request(addr, request, Duration::from_secs(10)))
        .collect();
    assert!(
        times.iter().all(Option::is_some),
        "a valid request was not answered at all: {times:?}"
    );
    let best = times.iter().flatten().min().unwrap();
    assert!(*best <= ACCEPTABLE, "valid requests took {times:?}");
}

#[test]
fn an_endless_header_line_is_cut_off_with_little_memory() {
    const HALF_GIB: usize = 512 << 20;
    let judge = JudgeProcess::start();
    let upstream = FakeUpstream::start();
    let proxy = proxy_for(&upstream);
    let pids = [(judge.addr, judge.pid()), (proxy.addr, proxy.child.id())];
    for (addr, pid) in pids {
        let before = peak_rss_kib(pid);
        let (written, answer) = endless_header(addr, HALF_GIB);
        let grew_mib = (peak_rss_kib(pid) - before) / 1024;
        assert!(
            matches!(status_of(&answer), 431 | 400) || answer.is_empty(),
            "{addr}: {answer}"
        );
        assert!(
            grew_mib < 32,
            "{addr}: peak RSS grew by {grew_mib} MiB after {written} bytes"
        );
    }
    assert!(upstream.requests().is_empty());
}

#[test]
fn slowloris_connections_do_not_delay_a_valid_request() {
    let judge = JudgeProcess::start();
    let upstream = FakeUpstream::start();
    let proxy = proxy_for(&upstream);
    let history = "GET /api/v1/history?token=nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    let stalls = slowloris(judge.addr, SLOWLORIS, "/api/v1/register");
    assert_served_promptly(judge.addr, history);
    let proxy_stalls = slowloris(proxy.addr, SLOWLORIS, "/v1/messages");
    let echo = "GET /status/200 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    assert_served_promptly(proxy.addr, echo);
    drop((stalls, proxy_stalls));
}

/// (name, header fields) of requests whose body framing is ambiguous.
const AMBIGUOUS: [(&str, &str); 7] = [
    (
        "CL+TE",
        "Content-Length: 2\r\nTransfer-Encoding: chunked\r\n",
    ),
    (
        "TE+CL",
        "Transfer-Encoding: chunked\r\nContent-Length: 2\r\n",
    ),
    ("duplicate CL", "Content-Length: 2\r\nContent-Length: 2\r\n"),
    ("negative CL", "Content-Length: -1\r\n"),
    ("signed CL", "Content-Length: +2\r\n"),
    ("gzip TE", "Transfer-Encoding: gzip\r\n"),
    ("gzip, chunked TE", "Transfer-Encoding: gzip, chunked\r\n"),
];

/// Both servers, with a recording upstream behind the proxy.
struct Servers {
    judge: JudgeProcess,
    upstream: FakeUpstream,
    proxy: ProxyProcess,
}

impl Servers {
    fn start() -> Self {
        let upstream = FakeUpstream::start();
        Servers {
            judge: JudgeProcess::start(),
            proxy: proxy_for(&upstream),
            upstream,
        }
    }

    /// Posts `POST <path> HTTP/1.1`, `Host` and then `rest` (more fields, the empty line, any
    /// body) to the judge's `judge_path` and the proxy's `proxy_path`; asserts that both answer
    /// `status` with a text that mentions `says`, and that nothing reached the upstream.
    fn assert_refused(&self, paths: [&str; 2], rest: &str, status: u16, says: &str) {
        for (addr, path) in [self.judge.addr, self.proxy.addr].into_iter().zip(paths) {
            let request = format!("POST {path} HTTP/1.1\r\nHost: x\r\n{rest}");
            let answer = exchange(addr, request.as_bytes(), Duration::from_secs(10));
            assert_eq!(status_of(&answer), status, "{path} {rest:?}: {answer}");
            assert!(answer.contains(says), "{path} {rest:?}: {answer}");
        }
        let forwarded = self.upstream.requests();
        assert!(forwarded.is_empty(), "{forwarded:?}");
    }
}

#[test]
fn ambiguous_framing_is_refused_with_400_and_never_forwarded() {
    let servers = Servers::start();
    for (_case, fields) in AMBIGUOUS {
        let rest =
            format!("Content-Type: application/json\r\n{fields}Connection: close\r\n\r\n0\r\n\r\n");
        servers.assert_refused(["/api/v1/register", "/v1/messages"], &rest, 400, "framing");
    }
}

#[test]
fn a_body_over_the_limit_is_refused_before_it_is_sent() {
    let servers = Servers::start();
    // The head announces 1 TiB; not one byte of it follows.
    let rest = format!(
        "Content-Type: multipart/form-data; boundary=b\r\nContent-Length: {}\r\n\r\n",
        1u64 << 40
    );
    let paths = ["/api/v1/submit", "/v1/messages"];
    servers.assert_refused(paths, &rest, 413, "Request body too large");
}

#[test]
fn proxy_paths_cannot_leave_the_target_prefix() {
    let upstream = FakeUpstream::start();
    let proxy = proxy_for(&upstream);
    let escapes = [
        "/../admin/secret",
        "/%2e%2e/admin/secret",
        "/v1/%2E%2e%2f%2e%2e%2fadmin",
        "/v1%2f..%2fadmin",
        "/v1/..%5cadmin",
        "/%252e%252e/admin",
        "http://other.example/admin/secret",
    ];
    for target in escapes {
        let request = format!("GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        let answer = exchange(proxy.addr, request.as_bytes(), Duration::from_secs(10));
        assert_eq!(status_of(&answer), 400, "{target}: {answer}");
    }
    // Without keyless mode the admin paths answer 404 locally, in every spelling.
    for target in [
        "//_sforge/proxy/v1/tokens",
        "/%5fsforge/proxy/v1/tokens",
        "/_sforge/x",
    ] {
        let request = format!("GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        let answer = exchange(proxy.addr, request.as_bytes(), Duration::from_secs(10));
        assert_eq!(status_of(&answer), 404, "{target}: {answer}");
    }
    thread::sleep(Duration::from_millis(200));
    assert!(upstream.requests().is_empty(), "{:?}", upstream.requests());
    // The control: a plain path does reach the upstream, under the prefix.
    let request = "GET /status/200 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    let answer = exchange(proxy.addr, request.as_bytes(), Duration::from_secs(10));
    assert_eq!(status_of(&answer), 200, "{answer}");
    let seen: Vec<String> = upstream
        .requests()
        .iter()
        .map(|r| r.target.clone())
        .collect();
    assert_eq!(seen, ["/prefix/status/200"]);
}
