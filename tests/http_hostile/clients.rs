//! The hostile clients of `http_hostile.rs` and what they observe: the real `sforge serve` as a
//! child process, raw requests on 127.0.0.1, slowloris connections and peak memory from /proc.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// The real `sforge serve` on 127.0.0.1 with the example tasks; killed and reaped on drop.
pub struct JudgeProcess {
    child: Child,
    pub addr: SocketAddr,
    _log_dir: tempfile::TempDir,
}

impl JudgeProcess {
    pub fn start() -> Self {
        let log_dir = tempfile::tempdir().unwrap();
        let tasks = Path::new(env!("CARGO_MANIFEST_DIR")).join("tasks");
        let mut child = Command::new(env!("CARGO_BIN_EXE_sforge"))
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .arg("--tasks-dir")
            .arg(&tasks)
            .arg("--log-dir")
            .arg(log_dir.path())
            .args(["serve", "--host", "127.0.0.1", "--port", "0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(port) = line.strip_prefix("Starting SForge judge server on port ") {
                    let _ = tx.send(port.trim().parse::<u16>().unwrap());
                }
            }
        });
        let port = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("sforge serve announces its port");
        JudgeProcess {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            _log_dir: log_dir,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for JudgeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Peak resident memory of a process in KiB (`VmHWM`).
pub fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/<pid>/status")
}

/// Sends `request` and reads the answer until the server closes or `within` passes; the text read
/// (empty when nothing came).
pub fn exchange(addr: SocketAddr, request: &[u8], within: Duration) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(within)).unwrap();
    let _ = stream.write_all(request);
    read_until_closed(&mut stream, Instant::now() + within)
}

/// Reads until EOF, an error or the deadline.
pub fn read_until_closed(stream: &mut TcpStream, deadline: Instant) -> String {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    while Instant::now() < deadline {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The status code of a response text (0 when there is none).
pub fn status_of(response: &str) -> u16 {
    response
        .strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok())
        .unwrap_or(0)
}

/// Opens `count` slowloris connections: half stop inside their head, half send a complete head
/// that announces a body and never send it. They stay open while the value lives.
pub fn slowloris(addr: SocketAddr, count: usize, path: &str) -> Vec<TcpStream> {
    (0..count)
        .map(|i| {
            let mut stream = TcpStream::connect(addr).unwrap();
            let head = if i % 2 == 0 {
                format!("GET {path} HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            } else {
                format!("POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n")
            };
            stream.write_all(head.as_bytes()).unwrap();
            stream
        })
        .collect()
}

/// Times one `Connection: close` request; `None` when no complete answer came within `within`.
pub fn timed_request(addr: SocketAddr, request: &str, within: Duration) -> Option<Duration> {
    let started = Instant::now();
    let text = exchange(addr, request.as_bytes(), within);
    (status_of(&text) != 0 && text.contains("\r\n\r\n")).then(|| started.elapsed())
}

/// Streams a header line of `total` bytes without CRLF in 1 MiB writes until the server stops
/// taking it; returns the bytes written and the server's answer.
pub fn endless_header(addr: SocketAddr, total: usize) -> (usize, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_write_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut reader = stream.try_clone().unwrap();
    let answer = thread::spawn(move || {
        reader
            .set_read_timeout(Some(Duration::from_secs(60)))
            .unwrap();
        read_until_closed(&mut reader, Instant::now() + Duration::from_secs(60))
    });
    let chunk = vec![b'a'; 1 << 20];
    let mut written = 0;
    if stream.write_all(b"GET / HTTP/1.1\r\nX-Long: ").is_ok() {
        while written < total && stream.write_all(&chunk).is_ok() {
            written += chunk.len();
        }
    }
    let _ = stream.shutdown(std::net::Shutdown::Write);
    (written, answer.join().unwrap())
}
