//! TLS towards the upstream: the default web PKI roots plus the operator's extra CA certificates
//! (`--ca-file`, for a private API gateway or a TLS-inspecting corporate proxy).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::{self, PemObject as _};
use rustls::pki_types::CertificateDer;

/// Why the extra CA certificates cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read the CA file {}: {source}; give a readable PEM file to --ca-file (or SFORGE_PROXY_CA_FILE)", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the CA file {} is not valid PEM: {reason}; give PEM certificates (-----BEGIN CERTIFICATE-----) to --ca-file", path.display())]
    Pem { path: PathBuf, reason: String },
    #[error("the CA file {} holds no certificate; give PEM certificates (-----BEGIN CERTIFICATE-----) to --ca-file", path.display())]
    Empty { path: PathBuf },
    #[error("certificate #{index} in the CA file {} cannot be used as a trust anchor ({reason}); give --ca-file X.509 CA certificates in PEM", path.display())]
    Anchor {
        path: PathBuf,
        index: usize,
        reason: String,
    },
    #[error("cannot set up TLS for the upstream: {0}")]
    Config(String),
}

/// Every certificate of a PEM file, in order; other PEM sections (keys) are skipped.
pub fn read_ca_file(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let bytes = std::fs::read(path).map_err(|source| TlsError::Read {
        path: path.to_owned(),
        source,
    })?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, pem::Error>>()
        .map_err(|e| TlsError::Pem {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
    if certs.is_empty() {
        return Err(TlsError::Empty {
            path: path.to_owned(),
        });
    }
    Ok(certs)
}

/// The client configuration ureq uses (ring, TLS 1.2 and 1.3) with the web PKI roots and, on top
/// of them, every certificate of `extra_ca` as an additional trust anchor.
pub fn client_config(extra_ca: &Path) -> Result<Arc<rustls::ClientConfig>, TlsError> {
    let mut roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    for (i, cert) in read_ca_file(extra_ca)?.into_iter().enumerate() {
        roots.add(cert).map_err(|e| TlsError::Anchor {
            path: extra_ca.to_owned(),
            index: i + 1,
            reason: e.to_string(),
        })?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS12, &rustls::version::TLS13])
        .map_err(|e| TlsError::Config(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    fn ca_pem(name: &str) -> (String, String) {
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
        assert!(client_config(&bundle).is_ok());
        let only_key = write(dir.path(), "key.pem", &key);
        assert!(matches!(
            client_config(&only_key).unwrap_err(),
            TlsError::Empty { .. }
        ));
    }

    #[test]
    fn unusable_files_are_refused_naming_the_file_and_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.pem");
        let err = client_config(&missing).unwrap_err();
        assert!(matches!(err, TlsError::Read { .. }), "{err}");
        let empty = write(dir.path(), "empty.pem", "just text, no PEM\n");
        let err = client_config(&empty).unwrap_err();
        assert!(matches!(err, TlsError::Empty { .. }), "{err}");
        let broken = write(
            dir.path(),
            "broken.pem",
            "-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n",
        );
        let err = client_config(&broken).unwrap_err();
        assert!(matches!(err, TlsError::Pem { .. }), "{err}");
        // Valid base64, but the DER inside is no certificate.
        let garbage = write(
            dir.path(),
            "garbage.pem",
            "-----BEGIN CERTIFICATE-----\naGVsbG8gd29ybGQ=\n-----END CERTIFICATE-----\n",
        );
        let err = client_config(&garbage).unwrap_err();
        assert!(matches!(err, TlsError::Anchor { index: 1, .. }), "{err}");
        for (err, path) in [
            (client_config(&missing).unwrap_err(), &missing),
            (client_config(&garbage).unwrap_err(), &garbage),
        ] {
            let text = err.to_string();
            assert!(
                text.contains(&path.display().to_string()) && text.contains("--ca-file"),
                "{text}"
            );
        }
    }
}
