//! `sforge proxy` end to end on 127.0.0.1: the real binary between a raw or `ureq` client and a
//! fake upstream API (test doubles in `proxy/doubles.rs` and `proxy/fake_upstream.rs`); an https
//! upstream behind the CONNECT proxy double in `proxy/tls.rs`.

// Tests observe the system directly, independent of the product's process gateway.
#![allow(clippy::disallowed_methods)]

#[path = "proxy/doubles.rs"]
mod doubles;
#[path = "proxy/fake_upstream.rs"]
mod fake_upstream;
mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use doubles::{raw_exchange, response_headers, ConnectProxy, FakeUpstream, ProxyProcess};
use sforge::proxy::{ProxyAdmin, ProxyClientError};

fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .redirects(0)
        .timeout(Duration::from_secs(30))
        .build()
}

/// Any answer, error statuses included: (status, headers lookup, body).
fn fetch(request: ureq::Request, body: Option<&[u8]>) -> (u16, ureq::Response) {
    let result = match body {
        Some(bytes) => request.send_bytes(bytes),
        None => request.call(),
    };
    match result {
        Ok(r) | Err(ureq::Error::Status(_, r)) => (r.status(), r),
        Err(e) => panic!("request failed: {e}"),
    }
}

#[test]
fn every_method_path_and_query_reaches_the_target_prefix() {
    let upstream = FakeUpstream::start();
    let proxy = ProxyProcess::start(&["--target", &format!("{}/api/", upstream.url())], &[]);
    let methods = [
        "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "PROPFIND",
    ];
    for method in methods {
        let url = format!("{}/echo/{method}?a=1&b=x%20y", proxy.url());
        let body = (method != "GET" && method != "HEAD").then_some(b"payload".as_slice());
        let (status, response) = fetch(agent().request(method, &url), body);
        assert_eq!(status, 200, "{method}");
        if method != "HEAD" {
            assert_eq!(
                response.into_string().unwrap(),
                if body.is_some() { "payload" } else { "" }
            );
        }
    }
    let seen = upstream.requests();
    assert_eq!(
        seen.iter().map(|r| r.method.as_str()).collect::<Vec<_>>(),
        methods
    );
    for r in &seen {
        assert_eq!(r.target, format!("/api/echo/{}?a=1&b=x%20y", r.method));
        assert_eq!(r.header("host"), Some(upstream.addr.to_string().as_str()));
    }
}

#[test]
fn headers_are_filtered_and_bodies_of_both_framings_arrive() {
    let upstream = FakeUpstream::start();
    let proxy = ProxyProcess::start(&["--target", &upstream.url()], &[]);
    let request = "POST /echo HTTP/1.1\r\nHost: front.example\r\nConnection: close, X-Hop\r\n\
        X-Hop: secret-hop\r\nKeep-Alive: timeout=5\r\nTE: trailers\r\nUpgrade: h2c\r\n\
        Proxy-Authorization: Basic Zm9v\r\nAccept-Encoding: gzip, br\r\nX-Custom: kept\r\n\
        Content-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n\
        5\r\nhello\r\n7\r\n, world\r\n0\r\n\r\n";
    let answer = raw_exchange(proxy.addr, request.as_bytes());
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with("hello, world"), "{answer}");
    let (status, response) = fetch(
        agent().post(&format!("{}/echo", proxy.url())),
        Some(&vec![7u8; 100_000]),
    );
    assert_eq!(status, 200);
    let mut echoed = Vec::new();
    response.into_reader().read_to_end(&mut echoed).unwrap();
    assert_eq!(echoed, vec![7u8; 100_000]);

    let seen = upstream.requests();
    let chunked = &seen[0];
    assert_eq!(chunked.body, b"hello, world");
    assert_eq!(chunked.header("x-custom"), Some("kept"));
    assert_eq!(chunked.header("content-type"), Some("text/plain"));
    assert_eq!(
        chunked.header("host"),
        Some(upstream.addr.to_string().as_str())
    );
    assert_eq!(chunked.header("accept-encoding"), Some("identity"));
    chunked.assert_no_hop_by_hop();
    assert_eq!(seen[1].header("content-length"), Some("100000"));
    assert_eq!(seen[1].body.len(), 100_000);
}

