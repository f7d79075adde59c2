//! What a fetch is asked to do: the dataset, the revision, the destination, the Hub settings
//! read from the `HF_*` variables, and the limits on what the Hub may send.

use std::path::{Path, PathBuf};

use crate::config::EnvMap;
use crate::proxy::ProxyEnv;

use super::error::FetchError;

/// Benchmarks known by name, and their Hub dataset (docs/fetch-tasks.md).
pub const BENCHMARKS: &[(&str, &str)] = &[("edgebench", "ByteDance-Seed/EdgeBench")];
/// The Hub used when `HF_ENDPOINT` is not set.
pub const DEFAULT_ENDPOINT: &str = "https://huggingface.co";
/// The revision fetched when none is given.
pub const DEFAULT_REVISION: &str = "main";

/// The dataset of a benchmark name.
pub fn repo_for_benchmark(name: &str) -> Result<&'static str, FetchError> {
    BENCHMARKS
        .iter()
        .find(|(known, _)| *known == name)
        .map(|(_, repo)| *repo)
        .ok_or_else(|| FetchError::UnknownBenchmark {
            name: name.to_owned(),
            available: BENCHMARKS
                .iter()
                .map(|(n, _)| *n)
                .collect::<Vec<_>>()
                .join(", "),
        })
}

/// Checks an `ORG/NAME` dataset id: two parts of letters, digits, `-`, `_` and `.`, neither
/// starting with `.` nor containing `..`.
pub fn check_repo(repo: &str) -> Result<(), FetchError> {
    let good_part = |p: &str| {
        !p.is_empty()
            && p.len() <= 96
            && !p.starts_with('.')
            && !p.contains("..")
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    match repo.split_once('/') {
        Some((org, name)) if good_part(org) && good_part(name) => Ok(()),
        _ => Err(FetchError::BadRepo(repo.to_owned())),
    }
}

/// Checks a `--revision`: a branch, tag or commit name, not empty, `.` or `..`, without control
/// characters, at most 256 bytes.
pub fn check_revision(revision: &str) -> Result<(), FetchError> {
    let bad = revision.is_empty()
        || revision == "."
        || revision == ".."
        || revision.len() > 256
        || revision.chars().any(char::is_control);
    if bad {
        return Err(FetchError::BadRevision(revision.to_owned()));
    }
    Ok(())
}

/// How to reach the Hub.
#[derive(Clone, Default)]
pub struct HubSettings {
    /// Base URL without a trailing `/`.
    pub endpoint: String,
    pub token: Option<String>,
    /// `HF_HUB_OFFLINE`: no network at all.
    pub offline: bool,
    pub proxy: ProxyEnv,
    /// Extra CA certificates to trust (a TLS-inspecting proxy or a private mirror).
    pub ca_file: Option<PathBuf>,
}

impl HubSettings {
    /// Reads `HF_ENDPOINT`, the token (`HF_TOKEN`, `HUGGING_FACE_HUB_TOKEN`, else the file
    /// `huggingface-cli login` writes) and `HF_HUB_OFFLINE`; proxies and CAs come from sforge's
    /// settings.
    #[must_use]
    pub fn from_env(env: &EnvMap, proxy: ProxyEnv, ca_file: Option<PathBuf>) -> Self {
        let set = |name: &str| env.get(name).map(str::trim).filter(|v| !v.is_empty());
        let endpoint = set("HF_ENDPOINT")
            .unwrap_or(DEFAULT_ENDPOINT)
            .trim_end_matches('/')
            .to_owned();
        let token = set("HF_TOKEN")
            .or_else(|| set("HUGGING_FACE_HUB_TOKEN"))
            .map(str::to_owned)
            .or_else(|| token_file(env).and_then(|p| read_token_file(&p)));
        let offline = set("HF_HUB_OFFLINE").is_some_and(|v| {
            matches!(v.to_ascii_lowercase().as_str(), "1" | "on" | "yes" | "true")
        });
        HubSettings {
            endpoint,
            token,
            offline,
            proxy,
            ca_file,
        }
    }
}

impl std::fmt::Debug for HubSettings {
    /// The token is shown as `***`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HubSettings")
            .field("endpoint", &self.endpoint)
            .field("token", &self.token.as_ref().map(|_| "***"))
            .field("offline", &self.offline)
            .field("proxy", &self.proxy)
            .field("ca_file", &self.ca_file)
            .finish()
    }
}

/// Where `huggingface-cli login` keeps the token: `HF_TOKEN_PATH`, else `$HF_HOME/token`, else
/// `$XDG_CACHE_HOME/huggingface/token`, else `~/.cache/huggingface/token`.
fn token_file(env: &EnvMap) -> Option<PathBuf> {
    let set = |name: &str| env.get(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(path) = set("HF_TOKEN_PATH") {
        return Some(path);
    }
    let home = set("HF_HOME")
        .or_else(|| set("XDG_CACHE_HOME").map(|c| c.join("huggingface")))
        .or_else(|| set("HOME").map(|h| h.join(".cache").join("huggingface")))?;
    Some(home.join("token"))
}

/// The first line of a token file, when it exists and is small.
fn read_token_file(path: &Path) -> Option<String> {
    use std::io::Read as _;
    let mut text = String::new();
    std::fs::File::open(path)
        .ok()?
        .take(4096)
        .read_to_string(&mut text)
        .ok()?;
    let token = text.lines().next()?.trim();
    (!token.is_empty()).then(|| token.to_owned())
}

/// Bounds on what the Hub may make sforge read and write.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_files: usize,
    pub max_file_bytes: u64,
    pub max_total_bytes: u64,
    /// One page of a JSON listing.
    pub max_listing_bytes: u64,
    pub max_listing_pages: usize,
}

