//! A TEST DOUBLE of the Hugging Face Hub's HTTP API (the real Hub is not reachable from the test
//! machines): a small threaded HTTP/1.1 server in the test process that serves dataset
//! repositories over the routes `sforge fetch-tasks` uses (docs/fetch-tasks.md#routes):
//!
//! - `GET /api/datasets/{org}/{name}/revision/{rev}`: `{"id", "sha", "siblings"}`;
//! - `GET /api/datasets/{org}/{name}/tree/{rev}?recursive=true[&cursor=N]`: entries with `type`,
//!   `path`, `size`, `oid` (git blob id) and, for LFS files, `lfs.{oid,size,pointerSize}`, paged
//!   with a `Link: <...>; rel="next"` header;
//! - `GET /datasets/{org}/{name}/resolve/{rev}/{path}`: small files directly (`ETag` = blob id),
//!   LFS files by a 302 to a "CDN" on another origin (`localhost` instead of `127.0.0.1`) with
//!   `X-Linked-Etag`/`X-Linked-Size`; both with `X-Repo-Commit` and `Range` support.
//!
//! Private repositories want `Authorization: Bearer <token>` and answer like the Hub (401 with
//! `X-Error-Code: RepoNotFound`, or 401 "Invalid credentials"); the CDN refuses requests that
//! carry the token. Faults make it misbehave on purpose (cut a body short once, send too many
//! bytes, corrupt a byte, list a hostile path). It also serves as a plain HTTP proxy: a request
//! in absolute form (`GET http://host/path`) is answered as if addressed to it.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

use sha2::Digest as _;

/// One file of a dataset.
#[derive(Clone)]
pub struct HubFile {
    pub content: Vec<u8>,
    /// Stored with LFS: listed with `lfs.oid` (SHA-256) and served through the CDN redirect.
    pub lfs: bool,
}

/// One dataset repository at one commit.
#[derive(Clone)]
pub struct Dataset {
    pub commit: String,
    pub files: BTreeMap<String, HubFile>,
    /// Private: only this token may read it.
    pub token: Option<String>,
}

/// Misbehaviour on purpose.
#[derive(Clone, Debug)]
pub enum Fault {
    /// The next body of `path` stops after `after` bytes (the connection closes).
    CutShortOnce { path: String, after: usize },
    /// Bodies of `path` carry 100 extra bytes (with a matching Content-Length when `length`).
    Oversize { path: String, length: bool },
    /// Bodies of `path` have one byte flipped.
    Corrupt { path: String },
    /// The listing also names this path (served as `hostile`).
    ListPath(String),
}

/// A request as the double saw it.
#[derive(Clone, Debug)]
pub struct Seen {
    pub target: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    /// Sent in absolute form, as to a proxy.
    pub via_proxy: bool,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Default)]
struct State {
    datasets: BTreeMap<String, Dataset>,
    faults: Vec<Fault>,
    seen: Vec<Seen>,
    page_size: usize,
}

/// The running double; stops when dropped.
pub struct HubDouble {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
}

impl HubDouble {
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(State {
            page_size: 2,
            ..State::default()
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let (s, st) = (state.clone(), stop.clone());
        thread::spawn(move || {
            for conn in listener.incoming() {
                if st.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let s = s.clone();
                thread::spawn(move || serve(conn, addr, &s));
            }
        });
        HubDouble { addr, state, stop }
    }

    /// `http://127.0.0.1:<port>`, for `HF_ENDPOINT`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn add(&self, repo: &str, dataset: Dataset) {
        self.state
            .lock()
            .unwrap()
            .datasets
            .insert(repo.to_owned(), dataset);
    }

    pub fn fault(&self, fault: Fault) {
        self.state.lock().unwrap().faults.push(fault);
    }

    pub fn clear_faults(&self) {
        self.state.lock().unwrap().faults.clear();
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.state.lock().unwrap().seen.clone()
    }

    pub fn forget_seen(&self) {
        self.state.lock().unwrap().seen.clear();
    }
}

impl Drop for HubDouble {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
    }
}

/// The git blob id of `content`.
pub fn git_oid(content: &[u8]) -> String {
    use sha1::Digest as _;
    let mut h = sha1::Sha1::new();
    h.update(format!("blob {}\0", content.len()).as_bytes());
    h.update(content);
    hex(&h.finalize())
}

pub fn sha256(content: &[u8]) -> String {
    hex(&sha2::Sha256::digest(content))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    /// Close after this many body bytes (a cut-short answer).
    cut_after: Option<usize>,
    /// Send no Content-Length (the body ends when the connection closes).
    no_length: bool,
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

fn serve(mut conn: TcpStream, addr: SocketAddr, state: &Mutex<State>) {
    let Some(seen) = read_request(&conn) else {
        return;
    };
    state.lock().unwrap().seen.push(seen.clone());
    let r = route(&seen, addr, &mut state.lock().unwrap());
    let mut head = format!("HTTP/1.1 {} X\r\nConnection: close\r\n", r.status);
    for (n, v) in &r.headers {
        let _ = write!(head, "{n}: {v}\r\n");
    }
    if !r.no_length {
        let _ = write!(head, "Content-Length: {}\r\n", r.body.len());
    }
    head.push_str("\r\n");
    let body = &r.body[..r.cut_after.unwrap_or(r.body.len()).min(r.body.len())];
    let _ = conn.write_all(head.as_bytes());
    let _ = conn.write_all(body);
    let _ = conn.flush();
}

fn read_request(conn: &TcpStream) -> Option<Seen> {
    let mut reader = BufReader::new(conn.try_clone().ok()?.take(64 * 1024));
    let mut raw = Vec::new();
    loop {
        let mut line = Vec::new();
        if reader.read_until(b'\n', &mut line).ok()? == 0 {
            return None;
        }
        raw.extend_from_slice(&line);
        if line == b"\r\n" {
            break;
        }
    }
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut req = httparse::Request::new(&mut headers);
    req.parse(&raw).ok()?;
    let target = req.path?.to_owned();
    let (via_proxy, path) = match target.strip_prefix("http://") {
        Some(rest) => (
            true,
            rest.find('/').map_or("/".into(), |i| rest[i..].to_owned()),
        ),
        None => (false, target.clone()),
    };
    Some(Seen {
        target,
        path,
        headers: req
            .headers
            .iter()
            .map(|h| {
                (
                    h.name.to_owned(),
                    String::from_utf8_lossy(h.value).into_owned(),
                )
            })
            .collect(),
        via_proxy,
    })
}

fn route(seen: &Seen, addr: SocketAddr, state: &mut State) -> Reply {
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
                    &format!("http://{host}{path}"),
                    rev,
                )
            })
        }
        ["datasets", org, name, "resolve", rev, file @ ..] => {
            let file = file.join("/");
            let faults = state.faults.clone();
            let out = with_repo(seen, state, org, name, rev, |_, d| {
                resolve(seen, d, &file, &faults, addr)
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
        r.headers.push((
            "Link".into(),
            format!("<{base}?recursive=true&expand=false&cursor={end}>; rel=\"next\""),
        ));
    }
    r
}

fn resolve(seen: &Seen, d: &Dataset, path: &str, faults: &[Fault], addr: SocketAddr) -> Reply {
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
            (
                "Location".into(),
                format!("http://localhost:{}/cdn/{sha}", addr.port()),
            ),
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