#[test]
fn statuses_and_response_headers_pass_through_without_following_redirects() {
    let upstream = FakeUpstream::start();
    let proxy = ProxyProcess::start(&["--target", &upstream.url()], &[]);
    for code in [200u16, 201, 204, 301, 404, 500] {
        let (status, response) =
            fetch(agent().get(&format!("{}/status/{code}", proxy.url())), None);
        assert_eq!(status, code);
        assert_eq!(response.header("x-upstream"), Some("fake"));
        assert_eq!(response.header("location"), Some("/status/200"));
        let expected = if code == 204 {
            String::new()
        } else {
            format!("status {code}")
        };
        assert_eq!(response.into_string().unwrap(), expected);
    }
    let targets: Vec<String> = upstream.requests().into_iter().map(|r| r.target).collect();
    assert_eq!(targets.len(), 6, "the 301 was followed: {targets:?}");
}

#[test]
fn keep_alive_serves_several_requests_on_one_connection() {
    let upstream = FakeUpstream::start();
    let proxy = ProxyProcess::start(&["--target", &upstream.url()], &[]);
    let mut stream = TcpStream::connect(proxy.addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    for body in ["one", "second"] {
        let req = format!(
            "PUT /echo HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(req.as_bytes()).unwrap();
        let mut line = String::new();
        let mut length = 0;
        loop {
            line.clear();
            reader.read_line(&mut line).unwrap();
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = v.trim().parse().unwrap();
            }
            if line == "\r\n" {
                break;
            }
        }
        let mut got = vec![0; length];
        reader.read_exact(&mut got).unwrap();
        assert_eq!(got, body.as_bytes());
    }
}

#[test]
fn sse_first_event_arrives_before_the_upstream_finishes() {
    let upstream = FakeUpstream::start();
    let proxy = ProxyProcess::start(&["--target", &upstream.url()], &[]);
    let mut stream = TcpStream::connect(proxy.addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    stream
        .write_all(b"POST /sse/hold HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}")
        .unwrap();
    // The upstream holds the rest of the stream until released, so seeing the first event here
    // proves the proxy did not wait for the end.
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&seen).contains("data: first") {
        let n = stream.read(&mut buf).unwrap();
        assert!(
            n > 0,
            "stream ended early: {}",
            String::from_utf8_lossy(&seen)
        );
        seen.extend_from_slice(&buf[..n]);
    }
    assert!(!String::from_utf8_lossy(&seen).contains("second"));
    upstream.release();
    stream.read_to_end(&mut seen).unwrap();
    let text = String::from_utf8_lossy(&seen);
    assert!(text.contains("data: second"), "{text}");
    assert_eq!(
        response_headers(&text)
            .get("content-type")
            .map(String::as_str),
        Some("text/event-stream")
    );
    assert!(
        text.ends_with("0\r\n\r\n"),
        "chunked stream not terminated: {text:?}"
    );
}

#[test]
fn upstream_proxy_from_sforge_variable_wins_over_https_proxy() {
    let upstream = FakeUpstream::start();
    let good = ConnectProxy::start();
    let dead = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let (good_url, dead_url) = (format!("http://{}", good.addr), format!("http://{dead}"));
    let env = [
        ("SFORGE_HTTPS_PROXY", good_url.as_str()),
        ("HTTPS_PROXY", dead_url.as_str()),
    ];
    let proxy = ProxyProcess::start(&["--target", &upstream.url()], &env);
    assert!(
        proxy.stderr().contains(&good.addr.to_string()),
        "{}",
        proxy.stderr()
    );
    let (status, response) = fetch(
        agent().post(&format!("{}/echo?q=1", proxy.url())),
        Some(b"via"),
    );
    assert_eq!(
        (status, response.into_string().unwrap().as_str()),
        (200, "via")
    );
    assert_eq!(
        good.used(),
        vec![format!("FORWARD {}/echo?q=1", upstream.url())]
    );
    assert_eq!(upstream.requests()[0].target, "/echo?q=1");
}

#[test]
fn https_targets_are_tunnelled_with_connect_and_tls_failures_give_502() {
    // The "upstream" speaks plain HTTP, so TLS through the tunnel fails: the CONNECT is still
    // recorded and the client gets a 502 naming the target (a real TLS upstream: `proxy/tls.rs`).
    let upstream = FakeUpstream::start();
    let tunnel = ConnectProxy::start();
    let target = format!("https://{}", upstream.addr);
    let proxy_url = format!("http://{}", tunnel.addr);
    let proxy = ProxyProcess::start(
        &["--target", &target],
        &[("https_proxy", proxy_url.as_str())],
    );
    let (status, response) = fetch(agent().get(&format!("{}/v1/models", proxy.url())), None);
    assert_eq!(status, 502);
    let body = response.into_string().unwrap();
    assert!(
        body.contains(&target) && body.contains(&proxy_url),
        "{body}"
    );
    assert_eq!(tunnel.used(), vec![format!("CONNECT {}", upstream.addr)]);
}

#[test]
fn unreachable_upstream_gives_502_naming_the_target() {
    let dead = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let target = format!("http://{dead}/prefix");
    let proxy = ProxyProcess::start(&["--target", &target], &[]);
    assert!(proxy.stderr().contains("direct"), "{}", proxy.stderr());
    let (status, response) = fetch(
        agent().post(&format!("{}/v1/messages", proxy.url())),
        Some(b"{}"),
    );
    assert_eq!(status, 502);
    assert_eq!(response.content_type(), "application/json");
    let body = response.into_string().unwrap();
    assert!(
        body.contains(&target) && body.contains("directly"),
        "{body}"
    );
}

#[test]
fn admin_api_is_absent_without_keyless_mode() {
    let upstream = FakeUpstream::start();
    let proxy = ProxyProcess::start(&["--target", &upstream.url()], &[]);
    let admin = ProxyAdmin::new(&proxy.url(), "anything");
    let err = admin.mint("run", "task").unwrap_err();
    assert!(
        matches!(err, ProxyClientError::Status { status: 404, .. }),
        "{err}"
    );
    assert!(upstream.requests().is_empty());
}

#[test]
fn signals_stop_the_proxy_promptly_with_exit_0_and_free_the_port() {
    let upstream = FakeUpstream::start();
    for signal in ["TERM", "INT"] {
        let mut proxy = ProxyProcess::start(&["--target", &upstream.url()], &[]);
        // An idle keep-alive connection must not hold the shutdown up.
        let _idle = TcpStream::connect(proxy.addr).unwrap();
        assert_eq!(
            proxy.signal(signal, Duration::from_secs(10)),
            Some(0),
            "SIG{signal}"
        );
        assert!(
            TcpListener::bind(proxy.addr).is_ok(),
            "port still taken after SIG{signal}"
        );
    }
}

#[path = "proxy/keyless.rs"]
mod keyless;
#[path = "proxy/tls.rs"]
mod tls;

#[test]
fn shutdown_lets_a_stream_in_flight_finish() {
    let upstream = FakeUpstream::start();
    let mut proxy = ProxyProcess::start(&["--target", &upstream.url()], &[]);
    let mut stream = TcpStream::connect(proxy.addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    stream
        .write_all(b"GET /sse/hold HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&seen).contains("data: first") {
        let n = stream.read(&mut buf).unwrap();
        assert!(n > 0);
        seen.extend_from_slice(&buf[..n]);
    }
    proxy.send_signal("TERM");
    // Shutdown has begun once the listener is gone; only then is the upstream released.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(proxy.addr).is_ok() {
        assert!(
            std::time::Instant::now() < deadline,
            "the proxy kept accepting"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        proxy.child.try_wait().unwrap().is_none(),
        "exited with a request in flight"
    );
    upstream.release();
    stream.read_to_end(&mut seen).unwrap();
    assert!(String::from_utf8_lossy(&seen).contains("data: second"));
    assert_eq!(proxy.wait_exit(Duration::from_secs(10)), Some(0));
}
