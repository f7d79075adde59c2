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
//! bytes, corrupt a byte, list a hostile path, ignore `Range`, loop redirects, page elsewhere, answer 503). It also serves as a plain HTTP proxy: a request
//! in absolute form (`GET http://host/path`) is answered as if addressed to it.

#![allow(dead_code)]

mod routes;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

use routes::route;

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
    /// `Range` requests for `path` get the whole body with a 200.
    IgnoreRange { path: String },
    /// Resolving `path` redirects to itself, forever.
    RedirectLoop { path: String },
    /// The listing's next-page link points at another server.
    ForeignNextLink,
    /// LFS redirects go to plain `http` even when the Hub speaks `https`.
    DowngradeRedirect,
    /// The next `times` requests, whatever they ask, get a 503.
    Unavailable { times: u32 },
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
pub(crate) struct State {
    pub(crate) datasets: BTreeMap<String, Dataset>,
    pub(crate) faults: Vec<Fault>,
    pub(crate) seen: Vec<Seen>,
    pub(crate) page_size: usize,
    /// `http` or `https`: also the scheme of the CDN redirects.
    pub(crate) scheme: &'static str,
}

/// The running double; stops when dropped.
pub struct HubDouble {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
}

impl HubDouble {
    /// Plain HTTP.
    pub fn start() -> Self {
        Self::start_with(None)
    }

    /// HTTPS with `tls` (a certificate for `127.0.0.1` and `localhost`).
    pub fn start_tls(tls: Arc<rustls::ServerConfig>) -> Self {
        Self::start_with(Some(tls))
    }

    fn start_with(tls: Option<Arc<rustls::ServerConfig>>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(State {
            page_size: 2,
            scheme: if tls.is_some() { "https" } else { "http" },
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
                let (s, tls) = (s.clone(), tls.clone());
                thread::spawn(move || match tls {
                    None => serve(conn, addr, &s),
                    Some(config) => {
                        let Ok(session) = rustls::ServerConnection::new(config) else {
                            return;
                        };
                        let mut stream = rustls::StreamOwned::new(session, conn);
                        serve(&mut stream, addr, &s);
                        stream.conn.send_close_notify();
                        let _ = stream.flush();
                    }
                });
            }
        });
        HubDouble { addr, state, stop }
    }

    /// `http(s)://127.0.0.1:<port>`, for `HF_ENDPOINT`.
    pub fn endpoint(&self) -> String {
        format!("{}://{}", self.state.lock().unwrap().scheme, self.addr)
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

fn serve(mut conn: impl Read + Write, addr: SocketAddr, state: &Mutex<State>) {
    let Some(seen) = read_request(&mut conn) else {
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

/// Reads the request head byte by byte (GET requests have no body), at most 64 KiB.
fn read_request(conn: &mut impl Read) -> Option<Seen> {
    let mut raw = Vec::new();
    let mut byte = [0u8; 1];
    while !raw.ends_with(b"\r\n\r\n") {
        if raw.len() > 64 * 1024 || conn.read(&mut byte).ok()? == 0 {
            return None;
        }
        raw.push(byte[0]);
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
