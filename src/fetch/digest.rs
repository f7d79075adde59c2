//! The hashes a download is checked against: the SHA-256 of the content (what the Hub lists for
//! LFS files, and what the manifest records) and the git blob id (SHA-1 of `blob <size>\0` and
//! the content, what the Hub lists for files kept in git).

use std::fs::File;
use std::io::Read;
use std::path::Path;

use sha1::Digest as _;

use super::error::{io_error, FetchError};
use super::listing::RemoteFile;

/// Both hashes of one file, fed in order.
pub struct Digests {
    sha256: sha2::Sha256,
    git: sha1::Sha1,
}

impl Digests {
    /// Ready for a file of `size` bytes (the git header needs it first).
    #[must_use]
    pub fn new(size: u64) -> Self {
        let mut git = sha1::Sha1::new();
        git.update(format!("blob {size}\0").as_bytes());
        Digests {
            sha256: <sha2::Sha256 as sha2::Digest>::new(),
            git,
        }
    }

    pub fn update(&mut self, bytes: &[u8]) {
        sha2::Digest::update(&mut self.sha256, bytes);
        self.git.update(bytes);
    }

    pub fn feed_file(&mut self, path: &Path) -> Result<(), FetchError> {
        let mut file = File::open(path).map_err(io_error(path))?;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = file.read(&mut buf).map_err(io_error(path))?;
            if n == 0 {
                return Ok(());
            }
            self.update(&buf[..n]);
        }
    }

    /// The SHA-256 when every hash the Hub gave for `file` matches.
    pub fn verify(self, file: &RemoteFile) -> Result<String, FetchError> {
        let hashes = self.finish();
        hashes.check(file)?;
        Ok(hashes.sha256)
    }

    #[must_use]
    pub fn finish(self) -> Hashes {
        Hashes {
            sha256: hex(&sha2::Digest::finalize(self.sha256)),
            git: hex(&self.git.finalize()),
        }
    }
}

/// Both hashes of a file, in hex.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hashes {
    pub sha256: String,
    /// Only meaningful when the size given to [`Digests::new`] was the real one.
    pub git: String,
}

impl Hashes {
    /// Whether these are the hashes the Hub gave for `file`.
    pub fn check(&self, file: &RemoteFile) -> Result<(), FetchError> {
        let mismatch = |algorithm, expected: &str, actual: &str| FetchError::HashMismatch {
            path: file.path.clone(),
            algorithm,
            expected: expected.to_owned(),
            actual: actual.to_owned(),
        };
        if let Some(expected) = file.sha256.as_deref().filter(|e| *e != self.sha256) {
            return Err(mismatch("SHA-256", expected, &self.sha256));
        }
        if let Some(expected) = file.git_oid.as_deref().filter(|e| *e != self.git) {
            return Err(mismatch("git blob SHA-1", expected, &self.git));
        }
        Ok(())
    }
}

/// The SHA-256 of a local file, in hex.
pub fn sha256_file(path: &Path) -> Result<String, FetchError> {
    Ok(hash_file(path, 0)?.sha256)
}

/// Both hashes of a local file of `size` bytes, read once.
pub fn hash_file(path: &Path, size: u64) -> Result<Hashes, FetchError> {
    let mut digests = Digests::new(size);
    digests.feed_file(path)?;
    Ok(digests.finish())
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(sha256: Option<&str>, git: Option<&str>, size: u64) -> RemoteFile {
        RemoteFile {
            path: "x".into(),
            size,
            git_oid: git.map(str::to_owned),
            sha256: sha256.map(str::to_owned),
        }
    }

    #[test]
    fn git_blob_ids_and_sha256_match_known_vectors() {
        // `printf 'hello\n' | git hash-object --stdin` and `sha256sum`.
        let git = "ce013625030ba8dba906f756967f9e9ca394464a";
        let sha = "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03";
        let mut d = Digests::new(6);
        d.update(b"hel");
        d.update(b"lo\n");
        assert_eq!(d.verify(&file(None, Some(git), 6)).unwrap(), sha);
        let mut d = Digests::new(6);
        d.update(b"hello\n");
        assert_eq!(d.verify(&file(Some(sha), None, 6)).unwrap(), sha);
    }

    #[test]
    fn a_wrong_byte_is_a_mismatch() {
        let git = "ce013625030ba8dba906f756967f9e9ca394464a";
        let mut d = Digests::new(6);
        d.update(b"hellO\n");
        let err = d.verify(&file(None, Some(git), 6)).unwrap_err().to_string();
        assert!(
            err.contains("git blob SHA-1 mismatch") && err.contains(git),
            "{err}"
        );
    }
}
