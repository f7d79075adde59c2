//! Extension headers — GNU long names and links, pax records — read here rather than by the tar
//! crate (which reads them whole into memory, whatever size they declare): each is bounded by
//! [`Limits::max_header_bytes`] before its data is read, then applied to the entry that follows.

use std::io::Read;

use tar::{EntryType, PaxExtensions};

use super::error::ArchiveError;
use super::limits::{Limit, Limits};

/// The name and link target of an entry, once its extension headers are applied.
#[derive(Debug, Default)]
pub(super) struct Names {
    pub path: Vec<u8>,
    pub link: Option<Vec<u8>>,
}

/// Extension headers seen since the last real entry.
#[derive(Debug, Default)]
pub(super) struct Pending {
    long_name: Option<Vec<u8>>,
    long_link: Option<Vec<u8>>,
    pax: Option<Vec<u8>>,
}

impl Pending {
    /// Takes in `entry` if it is an extension header (`Ok(true)`: nothing more to do with it).
    /// Pax global headers are skipped unread.
    pub(super) fn absorb<R: Read>(
        &mut self,
        entry: &mut tar::Entry<'_, R>,
        limits: &Limits,
    ) -> Result<bool, ArchiveError> {
        let kind = entry.header().entry_type();
        let slot = match kind {
            EntryType::GNULongName => &mut self.long_name,
            EntryType::GNULongLink => &mut self.long_link,
            EntryType::XHeader => &mut self.pax,
            EntryType::XGlobalHeader => return Ok(true),
            _ => return Ok(false),
        };
        if slot.is_some() {
            return Err(ArchiveError::Unsupported(
                "two extension headers of one kind describe the same entry",
            ));
        }
        if entry.size() > limits.max_header_bytes {
            return Err(ArchiveError::TooLarge {
                limit: Limit::HeaderBytes,
                max: limits.max_header_bytes,
            });
        }
        let mut data = Vec::new();
        entry
            .take(limits.max_header_bytes)
            .read_to_end(&mut data)
            .map_err(ArchiveError::Corrupt)?;
        *slot = Some(data);
        Ok(true)
    }

    /// The names of `entry` (a real entry), consuming the pending headers. A pax `size` that
    /// differs from the header's would make the stream ambiguous: refused.
    pub(super) fn apply<R: Read>(
        &mut self,
        entry: &tar::Entry<'_, R>,
    ) -> Result<Names, ArchiveError> {
        let header = entry.header();
        let mut names = Names {
            path: header.path_bytes().into_owned(),
            link: header.link_name_bytes().map(std::borrow::Cow::into_owned),
        };
        if let Some(pax) = self.pax.take() {
            for record in PaxExtensions::new(&pax) {
                let record = record.map_err(ArchiveError::Corrupt)?;
                match record.key_bytes() {
                    b"path" => names.path = record.value_bytes().to_vec(),
                    b"linkpath" => names.link = Some(record.value_bytes().to_vec()),
                    b"size" if !same_size(record.value_bytes(), entry.size()) => {
                        return Err(ArchiveError::Unsupported(
                            "a pax `size` record that differs from the header's size",
                        ));
                    }
                    _ => {}
                }
            }
        }
        if let Some(name) = self.long_name.take() {
            names.path = without_nul(name);
        }
        if let Some(link) = self.long_link.take() {
            names.link = Some(without_nul(link));
        }
        Ok(names)
    }

    /// Whether headers are still waiting for their entry (the archive ended after them).
    pub(super) fn is_empty(&self) -> bool {
        self.long_name.is_none() && self.long_link.is_none() && self.pax.is_none()
    }
}

fn same_size(value: &[u8], size: u64) -> bool {
    std::str::from_utf8(value)
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        == Some(size)
}

/// GNU long names end with a NUL (as the tar crate reads them: one trailing NUL dropped).
fn without_nul(mut bytes: Vec<u8>) -> Vec<u8> {
    if bytes.last() == Some(&0) {
        bytes.pop();
    }
    bytes
}
