//! An https `--target` through the CONNECT proxy double: the fake upstream speaks TLS with a
//! certificate for `localhost` signed by a CA generated at test time, trusted through `--ca-file`
//! (or `SFORGE_PROXY_CA_FILE`).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::support::pki::TestPki;

use super::doubles::{raw_exchange, response_headers, ConnectProxy, FakeUpstream, ProxyProcess};
use super::{agent, fetch};

/// The test CA and a server certificate for `localhost` and 127.0.0.1.
fn test_pki() -> TestPki {
    TestPki::new("sforge proxy test CA", &["localhost", "127.0.0.1"])
}

/// The https fake upstream, the CONNECT double, and `sforge proxy` tunnelling to
/// `https://localhost:<port>` through it, with `extra` arguments and environment.
struct Https {
    _pki: TestPki,
    upstream: FakeUpstream,
    tunnel: ConnectProxy,
    proxy: ProxyProcess,
}

impl Https {
    fn start(extra: &[&str], env: &[(&str, &str)]) -> Self {
        let pki = test_pki();
        let upstream = FakeUpstream::start_tls(pki.server.clone());
        let tunnel = ConnectProxy::start();
        let tunnel_url = format!("http://{}", tunnel.addr);
        let mut args = vec!["--target".to_owned(), Self::target_of(&upstream)];
        args.extend(
            extra
                .iter()
                .map(|a| a.replace("{ca}", &pki.ca_file.to_string_lossy())),
        );
        let mut vars: Vec<(&str, String)> = vec![("SFORGE_HTTPS_PROXY", tunnel_url)];
        vars.extend(
            env.iter()
                .map(|(k, v)| (*k, v.replace("{ca}", &pki.ca_file.to_string_lossy()))),
        );
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let proxy = ProxyProcess::start(&args, &vars);
        Https {
            _pki: pki,
            upstream,
            tunnel,
            proxy,
        }
    }

    fn target_of(upstream: &FakeUpstream) -> String {
        format!("https://localhost:{}", upstream.addr.port())
    }

    fn authority(&self) -> String {
        format!("localhost:{}", self.upstream.addr.port())
    }

    /// Every connection the proxy opened went through a CONNECT tunnel to the target.
    fn assert_tunnelled(&self) {
        let used = self.tunnel.used();
        assert!(!used.is_empty(), "the CONNECT proxy was not used");
        let expected = format!("CONNECT {}", self.authority());
        assert!(used.iter().all(|u| *u == expected), "{used:?}");
    }
}

#[test]
fn methods_headers_and_bodies_pass_through_the_tunnel_over_tls() {
    let https = Https::start(&["--ca-file", "{ca}"], &[]);
    assert!(
        https.proxy.stderr().contains("test-ca.pem"),
        "{}",
        https.proxy.stderr()
    );
    let methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];
    for method in methods {
        let url = format!("{}/echo/{method}?a=1", https.proxy.url());
        let body = (method != "GET" && method != "HEAD").then_some(b"payload".as_slice());
        let (status, response) = fetch(agent().request(method, &url), body);
        assert_eq!(status, 200, "{method}");
        if method != "HEAD" {
            let expected = if body.is_some() { "payload" } else { "" };
            assert_eq!(response.into_string().unwrap(), expected, "{method}");
        }
    }
    let request = "POST /echo HTTP/1.1\r\nHost: front.example\r\nConnection: close, X-Hop\r\n\
        X-Hop: secret-hop\r\nKeep-Alive: timeout=5\r\nTE: trailers\r\nUpgrade: h2c\r\n\
        Proxy-Authorization: Basic Zm9v\r\nX-Custom: kept\r\nContent-Type: text/plain\r\n\
        Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n7\r\n, world\r\n0\r\n\r\n";
    let answer = raw_exchange(https.proxy.addr, request.as_bytes());
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with("hello, world"), "{answer}");
    let big = vec![9u8; 200_000];
    let (status, response) = fetch(
        agent().put(&format!("{}/echo", https.proxy.url())),
        Some(&big),
    );
    assert_eq!(status, 200);
    let mut echoed = Vec::new();
    response.into_reader().read_to_end(&mut echoed).unwrap();
    assert!(echoed == big, "the 200 kB body came back altered");

    let seen = https.upstream.requests();
    let names: Vec<&str> = seen.iter().map(|r| r.method.as_str()).collect();
    assert_eq!(names[..methods.len()], methods);
    for r in &seen {
        let absolute = format!("https://{}{}", https.authority(), r.origin_form());
        assert!(
            r.target == r.origin_form() || r.target == absolute,
            "{}",
            r.target
        );
        assert_eq!(r.header("host"), Some(https.authority().as_str()));
    }
    for r in &seen[..methods.len()] {
        assert_eq!(r.origin_form(), format!("/echo/{}?a=1", r.method));
    }
    let chunked = &seen[methods.len()];
    assert_eq!(chunked.body, b"hello, world");
    assert_eq!(chunked.header("x-custom"), Some("kept"));
    assert_eq!(chunked.header("content-type"), Some("text/plain"));
    chunked.assert_no_hop_by_hop();
    let sized = &seen[methods.len() + 1];
    assert_eq!(sized.header("content-length"), Some("200000"));
    assert_eq!(sized.body.len(), 200_000);
    https.assert_tunnelled();
}

