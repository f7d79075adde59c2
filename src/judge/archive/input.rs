//! Recognises the submission's format (gzip'd tar, plain tar, empty) and wraps it in byte budgets
//! that stop a compression bomb while it streams.

use std::cell::Cell;
use std::io::{self, Cursor, Read};
use std::rc::Rc;

use flate2::read::MultiGzDecoder;

use super::error::ArchiveError;
use super::limits::{Limit, Limits};

const BLOCK: usize = 512;
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Records which budget ran out, shared between the readers and the code mapping their errors.
#[derive(Debug, Clone, Default)]
pub(super) struct Trip(Rc<Cell<Option<(Limit, u64)>>>);

impl Trip {
    /// The limit that was exceeded, if any, as the error to report instead of a read error.
    pub(super) fn error(&self) -> Option<ArchiveError> {
        self.0
            .get()
            .map(|(limit, max)| ArchiveError::TooLarge { limit, max })
    }
}

/// A reader that fails once more than `max` bytes have come through it.
struct Budget<R> {
    inner: R,
    left: u64,
    limit: Limit,
    max: u64,
    trip: Trip,
}

impl<R> Budget<R> {
    fn new(inner: R, limit: Limit, max: u64, trip: &Trip) -> Self {
        Self {
            inner,
            left: max,
            limit,
            max,
            trip: trip.clone(),
        }
    }
}

impl<R: Read> Read for Budget<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let want = usize::try_from(self.left.saturating_add(1)).unwrap_or(usize::MAX);
        let len = buf.len().min(want);
        let n = self.inner.read(&mut buf[..len])?;
        let got = n as u64;
        if got > self.left {
            self.trip.0.set(Some((self.limit, self.max)));
            return Err(io::Error::other(format!(
                "{} exceeds {}",
                self.limit, self.max
            )));
        }
        self.left -= got;
        Ok(n)
    }
}

/// Opens the submission: `None` for an empty input, otherwise the uncompressed tar stream, with
/// the compressed bytes and the uncompressed bytes each under their budget.
pub(super) fn open<'r>(
    input: impl Read + 'r,
    limits: &Limits,
    trip: &Trip,
) -> Result<Option<Box<dyn Read + 'r>>, ArchiveError> {
    let mut raw = Budget::new(
        input,
        Limit::CompressedBytes,
        limits.max_compressed_bytes,
        trip,
    );
    let prefix =
        read_prefix(&mut raw).map_err(|e| trip.error().unwrap_or(ArchiveError::Read(e)))?;
    if prefix.is_empty() {
        return Ok(None);
    }
    let is_gzip = prefix.starts_with(&GZIP_MAGIC);
    if !is_gzip && !is_tar_header(&prefix) {
        return Err(ArchiveError::NotAnArchive(
            "it starts with neither the gzip magic bytes nor a tar header".to_owned(),
        ));
    }
    let stream = Cursor::new(prefix).chain(raw);
    let max = limits.max_total_bytes;
    Ok(Some(if is_gzip {
        Box::new(Budget::new(
            MultiGzDecoder::new(stream),
            Limit::TotalBytes,
            max,
            trip,
        ))
    } else {
        Box::new(Budget::new(stream, Limit::TotalBytes, max, trip))
    }))
}

/// Reads up to one tar block, fewer only at the end of the input.
fn read_prefix(input: &mut impl Read) -> io::Result<Vec<u8>> {
    let mut prefix = Vec::with_capacity(BLOCK);
    input.take(BLOCK as u64).read_to_end(&mut prefix)?;
    Ok(prefix)
}

/// A first block that is all zeros (an empty tar) or a header whose checksum is right.
fn is_tar_header(block: &[u8]) -> bool {
    let Ok(bytes) = <&[u8; BLOCK]>::try_from(block) else {
        return false;
    };
    if bytes.iter().all(|&b| b == 0) {
        return true;
    }
    let header = tar::Header::from_byte_slice(bytes);
    let sum: u32 = bytes[..148]
        .iter()
        .chain(&bytes[156..])
        .map(|&b| u32::from(b))
        .sum::<u32>()
        + 8 * u32::from(b' ');
    header.cksum().is_ok_and(|stored| stored == sum)
}

#[cfg(test)]
mod tests {
    use super::{Budget, Limit, Trip};
    use std::io::Read;

    #[test]
    fn budget_allows_exactly_max_bytes() {
        let trip = Trip::default();
        let mut ok = Budget::new(&[7u8; 10][..], Limit::TotalBytes, 10, &trip);
        let mut out = Vec::new();
        assert_eq!(ok.read_to_end(&mut out).unwrap(), 10);
        assert!(trip.error().is_none());

        let mut over = Budget::new(&[7u8; 11][..], Limit::TotalBytes, 10, &trip);
        assert!(over.read_to_end(&mut Vec::new()).is_err());
        assert!(trip.error().is_some());
    }
}
