//! Content hashes of images, byte-identical to SForge 1.0: SHA-256 over Python's
//! `json.dumps(obj, sort_keys=True)` of the base spec, or of base hash + platform + cwd + setup_cmds.

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
    let digest = Sha256::digest(text.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml;

    const PYTHON_BASE: &str =
        "official_image: python:3.11\nextra_packages: [git, curl, jq]\n";

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
        let h = image_hash(&python_base_hash(), "linux/amd64", "/home/workspace/demo", &cmds);
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
        assert_ne!(base_hash("k", &as_int).unwrap(), base_hash("k", &as_str).unwrap());
    }
}
