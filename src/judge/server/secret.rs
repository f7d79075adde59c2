//! Random identifiers and the judge's admin secret, kept in `<log_dir>/judge/admin_secret`
//! (mode 0600, created on first start, reused on restart).

use std::fmt::Write as _;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Name of the admin secret file inside the judge state directory.
const SECRET_FILE: &str = "admin_secret";

/// The judge state directory under a log directory: `<log_dir>/judge`.
#[must_use]
pub fn state_dir(log_dir: &Path) -> PathBuf {
    log_dir.join("judge")
}

/// `n` random bytes from the kernel's CSPRNG (`/dev/urandom`), hex-encoded (2n characters).
pub fn random_hex(n: usize) -> io::Result<String> {
    let mut bytes = vec![0u8; n];
    File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    let mut out = String::with_capacity(2 * n);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    Ok(out)
}

/// Reads the admin secret of the judge whose log directory is `log_dir`, if one was created.
/// For `sforge run` and `sforge eval` on the same host as `sforge serve`.
///
/// # Errors
/// The file exists but cannot be read.
pub fn read_admin_secret(log_dir: &Path) -> io::Result<Option<String>> {
    match fs::read_to_string(state_dir(log_dir).join(SECRET_FILE)) {
        Ok(text) => Ok(Some(text.trim().to_owned()).filter(|s| !s.is_empty())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// The secret the server uses: `override_secret` (from `SFORGE_JUDGE_ADMIN_SECRET`, read by the
/// caller) when given, else the persisted one, created (32 hex, mode 0600) when missing.
pub fn load_or_create(log_dir: &Path, override_secret: Option<&str>) -> io::Result<String> {
    if let Some(secret) = override_secret.filter(|s| !s.is_empty()) {
        return Ok(secret.to_owned());
    }
    if let Some(secret) = read_admin_secret(log_dir)? {
        return Ok(secret);
    }
    let dir = state_dir(log_dir);
    fs::create_dir_all(&dir)?;
    let secret = random_hex(16)?;
    let path = dir.join(SECRET_FILE);
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)?;
    file.write_all(format!("{secret}\n").as_bytes())?;
    file.sync_all()?;
    log::info!("created judge admin secret in {}", path.display());
    Ok(secret)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn random_hex_has_requested_length_and_varies() {
        let a = random_hex(16).unwrap();
        assert_eq!(a.len(), 32);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, random_hex(16).unwrap());
    }

    #[test]
    fn secret_is_created_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read_admin_secret(dir.path()).unwrap(), None);
        let first = load_or_create(dir.path(), None).unwrap();
        let mode = fs::metadata(state_dir(dir.path()).join(SECRET_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(load_or_create(dir.path(), None).unwrap(), first);
        assert_eq!(read_admin_secret(dir.path()).unwrap(), Some(first));
        assert_eq!(load_or_create(dir.path(), Some("x")).unwrap(), "x");
    }
}
