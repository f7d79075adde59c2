//! TEST DOUBLE: `pods/NAME/exec` of the Kubernetes API double over the WebSocket remote-command
//! protocol (`v5.channel.k8s.io`, `v4.channel.k8s.io`): binary messages `[channel][bytes]`,
//! channel 0 stdin (v5: `[255, 0]` closes it), 1 stdout, 2 stderr, 3 the final `Status` (exit code
//! as `NonZeroExitCode`), bridged to `docker exec [-i] <container> argv...`.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::json;
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::protocol::{CloseFrame, Role};
use tungstenite::{Message, WebSocket};

use super::api::{status, Outcome};
use super::http::Request;
use super::store::Kind;
use super::{docker, Shared};

const PROTOCOLS: [&str; 2] = ["v5.channel.k8s.io", "v4.channel.k8s.io"];
const STDIN: u8 = 0;
const STDOUT: u8 = 1;
const STDERR: u8 = 2;
const ERROR: u8 = 3;
/// v5: `[CLOSE, stream]` half-closes a stream.
const CLOSE: u8 = 255;
/// How long one poll of the socket for client messages lasts.
const POLL: Duration = Duration::from_millis(5);

/// An accepted exec request.
#[derive(Debug)]
pub struct Session {
    pub container: String,
    pub command: Vec<String>,
    stdin: bool,
    tty: bool,
    protocol: &'static str,
}

/// Checks an exec request; an [`Outcome::Exec`] when it can be served.
pub fn accept(shared: &Shared, request: &Request, ns: &str, name: &str) -> Outcome {
    let refuse = |code, reason, message: &str| Outcome::Respond(status(code, reason, message));
    let is_websocket = request
        .header("upgrade")
        .is_some_and(|value| value.eq_ignore_ascii_case("websocket"));
    if !is_websocket {
        return refuse(400, "BadRequest", "the sforge k8s double serves exec only over WebSocket (kubectl >= 1.30, or KUBECTL_REMOTE_COMMAND_WEBSOCKETS=true for 1.29); SPDY is not supported");
    }
    let offered = request.header("sec-websocket-protocol").unwrap_or_default();
    let Some(protocol) = PROTOCOLS
        .into_iter()
        .find(|want| offered.split(',').any(|have| have.trim() == *want))
    else {
        return refuse(400, "BadRequest", &format!("none of the offered subprotocols {offered:?} is supported; the double speaks {PROTOCOLS:?}"));
    };
    let Some(pod) = shared.store.get(Kind::Pod, ns, name) else {
        return refuse(404, "NotFound", &format!("pods \"{name}\" not found"));
    };
    if pod["status"]["containerStatuses"][0]["state"]
        .get("running")
        .is_none()
    {
        return refuse(
            400,
            "BadRequest",
            &format!("container work in pod {name} is not running"),
        );
    }
    let command = request.params("command");
    if command.is_empty() {
        return refuse(
            400,
            "BadRequest",
            "you must specify at least one command for the container",
        );
    }
    Outcome::Exec(Session {
        container: docker::container_name(&shared.id, ns, name),
        command,
        stdin: request.flag("stdin"),
        tty: request.flag("tty"),
        protocol,
    })
}

/// Output of the exec'd process, on its way to the client.
enum Output {
    Data(u8, Vec<u8>),
    Closed,
}

