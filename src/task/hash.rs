//! Content hashes of images, byte-identical to SForge 1.0: SHA-256 over Python's
//! `json.dumps(obj, sort_keys=True)` of the base spec, or of base hash + platform + cwd + `setup_cmds`.

use sha2::{Digest, Sha256};

use super::pyjson::{dumps_sorted, PyJsonError};
use crate::yaml::Yaml;

/// Hash of a base image: `{"key": <key>, "spec": <BENCHMARK.yaml entry as loaded>}`.
pub fn base_hash(key: &str, spec: &Yaml) -> Result<String, PyJsonError> {
    let obj = Yaml::Map(vec![
        (Yaml::Str("key".into()), Yaml::Str(key.into())),
        (Yaml::Str("spec".into()), spec.clone()),
    ]);
    Ok(sha256_hex(&dumps_sorted(&obj)?))
}

/// Hash of a work or judge image built from `setup_cmds` on top of the base with `base_hash`.
#[must_use]
pub fn image_hash(base_hash: &str, platform: &str, cwd: &str, setup_cmds: &[String]) -> String {
    let text = |s: &str| Yaml::Str(s.to_owned());
    let obj = Yaml::Map(vec![
        (text("base_hash"), text(base_hash)),
        (text("platform"), text(platform)),
        (text("cwd"), text(cwd)),
        (
            text("setup_cmds"),
            Yaml::Seq(setup_cmds.iter().map(|c| text(c)).collect()),
        ),
    ]);
    // Only strings are involved, which always serialise.
    let json = dumps_sorted(&obj).unwrap_or_default();
    sha256_hex(&json)
}

fn sha256_hex(text: &str) -> String {
    use std::fmt::Write as _;
    let digest = Sha256::digest(text.as_bytes());
    digest.iter().fold(String::with_capacity(64), |mut hex, b| {
        let _ = write!(hex, "{b:02x}");
        hex
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml;

    const PYTHON_BASE: &str = "official_image: python:3.11\nextra_packages: [git, curl, jq]\n";

    fn python_base_hash() -> String {
        base_hash("python", &yaml::parse(PYTHON_BASE).unwrap()).unwrap()
    }

    #[test]
    fn base_hash_matches_reference_vector() {
        assert_eq!(
            python_base_hash(),
            "3aacb6cdfc2745ea6680eece56f259540e4d63548738150d50b982600ad384be"
        );
    }

    #[test]
    fn work_and_judge_hash_match_reference_vector() {
        let cmds = vec!["mkdir -p /home/workspace/demo".to_owned()];
        let h = image_hash(
            &python_base_hash(),
            "linux/amd64",
            "/home/workspace/demo",
            &cmds,
        );
        assert_eq!(&h[..12], "f70a04d5574a");
    }

    #[test]
    fn non_ascii_setup_cmds_match_reference_vector() {
        let cmds = vec!["echo héllo".to_owned()];
        let h = image_hash(&python_base_hash(), "linux/amd64", "/w", &cmds);
        assert_eq!(&h[..12], "c7e495b992c5");
    }

    #[test]
    fn yaml_scalar_types_change_the_base_hash() {
        let as_int = yaml::parse("official_image: x\nextra_packages: []\nversion: 3\n").unwrap();
        let as_str = yaml::parse("official_image: x\nextra_packages: []\nversion: '3'\n").unwrap();
        assert_ne!(
            base_hash("k", &as_int).unwrap(),
            base_hash("k", &as_str).unwrap()
        );
    }

    /// Base specs hashed by SForge 1.0 (PyYAML `safe_load` + `json.dumps(sort_keys=True)`).
    #[test]
    fn base_hashes_match_python_for_yaml_edge_cases() {
        let cases = [
            (
                "official_image: python:3.11\nextra_packages: [git]\nnote: \"héllo 世界 😀\"\n",
                "291cef65d2d55635fc82c37c7b98694c3a7ca50b2ec15c622c42e565e4c05947",
            ),
            (
                "official_image: x\nextra_packages: [git, curl]\nbuild:\n  z: 1\n  a: {y: [1, 2.5, null], b: true}\n",
                "300273fd2f7f0485de95a20fd9bd568f8cfc1f29905c6ed0eaa0f3d1d0fc87c2",
            ),
            (
                "official_image: x\nextra_packages: []\nf1: 1.0\nf2: 1.0e-5\nf3: 1e-05\nf4: 0.0001\nf5: 1.5e+16\nf6: 3.10\n",
                "7c2f11ab8ac2fdce3b5538fdd7061f1526c22aa84aadc7eaf6850f9ad16c4bf3",
            ),
            (
                "official_image: x\nextra_packages: [yes, 'no', on, 012, 0x1F, 1_000, ~, null, '']\nflag: off\n",
                "865eb26e257990e8e863f59f0f49434e2f3b20ccd6a058b37b9a0d516dbf26da",
            ),
            (
                "official_image: ubuntu:22.04\nextra_packages: [git, curl, jq, build-essential]\nuser_directive: \"USER root\\n\"\npip_packages: [numpy==1.26]\npost_install_directive: |\n  RUN echo done\n",
                "5667c47b46eb249f014f1768df847cc52f6d18a5a806a4608941494e81195bee",
            ),
        ];
        for (text, expected) in cases {
            let spec = yaml::parse(text).unwrap();
            assert_eq!(base_hash("k", &spec).unwrap(), expected, "{text}");
        }
    }
}
