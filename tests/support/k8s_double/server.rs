//! TEST DOUBLE: the accept loop and per-connection request loop of the Kubernetes API double;
//! hands each request to `api` and carries out what it answers (a response, a watch stream, or
//! an exec session that takes the connection over).

use std::io::{BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use super::api::{self, Outcome};
use super::http::{read_request, write_response};
use super::Shared;

/// How often an idle keep-alive connection checks whether the double stopped.
const IDLE_POLL: Duration = Duration::from_millis(500);

/// Accepts connections until the double stops; one thread per connection.
pub fn spawn(listener: TcpListener, shared: Arc<Shared>) -> JoinHandle<()> {
    thread::spawn(move || {
        for stream in listener.incoming() {
            if shared.stopping() {
                break;
            }
            let Ok(stream) = stream else { continue };
            let shared = Arc::clone(&shared);
            thread::spawn(move || serve_connection(stream, &shared));
        }
    })
}

fn serve_connection(stream: TcpStream, shared: &Arc<Shared>) {
    let _ = stream.set_nodelay(true);
    // Idle keep-alive connections wake up now and then to notice that the double stopped.
    let _ = stream.set_read_timeout(Some(IDLE_POLL));
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    loop {
        if shared.stopping() {
            return;
        }
        if !wait_readable(&mut reader, shared) {
            return;
        }
        let _ = reader.get_ref().set_read_timeout(None);
        let request = read_request(&mut reader);
        let _ = reader.get_ref().set_read_timeout(Some(IDLE_POLL));
        let request = match request {
            Ok(Some(request)) => request,
            Ok(None) => return,
            Err(err) => {
                log(shared, &format!("bad request: {err}"));
                return;
            }
        };
        let line = format!(
            "{} {}?{}",
            request.method,
            request.path,
            query_text(&request)
        );
        match api::handle(shared, &request) {
            Outcome::Respond(response) => {
                log(shared, &format!("{line} -> {}", response.status));
                if write_response(&mut writer, &response).is_err() {
                    return;
                }
            }
            Outcome::Watch(watch) => {
                log(shared, &format!("{line} -> 200 (watch)"));
                api::serve_watch(shared, &mut writer, &watch);
                return;
            }
            Outcome::Exec(session) => {
                log(
                    shared,
                    &format!("{line} -> 101 (exec {:?})", session.command),
                );
                let _ = writer.flush();
                drop(writer);
                super::exec::serve(shared, reader.into_inner(), &request, &session);
                return;
            }
        }
    }
}

/// Waits until the next request starts (true) or the client closed / the double stopped (false).
fn wait_readable(reader: &mut BufReader<TcpStream>, shared: &Shared) -> bool {
    use std::io::BufRead;
    loop {
        match reader.fill_buf() {
            Ok([]) => return false,
            Ok(_) => return true,
            Err(err)
                if matches!(
                    err.kind(),
                    std::io::ErrorKind::WouldBlock
                        | std::io::ErrorKind::TimedOut
                        | std::io::ErrorKind::Interrupted
                ) =>
            {
                if shared.stopping() {
                    return false;
                }
            }
            Err(_) => return false,
        }
    }
}

fn query_text(request: &super::http::Request) -> String {
    request
        .query
        .iter()
        .map(|(key, value)| format!("{key}={value}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// Prints `message` to stderr when `K8S_DOUBLE_LOG=1`.
pub fn log(shared: &Shared, message: &str) {
    if shared.log {
        let _ = writeln!(std::io::stderr(), "[k8s-double {}] {message}", shared.id);
    }
}