/// Completes the WebSocket handshake on `stream` and runs the session to its end.
pub fn serve(shared: &Shared, mut stream: TcpStream, request: &Request, session: &Session) {
    let key = request.header("sec-websocket-key").unwrap_or_default();
    let head = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\nSec-WebSocket-Protocol: {}\r\n\r\n",
        tungstenite::handshake::derive_accept_key(key.as_bytes()),
        session.protocol
    );
    if stream
        .write_all(head.as_bytes())
        .and_then(|()| stream.flush())
        .is_err()
    {
        return;
    }
    let _ = stream.set_read_timeout(Some(POLL));
    let mut ws = WebSocket::from_raw_socket(stream, Role::Server, None);
    let mut args = vec!["exec".to_owned()];
    if session.stdin {
        args.push("-i".to_owned());
    }
    if session.tty {
        args.push("-t".to_owned());
    }
    args.push(session.container.clone());
    args.extend(session.command.iter().cloned());
    let spawned = Command::new(&shared.opts.docker)
        .args(&args)
        .stdin(if session.stdin {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match spawned {
        Ok(child) => child,
        Err(err) => {
            let _ = finish(
                &mut ws,
                &json!({"status": "Failure", "message": format!("cannot start docker: {err}")}),
            );
            return;
        }
    };
    let (sender, outputs) = channel();
    forward(child.stdout.take(), STDOUT, sender.clone());
    forward(child.stderr.take(), STDERR, sender);
    let stdin = child.stdin.take().map(feed);
    let code = pump(&mut ws, &mut child, stdin, &outputs);
    let Some(code) = code else {
        let _ = child.kill();
        let _ = child.wait();
        return;
    };
    let _ = finish(&mut ws, &exit_status(code, &session.command));
}

/// Moves messages both ways until the process's output ends; its exit code, or `None` when
/// the client went away first.
fn pump(
    ws: &mut WebSocket<TcpStream>,
    child: &mut Child,
    mut stdin: Option<Sender<Vec<u8>>>,
    outputs: &Receiver<Output>,
) -> Option<i32> {
    let mut open_outputs = 2;
    while open_outputs > 0 {
        match ws.read() {
            Ok(Message::Binary(data)) => match data.as_ref() {
                [STDIN, bytes @ ..] if !bytes.is_empty() => {
                    if let Some(sender) = &stdin {
                        let _ = sender.send(bytes.to_vec());
                    }
                }
                [CLOSE, STDIN] => stdin = None,
                _ => {}
            },
            Ok(Message::Close(_)) => return None,
            Ok(_) => {}
            Err(tungstenite::Error::Io(err))
                if matches!(
                    err.kind(),
                    ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
                ) => {}
            Err(_) => return None,
        }
        loop {
            match outputs.try_recv() {
                Ok(Output::Data(channel, mut bytes)) => {
                    bytes.insert(0, channel);
                    if ws.send(Message::Binary(bytes.into())).is_err() {
                        return None;
                    }
                }
                Ok(Output::Closed) => open_outputs -= 1,
                Err(_) => break,
            }
        }
        // Answers pings (tungstenite queues the pongs).
        let _ = ws.flush();
    }
    drop(stdin);
    let code = child
        .wait()
        .ok()
        .and_then(|status| status.code())
        .unwrap_or(1);
    Some(code)
}

/// Copies a pipe of the process into `sender` as it arrives.
fn forward(pipe: Option<impl Read + Send + 'static>, channel: u8, sender: Sender<Output>) {
    thread::spawn(move || {
        if let Some(mut pipe) = pipe {
            let mut buffer = vec![0; 32 * 1024];
            while let Ok(count @ 1..) = pipe.read(&mut buffer) {
                if sender
                    .send(Output::Data(channel, buffer[..count].to_vec()))
                    .is_err()
                {
                    return;
                }
            }
        }
        let _ = sender.send(Output::Closed);
    });
}

/// A writer thread for the process's stdin (so a process that does not read never blocks the
/// session); dropping the sender closes stdin.
fn feed(mut pipe: std::process::ChildStdin) -> Sender<Vec<u8>> {
    let (sender, receiver) = channel::<Vec<u8>>();
    thread::spawn(move || {
        for chunk in receiver {
            if pipe.write_all(&chunk).is_err() {
                return;
            }
        }
    });
    sender
}

fn exit_status(code: i32, command: &[String]) -> serde_json::Value {
    if code == 0 {
        return json!({"metadata": {}, "status": "Success"});
    }
    json!({
        "metadata": {}, "status": "Failure",
        "message": format!("command terminated with non-zero exit code: error executing command {command:?}, exit code {code}"),
        "reason": "NonZeroExitCode",
        "details": {"causes": [{"reason": "ExitCode", "message": code.to_string()}]}
    })
}

/// Sends the final status on the error channel and closes the connection.
fn finish(ws: &mut WebSocket<TcpStream>, status: &serde_json::Value) -> tungstenite::Result<()> {
    let mut message = vec![ERROR];
    message.extend(serde_json::to_vec(status).expect("JSON values serialise"));
    ws.send(Message::Binary(message.into()))?;
    // kubectl treats only a Normal close as the end of the streams.
    ws.close(Some(CloseFrame {
        code: CloseCode::Normal,
        reason: "".into(),
    }))?;
    let deadline = Instant::now() + Duration::from_secs(2);
    while Instant::now() < deadline {
        match ws.read() {
            Err(tungstenite::Error::Io(err))
                if matches!(
                    err.kind(),
                    ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
                ) =>
            {
                let _ = ws.flush();
            }
            Err(_) => break,
            Ok(_) => {}
        }
    }
    Ok(())
}
