//! Extra CA certificates from a PEM file (a private API gateway's or a TLS-inspecting corporate
//! proxy's): read, checked as trust anchors, and written back as clean PEM. Shared by
//! `sforge proxy --ca-file` and the Work container's `SFORGE_CA_FILE`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use rustls::pki_types::pem::{self, PemObject as _};
use rustls::pki_types::CertificateDer;

/// Why a CA file cannot be used; each message names the file and what to give instead.
#[derive(Debug, thiserror::Error)]
pub enum CaFileError {
    #[error("cannot read the CA file {}: {source}; give a readable PEM file of CA certificates", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the CA file {} is not valid PEM: {reason}; give PEM certificates (-----BEGIN CERTIFICATE-----)", path.display())]
    Pem { path: PathBuf, reason: String },
    #[error("the CA file {} holds no certificate; give PEM certificates (-----BEGIN CERTIFICATE-----)", path.display())]
    Empty { path: PathBuf },
    #[error("certificate #{index} in the CA file {} cannot be used as a trust anchor ({reason}); give X.509 CA certificates in PEM", path.display())]
    Anchor {
        path: PathBuf,
        index: usize,
        reason: String,
    },
}

/// Every certificate of a PEM file, in order, each usable as a trust anchor. Other PEM sections
/// (private keys, parameters) and text between sections are skipped.
pub fn read_ca_file(path: &Path) -> Result<Vec<CertificateDer<'static>>, CaFileError> {
    let bytes = std::fs::read(path).map_err(|source| CaFileError::Read {
        path: path.to_owned(),
        source,
    })?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, pem::Error>>()
        .map_err(|e| CaFileError::Pem {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
    if certs.is_empty() {
        return Err(CaFileError::Empty {
            path: path.to_owned(),
        });
    }
    for (i, cert) in certs.iter().enumerate() {
        rustls::RootCertStore::empty()
            .add(cert.clone())
            .map_err(|e| CaFileError::Anchor {
                path: path.to_owned(),
                index: i + 1,
                reason: e.to_string(),
            })?;
    }
    Ok(certs)
}

/// The certificates as PEM text (64-column base64), nothing else: what goes into a container.
#[must_use]
pub fn to_pem(certs: &[CertificateDer<'_>]) -> String {
    let mut out = String::new();
    for cert in certs {
        let b64 = base64::engine::general_purpose::STANDARD.encode(cert.as_ref());
        out.push_str("-----BEGIN CERTIFICATE-----\n");
        for line in b64.as_bytes().chunks(64) {
            let _ = writeln!(out, "{}", String::from_utf8_lossy(line));
        }
        out.push_str("-----END CERTIFICATE-----\n");
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    /// A self-signed CA certificate and its key, both in PEM.
    pub(crate) fn ca_pem(name: &str) -> (String, String) {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        (params.self_signed(&key).unwrap().pem(), key.serialize_pem())
    }

    #[test]
    fn a_bundle_gives_every_certificate_and_skips_keys() {
        let dir = tempfile::tempdir().unwrap();
        let ((first, key), (second, _)) = (ca_pem("one"), ca_pem("two"));
        let bundle = write(
            dir.path(),
            "bundle.pem",
            &format!("# corporate roots\n{first}{key}{second}"),
        );
        let certs = read_ca_file(&bundle).unwrap();
        assert_eq!(certs.len(), 2);
        assert_ne!(certs[0], certs[1]);
        // Written back: the same certificates, and no key.
        let pem = to_pem(&certs);
        assert!(
            !pem.contains("PRIVATE KEY") && !pem.contains("corporate"),
            "{pem}"
        );
        let again = write(dir.path(), "again.pem", &pem);
        assert_eq!(read_ca_file(&again).unwrap(), certs);
        assert!(pem.lines().all(|l| l.len() <= 64), "{pem}");
    }

    #[test]
    fn unusable_files_are_refused_naming_the_file_and_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.pem");
        let err = read_ca_file(&missing).unwrap_err();
        assert!(matches!(err, CaFileError::Read { .. }), "{err}");
        let empty = write(dir.path(), "empty.pem", "just text, no PEM\n");
        assert!(matches!(
            read_ca_file(&empty).unwrap_err(),
            CaFileError::Empty { .. }
        ));
        let (_, key) = ca_pem("k");
        let only_key = write(dir.path(), "key.pem", &key);
        assert!(matches!(
            read_ca_file(&only_key).unwrap_err(),
            CaFileError::Empty { .. }
        ));
        let broken = write(
            dir.path(),
            "broken.pem",
            "-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n",
        );
        assert!(matches!(
            read_ca_file(&broken).unwrap_err(),
            CaFileError::Pem { .. }
        ));
        // Valid base64, but the DER inside is no certificate.
        let garbage = write(
            dir.path(),
            "garbage.pem",
            "-----BEGIN CERTIFICATE-----\naGVsbG8gd29ybGQ=\n-----END CERTIFICATE-----\n",
        );
        let err = read_ca_file(&garbage).unwrap_err();
        assert!(matches!(err, CaFileError::Anchor { index: 1, .. }), "{err}");
        for path in [&missing, &empty, &broken, &garbage] {
            let text = read_ca_file(path).unwrap_err().to_string();
            assert!(
                text.contains(&path.display().to_string()) && text.contains("give"),
                "{text}"
            );
            assert!(!text.contains('\n'), "one line: {text}");
        }
    }
}
