//! The routes of the Hub API test double (see `mod.rs`): the Hub's answers, its errors, the CDN,
//! ranges and the faults.

use std::net::SocketAddr;

use super::{git_oid, sha256, Dataset, Fault, Seen, State};

pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
    /// Close after this many body bytes (a cut-short answer).
    pub(crate) cut_after: Option<usize>,
    /// Send no Content-Length (the body ends when the connection closes).
    pub(crate) no_length: bool,
}

fn reply(status: u16, body: impl Into<Vec<u8>>) -> Reply {
    Reply {
        status,
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: body.into(),
        cut_after: None,
        no_length: false,
    }
}

fn error(status: u16, code: Option<&str>, message: &str) -> Reply {
    let mut r = reply(status, format!("{{\"error\":{message:?}}}"));
    if let Some(code) = code {
        r.headers.push(("X-Error-Code".into(), code.into()));
    }
    r.headers.push(("X-Error-Message".into(), message.into()));
    r
}

pub(crate) fn route(seen: &Seen, addr: SocketAddr, state: &mut State) -> Reply {
    for fault in &mut state.faults {
        if let Fault::Unavailable { times } = fault {
            if *times > 0 {
                *times -= 1;
                return error(503, None, "Service Unavailable");
            }
        }
    }
    let (path, query) = seen.path.split_once('?').unwrap_or((&seen.path, ""));
    let parts: Vec<String> = path
        .split('/')
        .skip(1)
        .map(|p| {
            percent_encoding::percent_decode_str(p)
                .decode_utf8_lossy()
                .into_owned()
        })
        .collect();
    let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
    match parts.as_slice() {
        ["cdn", sha] => cdn(seen, sha, state),
        ["api", "datasets", org, name, "revision", rev] => {
            with_repo(seen, state, org, name, rev, |_, d| {
                revision_info(&format!("{org}/{name}"), d)
            })
        }
        ["api", "datasets", org, name, "tree", rev] => {
            let page_size = state.page_size;
            let faults = state.faults.clone();
            with_repo(seen, state, org, name, rev, |rev, d| {
                let host = seen
                    .header("Host")
                    .map_or_else(|| addr.to_string(), str::to_owned);
                tree(
                    d,
                    &faults,
                    query,
                    page_size,
                    &format!("{}://{host}{path}", state.scheme),
                    rev,
                )
            })
        }
        ["datasets", org, name, "resolve", rev, file @ ..] => {
            let file = file.join("/");
            let faults = state.faults.clone();
            let downgrade = faults.iter().any(|f| matches!(f, Fault::DowngradeRedirect));
            let scheme = if downgrade { "http" } else { state.scheme };
            let cdn = format!("{scheme}://localhost:{}", addr.port());
            let out = with_repo(seen, state, org, name, rev, |_, d| {
                resolve(seen, d, &file, &faults, &cdn)
            });
            consume_cut(state, &file, &out);
            out
        }
        _ => error(404, None, "no such route in the Hub double"),
    }
}

/// Checks the repository, its token and the revision, then answers with `f`.
fn with_repo(
    seen: &Seen,
    state: &State,
    org: &str,
    name: &str,
    rev: &str,
    f: impl FnOnce(&str, &Dataset) -> Reply,
) -> Reply {
    let auth = seen.header("Authorization");
    let not_found = || {
        error(
            if auth.is_some() { 404 } else { 401 },
            Some("RepoNotFound"),
            "Repository Not Found",
        )
    };
    let Some(dataset) = state.datasets.get(&format!("{org}/{name}")) else {
        return not_found();
    };
    match (auth, &dataset.token) {
        (Some(given), Some(token)) if given != format!("Bearer {token}") => {
            return error(401, None, "Invalid credentials in Authorization header")
        }
        (None, Some(_)) => return not_found(),
        _ => {}
    }
    if rev != "main" && rev != dataset.commit {
        return error(
            404,
            Some("RevisionNotFound"),
            &format!("Invalid rev id: {rev}"),
        );
    }
    f(rev, dataset)
}

fn revision_info(repo: &str, d: &Dataset) -> Reply {
    let siblings: Vec<_> = d
        .files
        .keys()
        .map(|p| serde_json::json!({ "rfilename": p }))
        .collect();
    reply(
        200,
        serde_json::json!({ "id": repo, "sha": d.commit, "siblings": siblings }).to_string(),
    )
}

