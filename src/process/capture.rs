//! [`HeadTail`]: a bounded buffer for output nobody trusts. It keeps the first bytes and the last
//! bytes of a stream, chunk by chunk (a chunk is a line, or a piece of a long one), and counts
//! what it dropped in between (docs/security.md#bounded-reads).

use std::collections::VecDeque;

/// The first `head` bytes and the last `tail` bytes of a stream of chunks; whole chunks only.
/// Memory is bounded by `head + tail` plus one chunk.
#[derive(Debug, Clone)]
pub struct HeadTail {
    head_max: usize,
    tail_max: usize,
    head: Vec<u8>,
    /// Set once a chunk did not fit the head: from then on everything goes to the tail.
    head_full: bool,
    tail: VecDeque<Vec<u8>>,
    tail_len: usize,
    dropped: u64,
}

impl HeadTail {
    /// A buffer keeping at most `head` leading and `tail` trailing bytes.
    #[must_use]
    pub fn new(head: usize, tail: usize) -> Self {
        Self {
            head_max: head,
            tail_max: tail,
            head: Vec::new(),
            head_full: false,
            tail: VecDeque::new(),
            tail_len: 0,
            dropped: 0,
        }
    }

    /// Adds one chunk at the end of the stream.
    pub fn push(&mut self, chunk: &[u8]) {
        if !self.head_full && self.head.len() + chunk.len() <= self.head_max {
            self.head.extend_from_slice(chunk);
            return;
        }
        self.head_full = true;
        if chunk.len() > self.tail_max {
            self.dropped += (self.tail_len + chunk.len()) as u64;
            self.tail.clear();
            self.tail_len = 0;
            return;
        }
        self.tail.push_back(chunk.to_vec());
        self.tail_len += chunk.len();
        while self.tail_len > self.tail_max {
            let gone = self.tail.pop_front().map_or(0, |c| c.len());
            self.tail_len -= gone;
            self.dropped += gone as u64;
        }
    }

    /// Bytes dropped between the head and the tail so far.
    #[must_use]
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Bytes kept so far.
    #[must_use]
    pub fn kept(&self) -> usize {
        self.head.len() + self.tail_len
    }

    /// The head and the tail; `between` is put where bytes were dropped (nothing if none were).
    #[must_use]
    pub fn into_bytes_with(self, between: &[u8]) -> Vec<u8> {
        let mut bytes = self.head;
        if self.dropped > 0 {
            bytes.extend_from_slice(between);
        }
        for chunk in self.tail {
            bytes.extend_from_slice(&chunk);
        }
        bytes
    }

    /// The head followed by the tail.
    #[must_use]
    pub fn into_bytes(self) -> Vec<u8> {
        self.into_bytes_with(&[])
    }
}

#[cfg(test)]
mod tests {
    use super::HeadTail;

    fn fed(head: usize, tail: usize, chunks: &[&str]) -> HeadTail {
        let mut buffer = HeadTail::new(head, tail);
        for c in chunks {
            buffer.push(c.as_bytes());
        }
        buffer
    }

    #[test]
    fn short_streams_are_kept_whole() {
        let b = fed(10, 10, &["ab\n", "cd\n"]);
        assert_eq!(b.dropped(), 0);
        assert_eq!(b.into_bytes_with(b"[cut]"), b"ab\ncd\n");
    }

    #[test]
    fn the_middle_is_dropped_and_counted() {
        let b = fed(6, 6, &["h1\n", "h2\n", "m1\n", "m2\n", "t1\n", "t2\n"]);
        assert_eq!(b.dropped(), 6);
        assert_eq!(b.kept(), 12);
        assert_eq!(b.into_bytes_with(b"[cut]\n"), b"h1\nh2\n[cut]\nt1\nt2\n");
    }

    #[test]
    fn the_head_stays_closed_after_a_chunk_that_did_not_fit() {
        // Order is kept: a small chunk after a big one must not slip into the head.
        let b = fed(4, 100, &["ab\n", "long line\n", "c\n"]);
        assert_eq!(b.into_bytes(), b"ab\nlong line\nc\n");
    }

    #[test]
    fn a_chunk_larger_than_the_tail_is_dropped_whole() {
        let b = fed(0, 4, &["x\n", "0123456789\n"]);
        assert_eq!(b.dropped(), 13);
        assert_eq!(b.into_bytes_with(b"|"), b"|");
    }
}
