//! A scripted judge on 127.0.0.1 for the `sforge-submit` behaviour tests: fixed answers for
//! submit and history, a sequence of answers for result polls, and a record of what it received.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use serde_json::Value;

/// A canned HTTP answer.
#[derive(Debug, Clone)]
pub(super) struct Reply {
    pub status: u16,
    pub body: String,
}

impl Reply {
    pub(super) fn json(status: u16, body: &Value) -> Self {
        Self {
            status,
            body: body.to_string(),
        }
    }
}

/// What the judge answers.
#[derive(Debug, Clone)]
pub(super) struct Script {
    pub submit: Reply,
    /// Answers to successive result polls; the last one repeats.
    pub results: Vec<Reply>,
    pub history: Reply,
}

/// One request as received.
#[derive(Debug, Clone)]
pub(super) struct Received {
    pub method: String,
    pub url: String,
    pub body: Vec<u8>,
}

impl Received {
    /// Sorted member names of the gzipped tar in a multipart `archive` field.
    pub(super) fn archive_members(&self) -> Vec<String> {
        let header = b"Content-Type: application/gzip\r\n\r\n";
        let start = self
            .body
            .windows(header.len())
            .position(|w| w == header)
            .expect("a gzip part")
            + header.len();
        let gz = flate2::read::GzDecoder::new(&self.body[start..]);
        let mut names: Vec<String> = tar::Archive::new(gz)
            .entries()
            .unwrap()
            .map_while(Result::ok)
            .map(|e| e.path().unwrap().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

pub(super) struct FakeJudge {
    pub url: String,
    server: Arc<tiny_http::Server>,
    received: Arc<Mutex<Vec<Received>>>,
    thread: Option<JoinHandle<()>>,
}

impl FakeJudge {
    pub(super) fn start(script: Script) -> Self {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").unwrap());
        let url = format!("http://{}", server.server_addr().to_ip().unwrap());
        let received = Arc::new(Mutex::new(Vec::new()));
        let thread = {
            let (server, received) = (Arc::clone(&server), Arc::clone(&received));
            std::thread::spawn(move || serve(&server, &script, &received))
        };
        Self {
            url,
            server,
            received,
            thread: Some(thread),
        }
    }

    pub(super) fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

impl Drop for FakeJudge {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn serve(server: &tiny_http::Server, script: &Script, received: &Mutex<Vec<Received>>) {
    let mut results: VecDeque<Reply> = script.results.iter().cloned().collect();
    for mut request in server.incoming_requests() {
        let mut body = Vec::new();
        let _ = request.as_reader().read_to_end(&mut body);
        let url = request.url().to_owned();
        let path = url.split('?').next().unwrap_or_default().to_owned();
        let reply = if path == "/api/v1/submit" {
            script.submit.clone()
        } else if path == "/api/v1/history" {
            script.history.clone()
        } else if path.starts_with("/api/v1/result/") {
            if results.len() > 1 {
                results.pop_front().unwrap()
            } else {
                results.front().cloned().unwrap_or(Reply {
                    status: 404,
                    body: r#"{"detail":"Submission not found"}"#.into(),
                })
            }
        } else {
            Reply {
                status: 404,
                body: r#"{"detail":"Not Found"}"#.into(),
            }
        };
        received.lock().unwrap().push(Received {
            method: request.method().to_string(),
            url,
            body,
        });
        let header = tiny_http::Header::from_bytes("Content-Type", "application/json").unwrap();
        let response = tiny_http::Response::from_string(reply.body)
            .with_status_code(reply.status)
            .with_header(header);
        let _ = request.respond(response);
    }
}
