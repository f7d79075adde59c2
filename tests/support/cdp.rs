//! A page kept open in real headless Chromium and read over the `DevTools` protocol, for tests
//! that watch a page change with time (the visualizer's live update): Chromium is started with
//! `--remote-debugging-port=0`, the page's target is found through `/json/list`, and
//! `Runtime.evaluate` reads the document while it lives. Console messages are Chromium's stderr
//! log lines, as in `browser.rs`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::browser::{Browser, FLAGS};
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};

/// How long Chromium may take to come up and open the page.
const START_LIMIT: Duration = Duration::from_secs(60);
/// How long one protocol command may take to answer.
const REPLY_LIMIT: Duration = Duration::from_secs(60);

/// An open page.
pub struct Tab {
    child: Child,
    _profile: tempfile::TempDir,
    stderr: tempfile::NamedTempFile,
    socket: WebSocket<MaybeTlsStream<TcpStream>>,
    next_id: u64,
}

impl Drop for Tab {
    fn drop(&mut self) {
        let _ = self.socket.close(None);
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Tab {
    /// Starts `browser` on `url` and connects to the page.
    pub fn open(browser: &Browser, url: &str) -> Tab {
        let profile = tempfile::tempdir().expect("a browser profile directory");
        let stderr = tempfile::NamedTempFile::new().expect("a temporary file");
        let child = Command::new(browser.bin())
            .args(FLAGS)
            .arg("--remote-debugging-port=0")
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg(url)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr.reopen().expect("reopen"))
            .spawn()
            .expect("start chromium");
        let mut tab = Tab {
            socket: connect(child.id(), profile.path(), url),
            child,
            _profile: profile,
            stderr,
            next_id: 0,
        };
        tab.call("Runtime.enable", &json!({}));
        tab
    }

    /// Sends one protocol command and returns its `result`; panics on an error answer.
    pub fn call(&mut self, method: &str, params: &Value) -> Value {
        match self.try_call(method, params) {
            Ok(result) => result,
            Err(error) => panic!("{method}: {error}"),
        }
    }

    /// Sends one protocol command: its `result`, or its `error` answer.
    pub fn try_call(&mut self, method: &str, params: &Value) -> Result<Value, Value> {
        self.next_id += 1;
        let id = self.next_id;
        let message = json!({"id": id, "method": method, "params": params}).to_string();
        self.socket
            .send(Message::text(message))
            .expect("send to chromium");
        loop {
            let reply = self.socket.read().expect("read from chromium");
            let Message::Text(text) = reply else { continue };
            let value: Value = serde_json::from_str(text.as_str()).expect("protocol JSON");
            if value["id"] == id {
                return match value.get("error") {
                    Some(error) => Err(error.clone()),
                    None => Ok(value["result"].clone()),
                };
            }
        }
    }

    /// The value of a JavaScript expression in the page.
    pub fn eval(&mut self, expression: &str) -> Value {
        match self.try_eval(expression) {
            Ok(value) => value,
            Err(error) => panic!("Runtime.evaluate: {error}"),
        }
    }

    /// The value of a JavaScript expression in the page, or the protocol's error answer.
    pub fn try_eval(&mut self, expression: &str) -> Result<Value, Value> {
        let params = json!({"expression": expression, "returnByValue": true});
        let result = self.try_call("Runtime.evaluate", &params)?;
        Ok(result["result"]["value"].clone())
    }

    /// The page's text (`document.body.innerText`); empty while the page is navigating (the
    /// evaluation is then refused: "Inspected target navigated or closed").
    pub fn text(&mut self) -> String {
        self.try_eval("document.body ? document.body.innerText : ''")
            .ok()
            .and_then(|value| value.as_str().map(str::to_owned))
            .unwrap_or_default()
    }

    /// Waits until the page's text contains `needle`; panics with the text after `limit`.
    pub fn wait_for_text(&mut self, needle: &str, limit: Duration) -> String {
        let until = Instant::now() + limit;
        loop {
            let text = self.text();
            if text.contains(needle) {
                return text;
            }
            assert!(
                Instant::now() < until,
                "the page never showed {needle:?} within {limit:?}:\n{text}"
            );
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// Console messages logged so far.
    pub fn console(&self) -> Vec<String> {
        let mut text = String::new();
        let _ =
            std::fs::File::open(self.stderr.path()).and_then(|mut f| f.read_to_string(&mut text));
        text.lines()
            .filter(|line| line.contains(":CONSOLE"))
            .map(str::to_owned)
            .collect()
    }
}

/// Connects to the page target showing `url`, once Chromium wrote its `DevToolsActivePort`.
fn connect(pid: u32, profile: &Path, url: &str) -> WebSocket<MaybeTlsStream<TcpStream>> {
    let until = Instant::now() + START_LIMIT;
    loop {
        assert!(
            Instant::now() < until,
            "chromium (pid {pid}) did not open {url} for debugging within {START_LIMIT:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
        let Ok(ports) = std::fs::read_to_string(profile.join("DevToolsActivePort")) else {
            continue;
        };
        let Some(port) = ports
            .lines()
            .next()
            .and_then(|p| p.trim().parse::<u16>().ok())
        else {
            continue;
        };
        let Some(targets) = list_targets(port) else {
            continue;
        };
        let page =
            targets.as_array().into_iter().flatten().find(|t| {
                t["type"] == "page" && t["url"].as_str().is_some_and(|u| u.starts_with(url))
            });
        if let Some(ws) = page.and_then(|t| t["webSocketDebuggerUrl"].as_str()) {
            let (socket, _) = tungstenite::connect(ws).expect("connect to the page target");
            // A hung browser fails the test instead of hanging it.
            if let MaybeTlsStream::Plain(stream) = socket.get_ref() {
                stream
                    .set_read_timeout(Some(REPLY_LIMIT))
                    .expect("a read timeout");
            }
            return socket;
        }
    }
}

/// `GET /json/list` of the debugging port.
fn list_targets(port: u16) -> Option<Value> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        stream,
        "GET /json/list HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    let mut length = None;
    loop {
        line.clear();
        if reader.read_line(&mut line).ok()? == 0 || line == "\r\n" {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse::<usize>().ok();
            }
        }
    }
    let mut body = vec![0; length?];
    reader.read_exact(&mut body).ok()?;
    serde_json::from_slice(&body).ok()
}