fn tree(d: &Dataset, faults: &[Fault], query: &str, page: usize, base: &str, _rev: &str) -> Reply {
    let mut entries = Vec::new();
    let mut dirs = std::collections::BTreeSet::new();
    for (path, f) in &d.files {
        let mut prefix = path.as_str();
        while let Some((parent, _)) = prefix.rsplit_once('/') {
            dirs.insert(parent.to_owned());
            prefix = parent;
        }
        let mut e = serde_json::json!({
            "type": "file", "path": path, "oid": git_oid(&f.content), "size": f.content.len(),
        });
        if f.lfs {
            e["size"] = 134.into();
            e["lfs"] = serde_json::json!({ "oid": sha256(&f.content), "size": f.content.len(), "pointerSize": 134 });
        }
        entries.push(e);
    }
    for dir in dirs {
        entries.push(serde_json::json!({ "type": "directory", "path": dir, "oid": "0".repeat(40), "size": 0 }));
    }
    for fault in faults {
        if let Fault::ListPath(p) = fault {
            entries.push(serde_json::json!({ "type": "file", "path": p, "oid": git_oid(b"hostile"), "size": 7 }));
        }
    }
    let start: usize = query
        .split('&')
        .find_map(|kv| kv.strip_prefix("cursor="))
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let end = (start + page).min(entries.len());
    let mut r = reply(
        200,
        serde_json::Value::Array(entries[start.min(end)..end].to_vec()).to_string(),
    );
    if end < entries.len() {
        let base = if faults.iter().any(|f| matches!(f, Fault::ForeignNextLink)) {
            "http://elsewhere.invalid/api/tree"
        } else {
            base
        };
        r.headers.push((
            "Link".into(),
            format!("<{base}?recursive=true&expand=false&cursor={end}>; rel=\"next\""),
        ));
    }
    r
}

/// `cdn`: where LFS files are redirected to (`scheme://host:port`).
fn resolve(seen: &Seen, d: &Dataset, path: &str, faults: &[Fault], cdn: &str) -> Reply {
    if faults
        .iter()
        .any(|f| matches!(f, Fault::RedirectLoop { path: p } if p == path))
    {
        let mut r = reply(302, Vec::new());
        r.headers = vec![("Location".into(), seen.path.clone())];
        return r;
    }
    let content = match d.files.get(path) {
        Some(f) => f,
        None if faults
            .iter()
            .any(|f| matches!(f, Fault::ListPath(p) if p == path)) =>
        {
            return body_reply(seen, b"hostile", path, faults)
        }
        None => {
            return error(
                404,
                Some("EntryNotFound"),
                &format!("{path} does not exist"),
            )
        }
    };
    let mut r = if content.lfs {
        let sha = sha256(&content.content);
        let mut r = reply(302, Vec::new());
        r.headers = vec![
            ("Location".into(), format!("{cdn}/cdn/{sha}")),
            ("X-Linked-Etag".into(), format!("\"{sha}\"")),
            ("X-Linked-Size".into(), content.content.len().to_string()),
        ];
        r
    } else {
        let mut r = body_reply(seen, &content.content, path, faults);
        r.headers
            .push(("ETag".into(), format!("\"{}\"", git_oid(&content.content))));
        r
    };
    r.headers.push(("X-Repo-Commit".into(), d.commit.clone()));
    r
}

/// The CDN: serves LFS content by SHA-256 and, like a presigned-URL store, refuses the token.
fn cdn(seen: &Seen, sha: &str, state: &mut State) -> Reply {
    if seen.header("Authorization").is_some() {
        return error(400, None, "the CDN must not receive the Hub token");
    }
    let found = state
        .datasets
        .values()
        .flat_map(|d| d.files.iter())
        .find(|(_, f)| f.lfs && sha256(&f.content) == sha)
        .map(|(p, f)| (p.clone(), f.content.clone()));
    let Some((path, content)) = found else {
        return error(404, None, "no such object");
    };
    let faults = state.faults.clone();
    let out = body_reply(seen, &content, &path, &faults);
    consume_cut(state, &path, &out);
    out
}

/// `content` (or the `Range` asked for), with the faults for `path` applied.
fn body_reply(seen: &Seen, content: &[u8], path: &str, faults: &[Fault]) -> Reply {
    let mut body = content.to_vec();
    let mut r = reply(200, Vec::new());
    r.headers = vec![("Content-Type".into(), "application/octet-stream".into())];
    for fault in faults {
        match fault {
            Fault::Corrupt { path: p } if p == path => body[0] ^= 0x20,
            Fault::Oversize { path: p, length } if p == path => {
                body.extend_from_slice(&[b'x'; 100]);
                r.no_length = !length;
            }
            _ => {}
        }
    }
    let total = body.len();
    if let Some(from) = seen
        .header("Range")
        .and_then(|v| v.strip_prefix("bytes="))
        .and_then(|v| v.strip_suffix('-'))
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|from| *from < total)
        .filter(|_| {
            !faults
                .iter()
                .any(|f| matches!(f, Fault::IgnoreRange { path: p } if p == path))
        })
    {
        body.drain(..from);
        r.status = 206;
        r.headers.push((
            "Content-Range".into(),
            format!("bytes {from}-{}/{total}", total - 1),
        ));
    }
    for fault in faults {
        if let Fault::CutShortOnce { path: p, after } = fault {
            if p == path {
                r.cut_after = Some(*after);
            }
        }
    }
    r.body = body;
    r
}

/// A cut-short fault fires once.
fn consume_cut(state: &mut State, path: &str, out: &Reply) {
    if out.cut_after.is_some() {
        state
            .faults
            .retain(|f| !matches!(f, Fault::CutShortOnce { path: p, .. } if p == path));
    }
}
