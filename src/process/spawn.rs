//! The one spawn path: runs a [`Cmd`] with stdout and stderr on pipes, handing each line to an
//! optional callback as it arrives: one thread per pipe (so neither can fill up and block the
//! child), one for stdin; a deadline kills the child. What is kept in memory is bounded
//! ([`HeadTail`]); stdout can go to a file with a size limit instead.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use super::capture::HeadTail;
use super::cmd::Cmd;
use super::error::ProcessError;
use super::output::{ExitStatus, Output, Stream};

/// A line longer than this is delivered in pieces.
const MAX_LINE: u64 = 64 * 1024;
/// Chunks in flight between the pipe threads and the caller: a child that writes faster than
/// the caller consumes waits (memory stays bounded by this many `MAX_LINE`s).
const CHANNEL_CHUNKS: usize = 64;
/// Longest pause between two checks whether a process with a timeout has exited.
const MAX_POLL: Duration = Duration::from_millis(50);

/// What a pipe thread reports: a line (or a piece of a long one), or that stdout went over the
/// limit of its file.
enum Chunk {
    Line(Stream, Vec<u8>),
    Overflow(u64),
    /// Stdout could not be written to its file.
    Sink(io::Error),
}
/// The caller's per-line callback.
type OnLine<'a> = &'a mut dyn FnMut(Stream, &str);

/// Runs `cmd`, calling `on_line` (if any) on this thread for each line, and collects all
/// output. Without stdin bytes the child reads `/dev/null`; at the deadline it is killed and
/// its output discarded.
pub(super) fn run(cmd: &Cmd, mut on_line: Option<OnLine<'_>>) -> Result<Output, ProcessError> {
    let io_error = |source| ProcessError::Io {
        cmd: Box::new(cmd.clone()),
        source,
    };
    let sink = match cmd.get_stdout_file() {
        Some((path, max)) => Some((File::create(path).map_err(io_error)?, max)),
        None => None,
    };
    let mut child = spawn(cmd)?;
    if let Some(pipe) = child.stdin.take() {
        feed(pipe, cmd.get_stdin().unwrap_or_default().to_vec());
    }
    let (tx, rx) = mpsc::sync_channel(CHANNEL_CHUNKS);
    let stdout = child.stdout.take().map(|p| match sink {
        Some((file, max)) => write_file(p, file, max, tx.clone()),
        None => read_lines(p, Stream::Stdout, tx.clone()),
    });
    let stderr = child
        .stderr
        .take()
        .map(|p| read_lines(p, Stream::Stderr, tx));
    let deadline = cmd.get_timeout().map(|limit| Instant::now() + limit);
    let (head, tail) = cmd.get_keep_output();
    let mut kept = [HeadTail::new(head, tail), HeadTail::new(head, tail)];
    loop {
        let (stream, chunk) = match next_chunk(&rx, deadline) {
            Next::Chunk(Chunk::Line(stream, chunk)) => (stream, chunk),
            Next::Chunk(Chunk::Overflow(limit)) => {
                let _ = kill(&mut child, cmd);
                return Err(ProcessError::OutputLimit {
                    cmd: Box::new(cmd.clone()),
                    limit,
                });
            }
            Next::Chunk(Chunk::Sink(source)) => {
                let _ = kill(&mut child, cmd);
                return Err(io_error(source));
            }
            Next::Closed => break,
            Next::TimedOut => return Err(kill(&mut child, cmd)),
        };
        if let Some(on_line) = on_line.as_mut() {
            on_line(stream, line_text(&chunk).as_ref());
        }
        kept[usize::from(stream == Stream::Stderr)].push(&chunk);
    }
    let exited = match deadline {
        Some(deadline) => poll_until(deadline, || Ok(child.try_wait()?.is_some())),
        None => Ok(true),
    };
    if !exited.map_err(io_error)? {
        return Err(kill(&mut child, cmd));
    }
    let status = ExitStatus::from(child.wait().map_err(io_error)?);
    // Both pipes are closed, so the readers are done. The stdin feeder is not awaited: a
    // grandchild may hold stdin open without reading, and it ends when the pipe closes.
    for handle in [stdout, stderr].into_iter().flatten() {
        let _ = handle.join();
    }
    let [out, err] = kept;
    Ok(Output {
        status,
        stdout: out.into_bytes(),
        stderr: err.into_bytes(),
    })
}

/// Starts `cmd` with all three standard streams on pipes (stdin: `/dev/null` if unused).
fn spawn(cmd: &Cmd) -> Result<Child, ProcessError> {
    // The gateway itself: the one place that starts processes.
    #[allow(clippy::disallowed_methods)]
    let mut command = Command::new(program_path(cmd));
    command
        .args(cmd.get_args())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .stdin(stdin_of(cmd)?);
    for (key, value) in cmd.get_env() {
        command.env(key, &value.value);
    }
    if let Some(dir) = cmd.get_cwd() {
        command.current_dir(dir);
    }
    // The gateway itself (see above).
    #[allow(clippy::disallowed_methods)]
    let child = command.spawn();
    child.map_err(|err| ProcessError::spawn(cmd, err))
}

