//! Bounds on a submission; exceeding any refuses it as a whole.

use std::fmt;

/// Bounds on a submission; exceeding any refuses it as a whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Tar entries, rejected ones included.
    pub max_entries: usize,
    /// Bytes of the uncompressed tar stream (headers and padding included); also bounds the sum
    /// of sizes declared in headers.
    pub max_total_bytes: u64,
    /// Declared size of any single entry.
    pub max_file_bytes: u64,
    /// Bytes of the input as received (the caller should also cap uploads).
    pub max_compressed_bytes: u64,
    /// Bytes of a member name or link target, before normalisation.
    pub max_path_len: usize,
    /// Components of a normalised member name.
    pub max_depth: usize,
    /// Bytes of one extension header (a GNU long name or link, a pax record set), which is read
    /// into memory before the entry it describes.
    pub max_header_bytes: u64,
}

/// Bytes of one component of a name (Linux `NAME_MAX`): a longer one cannot be extracted.
pub const MAX_NAME_COMPONENT: usize = 255;

impl Default for Limits {
    /// 50,000 entries, 1 GiB uncompressed, 512 MiB per file, 512 MiB compressed, 4096-byte
    /// paths (Linux `PATH_MAX`), 64 levels, 64 KiB extension headers: roomy for source trees
    /// with build outputs, yet bounded in time and disk; file data is spooled to disk, so host
    /// memory does not grow with the archive.
    fn default() -> Self {
        Self {
            max_entries: 50_000,
            max_total_bytes: 1 << 30,
            max_file_bytes: 512 << 20,
            max_compressed_bytes: 512 << 20,
            max_path_len: 4096,
            max_depth: 64,
            max_header_bytes: 64 << 10,
        }
    }
}

/// Which limit a submission exceeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    Entries,
    TotalBytes,
    FileBytes,
    CompressedBytes,
    PathLength,
    Depth,
    HeaderBytes,
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Entries => "number of entries",
            Self::TotalBytes => "uncompressed size in bytes",
            Self::FileBytes => "size of one entry in bytes",
            Self::CompressedBytes => "compressed size in bytes",
            Self::PathLength => "length of a path in bytes",
            Self::Depth => "depth of a path in components",
            Self::HeaderBytes => "size of a long-name or pax header in bytes",
        })
    }
}