impl Default for Limits {
    /// 100 000 files, 2 GiB per file, 16 GiB in all, 16 MiB per listing page, 1000 pages.
    fn default() -> Self {
        Limits {
            max_files: 100_000,
            max_file_bytes: 2 << 30,
            max_total_bytes: 16 << 30,
            max_listing_bytes: 16 << 20,
            max_listing_pages: 1000,
        }
    }
}

/// `path` (absolute) with symbolic links and `.`/`..` resolved as far as it exists, so the
/// staging directory lands beside the real destination, on its file system.
#[must_use]
pub fn real_dest(path: &Path) -> PathBuf {
    if let Ok(real) = std::fs::canonicalize(path) {
        return real;
    }
    match (path.parent(), path.file_name()) {
        (Some(parent), Some(name)) => real_dest(parent).join(name),
        _ => path.to_path_buf(),
    }
}

/// One fetch.
#[derive(Debug, Clone)]
pub struct FetchOptions {
    /// `ORG/NAME`, checked with [`check_repo`].
    pub repo: String,
    pub revision: String,
    /// Absolute.
    pub dest: PathBuf,
    /// Replace (and remove) locally edited files.
    pub force: bool,
    pub hub: HubSettings,
    pub limits: Limits,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn benchmarks_map_to_their_dataset() {
        assert_eq!(
            repo_for_benchmark("edgebench").unwrap(),
            "ByteDance-Seed/EdgeBench"
        );
        let err = repo_for_benchmark("nope").unwrap_err().to_string();
        assert!(err.contains("'nope'") && err.contains("edgebench") && err.contains("--repo"));
    }

    #[test]
    fn repo_ids_are_org_slash_name() {
        for good in ["ByteDance-Seed/EdgeBench", "a/b", "o_1/n.2-x"] {
            assert!(check_repo(good).is_ok(), "{good}");
        }
        for bad in [
            "EdgeBench",
            "a/b/c",
            "../x",
            "a/..",
            "a/.b",
            "/b",
            "a b/c",
            "a/b?x",
            "",
        ] {
            assert!(check_repo(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_destination_is_resolved_as_far_as_it_exists() {
        let dir = tempfile::tempdir().unwrap();
        let real = std::fs::canonicalize(dir.path()).unwrap();
        std::fs::create_dir(real.join("a")).unwrap();
        assert_eq!(real_dest(&real.join("a/../b/c")), real.join("b/c"));
        assert_eq!(real_dest(&real.join("a/.")), real.join("a"));
        std::os::unix::fs::symlink(real.join("a"), real.join("link")).unwrap();
        assert_eq!(real_dest(&real.join("link/new")), real.join("a/new"));
    }

    #[test]
    fn revisions_are_names_not_dot_segments() {
        for good in ["main", "v1.0", "refs/pr/1", "0123abcd"] {
            assert!(check_revision(good).is_ok(), "{good}");
        }
        for bad in ["", ".", "..", "a\nb"] {
            assert!(check_revision(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn hub_settings_come_from_the_hf_variables() {
        let env: EnvMap = [
            ("HF_ENDPOINT", "http://mirror.local:8080/"),
            ("HF_TOKEN", "hf_abc"),
            ("HF_HUB_OFFLINE", "YES"),
        ]
        .into_iter()
        .collect();
        let s = HubSettings::from_env(&env, ProxyEnv::default(), None);
        assert_eq!(s.endpoint, "http://mirror.local:8080");
        assert_eq!(s.token.as_deref(), Some("hf_abc"));
        assert!(s.offline);
        assert!(
            !format!("{s:?}").contains("hf_abc"),
            "the token is not shown"
        );
        let none = HubSettings::from_env(&EnvMap::default(), ProxyEnv::default(), None);
        assert_eq!(none.endpoint, DEFAULT_ENDPOINT);
        assert!(none.token.is_none() && !none.offline);
    }

    #[test]
    fn the_login_token_file_is_the_fallback() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("token"), "hf_file\n").unwrap();
        let home = dir.path().to_str().unwrap();
        let env: EnvMap = [("HF_HOME", home)].into_iter().collect();
        let s = HubSettings::from_env(&env, ProxyEnv::default(), None);
        assert_eq!(s.token.as_deref(), Some("hf_file"));
        let env: EnvMap = [("HF_HOME", home), ("HF_TOKEN", "hf_env")]
            .into_iter()
            .collect();
        let s = HubSettings::from_env(&env, ProxyEnv::default(), None);
        assert_eq!(s.token.as_deref(), Some("hf_env"));
    }
}
