//! TLS towards the upstream: the default web PKI roots plus the operator's extra CA certificates
//! (`--ca-file`, for a private API gateway or a TLS-inspecting corporate proxy).

use std::path::Path;
use std::sync::Arc;

use crate::certs::{read_ca_file, CaFileError};

/// Why the extra CA certificates cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("{0} (--ca-file or SFORGE_PROXY_CA_FILE)")]
    CaFile(#[from] CaFileError),
    #[error("cannot set up TLS for the upstream: {0}")]
    Config(String),
}

/// The client configuration ureq uses (ring, TLS 1.2 and 1.3) with the web PKI roots and, on top
/// of them, every certificate of `extra_ca` as an additional trust anchor.
pub fn client_config(extra_ca: &Path) -> Result<Arc<rustls::ClientConfig>, TlsError> {
    let mut roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    // Each one was checked as a trust anchor when read.
    roots.add_parsable_certificates(read_ca_file(extra_ca)?);
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
    use crate::certs::tests::{ca_pem, write};

    #[test]
    fn the_extra_certificates_make_a_client_config() {
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = ca_pem("one");
        let bundle = write(dir.path(), "bundle.pem", &format!("{cert}{key}"));
        assert!(client_config(&bundle).is_ok());
    }

    #[test]
    fn errors_name_the_file_and_the_proxy_setting() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.pem");
        let text = client_config(&missing).unwrap_err().to_string();
        assert!(
            text.contains(&missing.display().to_string()) && text.contains("--ca-file"),
            "{text}"
        );
    }
}
