//! The chunked transfer coding of request bodies (RFC 9112 §7.1), decoded with bounded lines: a
//! chunk-size line or a trailer can never make the server buffer more than a few KiB.

use std::io::{self, BufRead, Read};

use super::limits::{MAX_CHUNK_LINE, MAX_HEAD_BYTES};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Before a chunk-size line.
    Size,
    /// Inside a chunk's data, with this many bytes left.
    Data(u64),
    /// After a chunk's data, before its CRLF.
    DataEnd,
    /// After the last chunk, reading trailer fields (their bytes so far).
    Trailers(usize),
    Done,
}

/// Decodes one chunked body from a buffered reader, returning only the data.
#[derive(Debug, Clone)]
pub struct ChunkedDecoder {
    state: State,
}

impl Default for ChunkedDecoder {
    fn default() -> Self {
        Self { state: State::Size }
    }
}

fn malformed(why: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("malformed chunked body: {why}"),
    )
}

impl ChunkedDecoder {
    /// Whether the last chunk and the trailers were read.
    #[must_use]
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Reads data into `buf`; `Ok(0)` only at the end of the body (or for an empty `buf`).
    pub fn read<R: BufRead + ?Sized>(&mut self, src: &mut R, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            match self.state {
                State::Size => {
                    let size = parse_size(&read_line(src)?)?;
                    self.state = if size == 0 {
                        State::Trailers(0)
                    } else {
                        State::Data(size)
                    };
                }
                State::Data(left) => {
                    let available = src.fill_buf()?;
                    if available.is_empty() {
                        return Err(io::ErrorKind::UnexpectedEof.into());
                    }
                    let n = available
                        .len()
                        .min(buf.len())
                        .min(usize::try_from(left).unwrap_or(usize::MAX));
                    buf[..n].copy_from_slice(&available[..n]);
                    src.consume(n);
                    let left = left - n as u64;
                    self.state = if left == 0 {
                        State::DataEnd
                    } else {
                        State::Data(left)
                    };
                    return Ok(n);
                }
                State::DataEnd => {
                    if !read_line(src)?.is_empty() {
                        return Err(malformed("chunk data longer than its size"));
                    }
                    self.state = State::Size;
                }
                State::Trailers(total) => {
                    let line = read_line(src)?;
                    if line.is_empty() {
                        self.state = State::Done;
                        return Ok(0);
                    }
                    let total = total + line.len() + 2;
                    if total > MAX_HEAD_BYTES {
                        return Err(malformed("trailers too large"));
                    }
                    self.state = State::Trailers(total);
                }
                State::Done => return Ok(0),
            }
        }
    }
}

/// One CRLF-terminated line of at most [`MAX_CHUNK_LINE`] bytes, without its CRLF.
fn read_line<R: BufRead + ?Sized>(src: &mut R) -> io::Result<Vec<u8>> {
    let mut line = Vec::new();
    Read::take(&mut *src, MAX_CHUNK_LINE as u64 + 2).read_until(b'\n', &mut line)?;
    if line.is_empty() {
        return Err(io::ErrorKind::UnexpectedEof.into());
    }
    if !line.ends_with(b"\r\n") {
        return Err(malformed(if line.len() > MAX_CHUNK_LINE {
            "line too long"
        } else {
            "line not ended by CRLF"
        }));
    }
    line.truncate(line.len() - 2);
    Ok(line)
}

/// `chunk-size [ BWS ";" chunk-ext ]`: 1 to 16 hex digits; extensions are ignored.
fn parse_size(line: &[u8]) -> io::Result<u64> {
    let end = line.iter().position(|&b| b == b';').unwrap_or(line.len());
    let digits = line[..end].trim_ascii_end();
    if digits.is_empty() || digits.len() > 16 || !digits.iter().all(u8::is_ascii_hexdigit) {
        return Err(malformed("invalid chunk size"));
    }
    let text = std::str::from_utf8(digits).map_err(|_| malformed("invalid chunk size"))?;
    u64::from_str_radix(text, 16).map_err(|_| malformed("invalid chunk size"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(mut input: &[u8]) -> io::Result<Vec<u8>> {
        let mut decoder = ChunkedDecoder::default();
        let mut out = Vec::new();
        let mut buf = [0u8; 3];
        loop {
            let n = decoder.read(&mut input, &mut buf)?;
            if n == 0 {
                assert!(decoder.is_done());
                return Ok(out);
            }
            out.extend_from_slice(&buf[..n]);
        }
    }

    #[test]
    fn decodes_chunks_extensions_and_trailers() {
        let body = b"5\r\nhello\r\n7;name=v\r\n, world\r\n0\r\nX-Trailer: 1\r\n\r\nNEXT";
        assert_eq!(decode(body).unwrap(), b"hello, world");
        assert_eq!(
            decode(b"A \r\n0123456789\r\n0\r\n\r\n").unwrap(),
            b"0123456789"
        );
    }

    #[test]
    fn refuses_broken_framing() {
        for bad in [
            &b"5\r\nhello!\r\n0\r\n\r\n"[..],
            b"-5\r\nhello\r\n0\r\n\r\n",
            b"+5\r\nhello\r\n0\r\n\r\n",
            b"\r\n",
            b"5\nhello\n0\n\n",
            b"11111111111111111\r\n",
            b"5\r\nhel",
            b"0\r\n",
        ] {
            assert!(decode(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
        let long = format!("1;{}\r\nx\r\n0\r\n\r\n", "e".repeat(MAX_CHUNK_LINE));
        assert!(decode(long.as_bytes()).is_err());
        let trailers = format!("0\r\n{}\r\n", "X: y\r\n".repeat(20_000));
        assert!(decode(trailers.as_bytes()).is_err());
    }
}