#[test]
fn statuses_and_response_headers_pass_through_over_tls() {
    let https = Https::start(&["--ca-file", "{ca}"], &[]);
    for code in [200u16, 201, 204, 301, 404, 500] {
        let url = format!("{}/status/{code}", https.proxy.url());
        let (status, response) = fetch(agent().get(&url), None);
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
    assert_eq!(
        https.upstream.requests().len(),
        6,
        "a redirect was followed"
    );
    https.assert_tunnelled();
}

/// Reads from `stream` until `needle` shows up; panics if the stream ends first.
fn read_until(stream: &mut TcpStream, seen: &mut Vec<u8>, needle: &str) {
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(seen).contains(needle) {
        let n = stream.read(&mut buf).unwrap();
        assert!(n > 0, "ended early: {}", String::from_utf8_lossy(seen));
        seen.extend_from_slice(&buf[..n]);
    }
}

#[test]
fn sse_first_event_arrives_before_the_tls_upstream_finishes() {
    // The CA comes from the environment variable this time.
    let https = Https::start(&[], &[("SFORGE_PROXY_CA_FILE", "{ca}")]);
    let mut stream = TcpStream::connect(https.proxy.addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    stream
        .write_all(b"POST /sse/hold HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}")
        .unwrap();
    // The upstream holds the rest until released: the first event here proves no buffering.
    let mut seen = Vec::new();
    read_until(&mut stream, &mut seen, "data: first");
    assert!(!String::from_utf8_lossy(&seen).contains("second"));
    https.upstream.release();
    stream.read_to_end(&mut seen).unwrap();
    let text = String::from_utf8_lossy(&seen);
    assert!(
        text.contains("data: second") && text.ends_with("0\r\n\r\n"),
        "{text:?}"
    );
    let headers = response_headers(&text);
    assert_eq!(
        headers.get("content-type").map(String::as_str),
        Some("text/event-stream")
    );
    // A body delimited by the upstream closing its TLS connection arrives whole, too.
    let url = format!("{}/usage/openai-chat-sse", https.proxy.url());
    let (status, response) = fetch(agent().post(&url), Some(b"{}"));
    assert_eq!(status, 200);
    assert!(response
        .into_string()
        .unwrap()
        .ends_with("data: [DONE]\n\n"));
    https.assert_tunnelled();
}

#[test]
fn without_the_ca_the_certificate_is_refused_with_a_502() {
    let https = Https::start(&[], &[]);
    let (status, response) = fetch(
        agent().get(&format!("{}/v1/models", https.proxy.url())),
        None,
    );
    assert_eq!(status, 502);
    let body = response.into_string().unwrap();
    let target = Https::target_of(&https.upstream);
    assert!(body.contains(&target), "{body}");
    assert!(body.to_lowercase().contains("certificate"), "{body}");
    assert!(body.contains("--ca-file"), "{body}");
    assert!(https.upstream.requests().is_empty());
    https.assert_tunnelled();
}

#[test]
fn an_unusable_ca_file_stops_the_proxy_before_it_listens() {
    let dir = tempfile::tempdir().unwrap();
    let bogus = dir.path().join("bogus.pem");
    std::fs::write(&bogus, "not a certificate\n").unwrap();
    let missing = dir.path().join("missing.pem");
    for (path, env) in [(&bogus, false), (&missing, true)] {
        let path = path.to_string_lossy().into_owned();
        let result = if env {
            ProxyProcess::try_start(
                &["--target", "https://localhost:1"],
                &[("SFORGE_PROXY_CA_FILE", path.as_str())],
            )
        } else {
            ProxyProcess::try_start(
                &["--target", "https://localhost:1", "--ca-file", &path],
                &[],
            )
        };
        let Err((code, stderr)) = result else {
            panic!("started with the CA file {path}")
        };
        assert!(code.is_some_and(|c| c != 0), "{code:?}");
        assert!(
            stderr.contains(&path) && stderr.contains("--ca-file"),
            "{stderr}"
        );
    }
}
