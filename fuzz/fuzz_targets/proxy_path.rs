//! Fuzzes the proxy's request-target check: whatever it accepts has no dot segment under any
//! number of percent-decodings an upstream might apply, and is forwarded as an origin-form path.
#![no_main]

use libfuzzer_sys::fuzz_target;
use percent_encoding::percent_decode_str;
use sforge::proxy::path::RequestPath;

fn has_dot_segment(path: &str) -> bool {
    path.split(['/', '\\']).any(|s| s == "." || s == "..")
}

fuzz_target!(|data: &[u8]| {
    let Ok(target) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(path) = RequestPath::parse(target) else {
        return;
    };
    if target == "*" {
        return;
    }
    assert!(path.forward.starts_with('/'));
    assert!(path.normalised.starts_with('/'));
    let mut decoded = path.forward.split('?').next().unwrap_or_default().to_owned();
    for _ in 0..3 {
        assert!(!has_dot_segment(&decoded), "{target:?} decodes to {decoded:?}");
        decoded = percent_decode_str(&decoded).decode_utf8_lossy().into_owned();
    }
    if path.is_local() {
        assert!(path.normalised.to_ascii_lowercase().starts_with("/_sforge"));
    }
});
