//! What the Hub says a revision holds: its commit (`/api/datasets/<repo>/revision/<rev>`) and
//! its files (`/api/datasets/<repo>/tree/<commit>?recursive=true`, paginated by `Link`), each
//! path checked, each size bounded (docs/fetch-tasks.md#routes).

use std::collections::BTreeMap;
use std::io::Read;

use serde::Deserialize;
use url::Url;

use super::error::FetchError;
use super::hub::Hub;
use super::options::Limits;
use super::paths;

/// One file of the revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteFile {
    pub path: String,
    pub size: u64,
    /// The git blob id (SHA-1 of `blob <size>\0<bytes>`), for files stored in git.
    pub git_oid: Option<String>,
    /// The SHA-256 of the content, for files stored with LFS.
    pub sha256: Option<String>,
}

impl RemoteFile {
    /// A file name for its download in the staging directory: the hash the Hub gave.
    pub fn key(&self) -> &str {
        self.sha256
            .as_deref()
            .or(self.git_oid.as_deref())
            .unwrap_or("")
    }
}

#[derive(Deserialize)]
struct RevisionInfo {
    sha: String,
}

#[derive(Deserialize)]
struct TreeEntry {
    #[serde(rename = "type")]
    kind: String,
    path: String,
    #[serde(default)]
    size: u64,
    #[serde(default)]
    oid: Option<String>,
    #[serde(default)]
    lfs: Option<LfsInfo>,
}

#[derive(Deserialize)]
struct LfsInfo {
    oid: String,
    size: u64,
}

/// The commit `hub.revision` points at.
pub fn commit(hub: &Hub, limits: &Limits) -> Result<String, FetchError> {
    let url = hub.url(&[
        "api",
        "datasets",
        org(hub),
        name(hub),
        "revision",
        &hub.revision,
    ]);
    let (info, _): (RevisionInfo, _) = get_json(hub, &url, limits)?;
    if !is_hex(&info.sha, 40) {
        return Err(listing_error(
            hub,
            &format!("commit id {:?} is not 40 hex digits", info.sha),
        ));
    }
    Ok(info.sha)
}

/// Every file of `commit`, sorted by path.
pub fn files(hub: &Hub, commit: &str, limits: &Limits) -> Result<Vec<RemoteFile>, FetchError> {
    let mut url = hub.url(&["api", "datasets", org(hub), name(hub), "tree", commit]);
    url.set_query(Some("recursive=true&expand=false"));
    let mut found = BTreeMap::new();
    let mut dirs = Vec::new();
    let mut total = 0u64;
    for _ in 0..limits.max_listing_pages {
        let (entries, next): (Vec<TreeEntry>, _) = get_json(hub, &url, limits)?;
        for entry in entries {
            if entry.kind == "directory" {
                paths::check(&entry.path).map_err(|problem| unsafe_path(&entry.path, problem))?;
                dirs.push(entry.path);
                continue;
            }
            let file = remote_file(hub, entry, limits)?;
            total += file.size;
            if total > limits.max_total_bytes {
                return Err(FetchError::TooLarge {
                    what: "the total size of its files".into(),
                    limit: limits.max_total_bytes,
                });
            }
            if found.insert(file.path.clone(), file).is_some() {
                return Err(listing_error(hub, "a path is listed twice"));
            }
            if found.len() > limits.max_files {
                return Err(FetchError::TooLarge {
                    what: "the number of files".into(),
                    limit: limits.max_files as u64,
                });
            }
        }
        let Some(next) = next else {
            check_no_nesting(hub, &found)?;
            return Ok(found.into_values().collect());
        };
        url = next;
    }
    Err(listing_error(
        hub,
        &format!("more than {} pages", limits.max_listing_pages),
    ))
}

fn remote_file(hub: &Hub, entry: TreeEntry, limits: &Limits) -> Result<RemoteFile, FetchError> {
    if entry.kind != "file" {
        return Err(listing_error(
            hub,
            &format!("unknown entry type {:?}", entry.kind),
        ));
    }
    paths::check(&entry.path).map_err(|problem| unsafe_path(&entry.path, problem))?;
    let (size, sha256) = match entry.lfs {
        Some(lfs) => (lfs.size, Some(lfs.oid.to_ascii_lowercase())),
        None => (entry.size, None),
    };
    let git_oid = entry
        .oid
        .map(|o| o.to_ascii_lowercase())
        .filter(|_| sha256.is_none());
    let hashes_ok = sha256.as_deref().is_none_or(|h| is_hex(h, 64))
        && git_oid.as_deref().is_none_or(|h| is_hex(h, 40))
        && (sha256.is_some() || git_oid.is_some());
    if !hashes_ok {
        return Err(listing_error(
            hub,
            &format!("{:?} has no valid oid or lfs.oid", entry.path),
        ));
    }
    if size > limits.max_file_bytes {
        return Err(FetchError::TooLarge {
            what: format!("{} ({size} bytes)", entry.path),
            limit: limits.max_file_bytes,
        });
    }
    Ok(RemoteFile {
        path: entry.path,
        size,
        git_oid,
        sha256,
    })
}