/// The child's stdin: a pipe for bytes, the file to read, or `/dev/null`.
fn stdin_of(cmd: &Cmd) -> Result<Stdio, ProcessError> {
    Ok(match (cmd.get_stdin(), cmd.get_stdin_file()) {
        (Some(_), _) => Stdio::piped(),
        (None, Some(path)) => Stdio::from(open(cmd, path)?),
        (None, None) => Stdio::null(),
    })
}

fn open(cmd: &Cmd, path: &Path) -> Result<File, ProcessError> {
    File::open(path).map_err(|source| ProcessError::Io {
        cmd: Box::new(cmd.clone()),
        source,
    })
}

/// A relative program path with a cwd is resolved against this process's directory, not the
/// child's.
fn program_path(cmd: &Cmd) -> PathBuf {
    let program = PathBuf::from(cmd.program());
    let is_relative_path = cmd.program().contains('/') && program.is_relative();
    match std::env::current_dir() {
        Ok(here) if is_relative_path && cmd.get_cwd().is_some() => here.join(program),
        _ => program,
    }
}

/// What the pipe threads have for us next.
enum Next {
    Chunk(Chunk),
    /// Both pipes are closed.
    Closed,
    /// The deadline passed first.
    TimedOut,
}

fn next_chunk(rx: &Receiver<Chunk>, deadline: Option<Instant>) -> Next {
    let received = match deadline {
        None => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
        Some(deadline) => rx.recv_timeout(deadline.saturating_duration_since(Instant::now())),
    };
    match received {
        Ok(chunk) => Next::Chunk(chunk),
        Err(RecvTimeoutError::Disconnected) => Next::Closed,
        Err(RecvTimeoutError::Timeout) => Next::TimedOut,
    }
}

/// Kills a timed-out child and reaps it. Pipe threads are left to end on their own
/// (a grandchild may still hold a pipe open).
fn kill(child: &mut Child, cmd: &Cmd) -> ProcessError {
    if let Err(err) = child.kill() {
        log::debug!("could not kill timed-out `{cmd}`: {err}");
    }
    let _ = child.wait();
    timeout(cmd, cmd.get_timeout().unwrap_or_default())
}

/// Writes `bytes` to the child's stdin on a detached thread, then closes it. A child that
/// exits without reading everything makes the write fail with a broken pipe: not an error.
fn feed(mut pipe: ChildStdin, bytes: Vec<u8>) {
    thread::spawn(move || {
        if let Err(err) = pipe.write_all(&bytes) {
            log::trace!("stdin not fully read: {err}");
        }
    });
}

/// Sends each line (with its line ending) read from `pipe` until it closes.
fn read_lines(
    pipe: impl Read + Send + 'static,
    stream: Stream,
    tx: SyncSender<Chunk>,
) -> JoinHandle<()> {
    thread::spawn(move || {
        let mut reader = BufReader::new(pipe);
        loop {
            let mut line = Vec::new();
            match (&mut reader).take(MAX_LINE).read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    if tx.send(Chunk::Line(stream, line)).is_err() {
                        break;
                    }
                }
            }
        }
    })
}

/// Copies `pipe` into `file` until it closes; past `max` bytes, reports an overflow and stops.
fn write_file(
    mut pipe: impl Read + Send + 'static,
    mut file: File,
    max: u64,
    tx: SyncSender<Chunk>,
) -> JoinHandle<()> {
    thread::spawn(move || {
        let copied = io::copy(&mut (&mut pipe).take(max), &mut file);
        let mut probe = [0u8; 1];
        let over = copied.is_ok() && matches!(pipe.read(&mut probe), Ok(n) if n > 0);
        if over {
            let _ = tx.send(Chunk::Overflow(max));
        } else if let Err(err) = copied.and_then(|_| file.flush()) {
            let _ = tx.send(Chunk::Sink(err));
        }
    })
}

/// A chunk as text for the callback: invalid UTF-8 replaced, line ending removed.
fn line_text(chunk: &[u8]) -> std::borrow::Cow<'_, str> {
    let chunk = chunk.strip_suffix(b"\n").unwrap_or(chunk);
    let chunk = chunk.strip_suffix(b"\r").unwrap_or(chunk);
    String::from_utf8_lossy(chunk)
}

/// Calls `is_done` with growing pauses until it returns true (`Ok(true)`) or the
/// deadline passes (`Ok(false)`).
fn poll_until(
    deadline: Instant,
    mut is_done: impl FnMut() -> io::Result<bool>,
) -> io::Result<bool> {
    let mut pause = Duration::from_millis(1);
    loop {
        if is_done()? {
            return Ok(true);
        }
        let now = Instant::now();
        if now >= deadline {
            return Ok(false);
        }
        thread::sleep(pause.min(deadline - now));
        pause = (pause * 2).min(MAX_POLL);
    }
}

fn timeout(cmd: &Cmd, after: Duration) -> ProcessError {
    ProcessError::Timeout {
        cmd: Box::new(cmd.clone()),
        after,
    }
}
