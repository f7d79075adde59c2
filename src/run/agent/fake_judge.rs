//! A scripted judge on 127.0.0.1 for the `sforge-submit` behaviour tests: fixed answers for
//! submit and history, a sequence of answers for result polls, and a record of what it received.

use std::collections::VecDeque;
use std::io::Read;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

use crate::http::{Limits, Request, Response, Server};

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
    server: Option<Server>,
    received: Arc<Mutex<Vec<Received>>>,
}

impl FakeJudge {
    pub(super) fn start(script: Script) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let received = Arc::new(Mutex::new(Vec::new()));
        let results = Mutex::new(script.results.iter().cloned().collect::<VecDeque<_>>());
        let log = Arc::clone(&received);
        let handler = move |req: &mut Request<'_>, res: &mut Response<'_>| {
            let mut body = Vec::new();
            req.body.read_to_end(&mut body)?;
            let reply = answer(&script, &results, req.head.path());
            log.lock().unwrap().push(Received {
                method: req.head.method.clone(),
                url: req.head.target.clone(),
                body,
            });
            res.send(reply.status, "application/json", reply.body.as_bytes())
        };
        let server = Server::start(
            listener,
            "fake-judge",
            Limits::new(64 << 20),
            Arc::new(handler),
        );
        Self {
            url,
            server: Some(server.unwrap()),
            received,
        }
    }

    pub(super) fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

impl Drop for FakeJudge {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            let _ = server.stop(Duration::from_secs(5));
        }
    }
}

fn answer(script: &Script, results: &Mutex<VecDeque<Reply>>, path: &str) -> Reply {
    if path == "/api/v1/submit" {
        script.submit.clone()
    } else if path == "/api/v1/history" {
        script.history.clone()
    } else if path.starts_with("/api/v1/result/") {
        let mut results = results.lock().unwrap();
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
    }
}