/// A file may not also be a directory of another listed file (`a` and `a/b`).
fn check_no_nesting(hub: &Hub, found: &BTreeMap<String, RemoteFile>) -> Result<(), FetchError> {
    for path in found.keys() {
        let mut prefix = path.as_str();
        while let Some((parent, _)) = prefix.rsplit_once('/') {
            if found.contains_key(parent) {
                return Err(listing_error(
                    hub,
                    &format!("{parent:?} is listed both as a file and as a directory"),
                ));
            }
            prefix = parent;
        }
    }
    Ok(())
}

/// GETs `url` and parses its JSON body (at most `limits.max_listing_bytes`); also returns the
/// `Link: <url>; rel="next"` of a paginated answer, which must stay on the Hub's origin.
fn get_json<T: serde::de::DeserializeOwned>(
    hub: &Hub,
    url: &Url,
    limits: &Limits,
) -> Result<(T, Option<Url>), FetchError> {
    let reply = hub.get(url.clone(), &[("Accept", "application/json")])?;
    let next = match reply.response.header("Link").and_then(next_link) {
        Some(link) => {
            let next = url
                .join(&link)
                .map_err(|_| listing_error(hub, &format!("invalid next page link {link:?}")))?;
            if !hub.is_own_origin(&next) {
                return Err(listing_error(
                    hub,
                    &format!("next page link {next} leaves the Hub"),
                ));
            }
            Some(next)
        }
        None => None,
    };
    let mut body = Vec::new();
    reply
        .response
        .into_reader()
        .take(limits.max_listing_bytes + 1)
        .read_to_end(&mut body)
        .map_err(|e| FetchError::Unreachable {
            url: super::hub::shown(url),
            reason: e.to_string(),
        })?;
    if body.len() as u64 > limits.max_listing_bytes {
        return Err(FetchError::TooLarge {
            what: format!("the answer of {url}"),
            limit: limits.max_listing_bytes,
        });
    }
    let value = serde_json::from_slice(&body)
        .map_err(|e| listing_error(hub, &format!("{url} is not the expected JSON: {e}")))?;
    Ok((value, next))
}

/// The target of the `rel="next"` part of a `Link` header.
fn next_link(header: &str) -> Option<String> {
    header.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        let is_next = params
            .split(';')
            .any(|p| p.trim().replace(' ', "") == "rel=\"next\"" || p.trim() == "rel=next");
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        is_next.then(|| target.to_owned())
    })
}

fn org(hub: &Hub) -> &str {
    hub.repo.split_once('/').map_or("", |(o, _)| o)
}

fn name(hub: &Hub) -> &str {
    hub.repo.split_once('/').map_or("", |(_, n)| n)
}

pub fn is_hex(text: &str, len: usize) -> bool {
    text.len() == len && text.bytes().all(|b| b.is_ascii_hexdigit())
}

fn listing_error(hub: &Hub, reason: &str) -> FetchError {
    FetchError::Listing {
        repo: hub.repo.clone(),
        reason: super::hub::printable(reason),
    }
}

fn unsafe_path(path: &str, problem: paths::PathProblem) -> FetchError {
    FetchError::UnsafePath {
        path: path.chars().take(200).collect(),
        problem,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_link_is_found() {
        let h = r#"<https://hub/api/datasets/a/b/tree/x?cursor=abc>; rel="next""#;
        assert_eq!(
            next_link(h).as_deref(),
            Some("https://hub/api/datasets/a/b/tree/x?cursor=abc")
        );
        assert_eq!(next_link(r#"<https://x>; rel="prev""#), None);
        assert_eq!(next_link("garbage"), None);
        assert_eq!(
            next_link(r#"<a>; rel="prev", </b>; rel="next""#).as_deref(),
            Some("/b")
        );
    }
}
