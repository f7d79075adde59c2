//! Extra CA certificates in the Work container (`SFORGE_CA_FILE`, `--ca-file`, `ca_file:`), for
//! networks whose TLS-inspecting proxy re-signs every HTTPS connection: the certificates are
//! copied in (never on a command line), added to the system store, bundled with the system roots,
//! and named by the variables that npm, node, pip, curl, git and Python read.

use minijinja::context;

use super::error::AgentError;
use super::parts::{ContainerFile, InstallStep, User};
use super::templates;

/// The extra certificates inside the container (PEM, certificates only).
pub const CA_CERT_PATH: &str = "/usr/local/share/ca-certificates/sforge-extra-ca.crt";
/// The system roots plus the extra certificates.
pub const CA_BUNDLE_PATH: &str = "/etc/ssl/certs/sforge-ca-bundle.pem";

/// The certificates as a file to copy into the container before the install steps.
#[must_use]
pub fn ca_cert_file(pem: String) -> ContainerFile {
    ContainerFile {
        path: CA_CERT_PATH.to_owned(),
        content: pem,
        mode: 0o644,
        root: true,
        local_copy: Some("_extra_ca.pem".to_owned()),
    }
}

/// The root step that puts the certificates into the system store and writes the bundle.
pub fn ca_trust_step() -> Result<InstallStep, AgentError> {
    let script = templates::render(
        "ca-trust.sh",
        context! { cert_file => CA_CERT_PATH, bundle_file => CA_BUNDLE_PATH },
    )?;
    Ok(InstallStep::new(script, User::Root))
}

/// The variables that make each client trust the certificates. Node (npm, claude-code) adds
/// `NODE_EXTRA_CA_CERTS` to its own roots; OpenSSL (curl, git, Python), requests, pip and codex
/// replace their roots with the bundle, which holds the system roots too.
#[must_use]
pub fn ca_env() -> Vec<(&'static str, &'static str)> {
    let mut vars = vec![("NODE_EXTRA_CA_CERTS", CA_CERT_PATH)];
    vars.extend(
        [
            "SSL_CERT_FILE",
            "REQUESTS_CA_BUNDLE",
            "PIP_CERT",
            "GIT_SSL_CAINFO",
            "CURL_CA_BUNDLE",
            "CODEX_CA_CERTIFICATE",
        ]
        .map(|name| (name, CA_BUNDLE_PATH)),
    );
    vars
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_client_is_pointed_at_the_certificates() {
        let env = ca_env();
        for name in [
            "NODE_EXTRA_CA_CERTS",
            "SSL_CERT_FILE",
            "REQUESTS_CA_BUNDLE",
            "PIP_CERT",
            "GIT_SSL_CAINFO",
            "CODEX_CA_CERTIFICATE",
        ] {
            assert!(env.iter().any(|(n, _)| *n == name), "{name} missing");
        }
    }

    #[test]
    fn the_trust_step_runs_as_root_and_writes_the_bundle() {
        let step = ca_trust_step().unwrap();
        assert_eq!(step.user, User::Root);
        assert!(step.script.contains(CA_BUNDLE_PATH) && step.script.contains(CA_CERT_PATH));
    }
}
