//! Random identifiers (run ids, submission ids, tokens) from the kernel's random source.

use std::fmt::Write as _;
use std::io::Read;

/// `chars` lowercase hex characters of fresh randomness (e.g. 12 for a run id, 32 for a token).
pub fn random_hex(chars: usize) -> std::io::Result<String> {
    let mut bytes = vec![0u8; chars.div_ceil(2)];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    let mut hex = bytes
        .iter()
        .fold(String::with_capacity(chars + 1), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        });
    hex.truncate(chars);
    Ok(hex)
}

#[cfg(test)]
mod tests {
    #[test]
    fn lengths_and_alphabet() {
        for n in [1, 12, 32] {
            let id = super::random_hex(n).unwrap();
            assert_eq!(id.len(), n);
            assert!(id
                .chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        }
        assert_ne!(
            super::random_hex(32).unwrap(),
            super::random_hex(32).unwrap()
        );
    }
}
