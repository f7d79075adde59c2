//! The judge's admin secret, kept in `<log_dir>/judge/admin_secret` (mode 0600, created on
//! first start, reused on restart).

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Name of the admin secret file inside the judge state directory.
const SECRET_FILE: &str = "admin_secret";

/// The judge state directory under a log directory: `<log_dir>/judge`.
#[must_use]
pub fn state_dir(log_dir: &Path) -> PathBuf {
    log_dir.join("judge")
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
    let secret = crate::ids::random_hex(32)?;
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
