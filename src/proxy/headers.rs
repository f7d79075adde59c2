//! Pure request/response rewriting rules of the proxy: which headers cross it (request paths are
//! checked in `path.rs`).

/// Hop-by-hop headers (RFC 9110 §7.6.1) plus `Host`, which the upstream client sets from the target.
const HOP_BY_HOP: [&str; 8] = [
    "host",
    "connection",
    "keep-alive",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "content-length",
];

/// Whether a header is specific to one connection and must not be forwarded in either direction
/// (`Proxy-*` included). `Content-Length` is listed because each side frames its own body.
#[must_use]
pub fn is_hop_by_hop(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    HOP_BY_HOP.contains(&lower.as_str()) || lower.starts_with("proxy-")
}

/// Header names listed in `Connection` values (`Connection: close, X-Foo` makes `X-Foo`
/// hop-by-hop too), lower-cased.
#[must_use]
pub fn connection_listed(headers: &[(String, String)]) -> Vec<String> {
    headers
        .iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case("connection"))
        .flat_map(|(_, value)| value.split(','))
        .map(|token| token.trim().to_ascii_lowercase())
        .filter(|token| !token.is_empty())
        .collect()
}

/// The request headers to send upstream: hop-by-hop ones, those named by `Connection`,
/// `Accept-Encoding` (the proxy asks for `identity` so it can read usage), `Expect` (the proxy
/// answers `100-continue` itself) and every name in
/// `also_drop` (lower case; the credentials in keyless mode) are removed.
#[must_use]
pub fn forwardable_request_headers(
    headers: &[(String, String)],
    also_drop: &[&str],
) -> Vec<(String, String)> {
    let listed = connection_listed(headers);
    headers
        .iter()
        .filter(|(name, _)| {
            let lower = name.to_ascii_lowercase();
            !is_hop_by_hop(&lower)
                && lower != "accept-encoding"
                && lower != "expect"
                && !listed.contains(&lower)
                && !also_drop.contains(&lower.as_str())
        })
        .cloned()
        .collect()
}

/// The response headers to send back to the client: everything but hop-by-hop headers and those
/// named by the upstream's `Connection` header (the proxy frames the body itself).
#[must_use]
pub fn forwardable_response_headers(headers: &[(String, String)]) -> Vec<(String, String)> {
    let listed = connection_listed(headers);
    headers
        .iter()
        .filter(|(name, _)| {
            let lower = name.to_ascii_lowercase();
            !is_hop_by_hop(&lower) && !listed.contains(&lower)
        })
        .cloned()
        .collect()
}

/// The value of the first header called `name` (case-insensitive).
#[must_use]
pub fn find<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn request_headers_lose_hop_by_hop_and_accept_encoding() {
        let incoming = h(&[
            ("Host", "localhost:9090"),
            ("Connection", "keep-alive, X-Private"),
            ("Keep-Alive", "timeout=5"),
            ("Transfer-Encoding", "chunked"),
            ("TE", "trailers"),
            ("Upgrade", "websocket"),
            ("Proxy-Authorization", "Basic abc"),
            ("Proxy-Connection", "keep-alive"),
            ("Accept-Encoding", "gzip"),
            ("Content-Length", "3"),
            ("X-Private", "1"),
            ("Content-Type", "application/json"),
            ("X-Custom", "kept"),
            ("anthropic-version", "2023-06-01"),
        ]);
        let out = forwardable_request_headers(&incoming, &[]);
        assert_eq!(
            out,
            h(&[
                ("Content-Type", "application/json"),
                ("X-Custom", "kept"),
                ("anthropic-version", "2023-06-01"),
            ])
        );
    }

    #[test]
    fn request_headers_drop_the_named_credentials() {
        let incoming = h(&[
            ("X-Api-Key", "sfp-1"),
            ("Authorization", "Bearer t"),
            ("A", "b"),
        ]);
        let out = forwardable_request_headers(&incoming, &["x-api-key", "authorization"]);
        assert_eq!(out, h(&[("A", "b")]));
    }

    #[test]
    fn response_headers_keep_end_to_end_ones() {
        let upstream = h(&[
            ("Content-Type", "text/event-stream"),
            ("Transfer-Encoding", "chunked"),
            ("Content-Length", "10"),
            ("Connection", "close"),
            ("Location", "/elsewhere"),
            ("Set-Cookie", "a=1"),
            ("Set-Cookie", "b=2"),
        ]);
        assert_eq!(
            forwardable_response_headers(&upstream),
            h(&[
                ("Content-Type", "text/event-stream"),
                ("Location", "/elsewhere"),
                ("Set-Cookie", "a=1"),
                ("Set-Cookie", "b=2"),
            ])
        );
    }

    #[test]
    fn find_is_case_insensitive() {
        let hs = h(&[("Content-Type", "a"), ("content-type", "b")]);
        assert_eq!(find(&hs, "CONTENT-TYPE"), Some("a"));
        assert_eq!(find(&hs, "x"), None);
    }
}
