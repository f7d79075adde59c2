//! Fuzzes the HTTP layer's request parsing as a keep-alive connection sees it: heads, framing
//! decisions and bodies (Content-Length and chunked), one request after another from one input.
#![no_main]

use std::io::Read;
use std::sync::atomic::AtomicBool;

use libfuzzer_sys::fuzz_target;
use sforge::http::{read_head, Body, Framing, Limits};

fuzz_target!(|data: &[u8]| {
    let mut limits = Limits::new(4096);
    limits.max_head_bytes = 8192;
    limits.max_headers = 16;
    let mut src = data;
    for _ in 0..4 {
        let before = src.len();
        let head = match read_head(&mut src, &limits) {
            Ok(Some(head)) => head,
            Ok(None) => return,
            Err(e) => {
                assert!(e.status().is_some(), "a slice never fails with I/O: {e}");
                assert!(before - src.len() <= limits.max_head_bytes);
                return;
            }
        };
        assert!(before - src.len() <= limits.max_head_bytes + 64);
        assert!(head.headers.len() <= limits.max_headers);
        let Ok(framing) = head.framing() else {
            return;
        };
        if head.values("transfer-encoding").next().is_some() {
            assert_eq!(framing, Framing::Chunked);
            assert!(head.header("content-length").is_none());
        }
        let done = AtomicBool::new(false);
        let mut body = Body::new(&mut src, framing, limits.max_body_bytes, None, &done);
        let mut data = Vec::new();
        let read = body.read_to_end(&mut data);
        assert!(data.len() as u64 <= limits.max_body_bytes, "the limit held");
        match (read, framing) {
            (Ok(_), Framing::Length(n)) => assert_eq!(data.len() as u64, n),
            (Ok(_), Framing::Chunked) => assert!(body.is_finished()),
            (Err(_), _) => return,
        }
    }
});
