//! Decides, entry by entry, what of a submission is kept; enforces the limits and the link
//! rules, and keeps the accepted entries (last one wins) until the sanitised tar is written.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{self, Read, Seek, Write};

use tar::EntryType;

use super::error::ArchiveError;
use super::limits::{Limit, Limits, MAX_NAME_COMPONENT};
use super::meta::Names;
use super::path::{self, PathError};
use super::rules::{self, Rules};

/// Why one entry is refused (the archive as a whole is still graded).
#[derive(Debug, thiserror::Error)]
enum Refusal {
    #[error("unsupported entry type: {0}")]
    EntryType(String),
    #[error("its parent `{0}` is a symlink in this archive")]
    ParentSymlink(String),
    #[error("its parent `{0}` is a file in this archive")]
    ParentFile(String),
    #[error("symlink target {0}")]
    SymlinkTarget(PathError),
    #[error("symlink points to the archive root")]
    SymlinkToRoot,
    #[error("symlink points to `{name}`, excluded by `{pattern}`")]
    SymlinkExcluded { name: String, pattern: String },
    #[error("symlink points to `{0}`, which contains excluded paths")]
    SymlinkContainsExcluded(String),
    #[error("hardlink target {0}")]
    HardlinkTarget(PathError),
    #[error("hardlink target `{0}` is not a regular file accepted earlier in this archive")]
    HardlinkNotFile(String),
}

/// What an accepted entry becomes in the sanitised tar.
#[derive(Debug)]
pub(super) enum Body {
    Dir,
    /// `len` bytes at `offset` of the spool file.
    File {
        offset: u64,
        len: u64,
    },
    /// `target` is written to the tar (relative, canonical); `through` lists the names its
    /// lexical resolution walked through, none of which may be a symlink of this archive.
    Symlink {
        target: String,
        through: Vec<String>,
    },
    /// The normalised name of an accepted regular file.
    Hardlink(String),
}

/// What the collector ends with: kept entries in writing order, rejections, and the spool of
/// file data (rewound).
pub(super) struct Collected {
    pub kept: Vec<Kept>,
    pub rejected: Vec<(String, String)>,
    pub spool: File,
}

#[derive(Debug)]
pub(super) struct Kept {
    pub name: String,
    pub body: Body,
    pub mode: u32,
    pub mtime: u64,
}

/// The verdict on one entry that did not refuse the whole archive.
enum Outcome {
    Keep(Kept),
    /// The archive root itself (`./`): nothing to extract, nothing worth reporting.
    Skip,
    Reject(String),
}

pub(super) struct Collector<'r, 'a> {
    rules: &'r Rules<'a>,
    limits: &'r Limits,
    kept: Vec<Option<Kept>>,
    index: BTreeMap<String, usize>,
    rejected: Vec<(String, String)>,
    entries: usize,
    declared: u64,
    /// File data of the kept entries, written as it streams in (memory stays flat).
    spool: File,
    spooled: u64,
}

impl<'r, 'a> Collector<'r, 'a> {
    /// A collector spooling file data to `spool` (an empty, anonymous file).
    pub(super) fn new(rules: &'r Rules<'a>, limits: &'r Limits, spool: File) -> Self {
        Self {
            rules,
            limits,
            kept: Vec::new(),
            index: BTreeMap::new(),
            rejected: Vec::new(),
            entries: 0,
            declared: 0,
            spool,
            spooled: 0,
        }
    }

    /// Judges one entry named `names`; an `Err` refuses the whole submission.
    pub(super) fn add<R: Read>(
        &mut self,
        entry: &mut tar::Entry<'_, R>,
        names: &Names,
    ) -> Result<(), ArchiveError> {
        self.charge(entry, names)?;
        let shown = String::from_utf8_lossy(&names.path).into_owned();
        match self.judge(entry, names)? {
            Outcome::Keep(kept) => self.insert(kept),
            Outcome::Skip => {}
            Outcome::Reject(reason) => self.rejected.push((shown, reason)),
        }
        Ok(())
    }

    /// Counts the entry against the limits before any of its data is read.
    fn charge<R: Read>(
        &mut self,
        entry: &tar::Entry<'_, R>,
        names: &Names,
    ) -> Result<(), ArchiveError> {
        let too_large = |limit, max| Err(ArchiveError::TooLarge { limit, max });
        let limits = self.limits;
        self.entries += 1;
        if self.entries > limits.max_entries {
            return too_large(Limit::Entries, limits.max_entries as u64);
        }
        let size = entry.size();
        if size > limits.max_file_bytes {
            return too_large(Limit::FileBytes, limits.max_file_bytes);
        }
        self.declared = self.declared.saturating_add(size);
        if self.declared > limits.max_total_bytes {
            return too_large(Limit::TotalBytes, limits.max_total_bytes);
        }
        let link_len = names.link.as_ref().map_or(0, Vec::len);
        if names.path.len().max(link_len) > limits.max_path_len {
            return too_large(Limit::PathLength, limits.max_path_len as u64);
        }
        Ok(())
    }

    fn judge<R: Read>(
        &mut self,
        entry: &mut tar::Entry<'_, R>,
        names: &Names,
    ) -> Result<Outcome, ArchiveError> {
        let kind = entry.header().entry_type();
        let text = match path::decode(&names.path) {
            Ok(text) => text,
            Err(e) => return Ok(Outcome::Reject(format!("name {e}"))),
        };
        let components = match path::normalise(text) {
            Ok(c) => c,
            Err(e) => return Ok(Outcome::Reject(format!("name {e}"))),
        };
        if components.len() > self.limits.max_depth {
            let max = self.limits.max_depth as u64;
            return Err(ArchiveError::TooLarge {
                limit: Limit::Depth,
                max,
            });
        }
        // V7 tar marks directories by a trailing slash on a regular entry.
        let is_dir = kind == EntryType::Directory || (is_regular(kind) && text.ends_with('/'));
        if components.is_empty() {
            return Ok(if is_dir {
                Outcome::Skip
            } else {
                reject("names the archive root")
            });
        }
        let name = components.join("/");
        if let Err(reason) = self.check_parents(&name) {
            return Ok(Outcome::Reject(reason.to_string()));
        }
        if let Err(denial) = rules::check(&name, self.rules) {
            return Ok(Outcome::Reject(denial.to_string()));
        }
        extractable(&name, &components, is_dir, self.rules)?;
        let body = match self.body(entry, names, is_dir, &components)? {
            Ok(body) => body,
            Err(reason) => return Ok(Outcome::Reject(reason.to_string())),
        };
        let header = entry.header();
        let mode = safe_mode(&body, header.mode().unwrap_or(0));
        Ok(Outcome::Keep(Kept {
            name,
            body,
            mode,
            mtime: header.mtime().unwrap_or(0),
        }))
    }

    /// The content of an allowed entry, or why its type or link target is refused.
    fn body<R: Read>(
        &mut self,
        entry: &mut tar::Entry<'_, R>,
        names: &Names,
        is_dir: bool,
        components: &[&str],
    ) -> Result<Result<Body, Refusal>, ArchiveError> {
        let kind = entry.header().entry_type();
        let link = names.link.as_deref().unwrap_or_default();
        Ok(if is_dir {
            Ok(Body::Dir)
        } else if is_regular(kind) {
            Ok(self.spool_data(entry)?)
        } else if kind == EntryType::Symlink {
            self.symlink(link, components)
        } else if kind == EntryType::Link {
            self.hardlink(link)
        } else {
            Err(Refusal::EntryType(describe(kind)))
        })
    }

    /// No entry may be written through an accepted symlink or below an accepted non-directory.
    fn check_parents(&self, name: &str) -> Result<(), Refusal> {
        for parent in path::ancestors(name) {
            match self.get(parent).map(|k| &k.body) {
                Some(Body::Symlink { .. }) => {
                    return Err(Refusal::ParentSymlink(parent.to_owned()));
                }
                Some(Body::File { .. } | Body::Hardlink(_)) => {
                    return Err(Refusal::ParentFile(parent.to_owned()));
                }
                Some(Body::Dir) | None => {}
            }
        }
        Ok(())
    }

    fn symlink(&self, raw: &[u8], components: &[&str]) -> Result<Body, Refusal> {
        let target = path::decode(raw).map_err(Refusal::SymlinkTarget)?;
        let dir = &components[..components.len() - 1];
        let resolved = path::resolve(dir, target).map_err(Refusal::SymlinkTarget)?;
        let name = resolved.components.join("/");
        if name.is_empty() {
            return Err(Refusal::SymlinkToRoot);
        }
        if let Some(pattern) = rules::excluding_pattern(&name, self.rules.submit_exclude) {
            let pattern = pattern.to_string();
            return Err(Refusal::SymlinkExcluded { name, pattern });
        }
        if rules::contains_excluded(&name, self.rules.submit_exclude) {
            return Err(Refusal::SymlinkContainsExcluded(name));
        }
        let target = path::relative(dir, &resolved.components);
        Ok(Body::Symlink {
            target,
            through: resolved.through,
        })
    }

    fn hardlink(&self, raw: &[u8]) -> Result<Body, Refusal> {
        let target = path::decode(raw)
            .and_then(|t| {
                if t.starts_with('/') {
                    Err(PathError::Absolute)
                } else {
                    Ok(t)
                }
            })
            .and_then(path::normalise)
            .map_err(Refusal::HardlinkTarget)?
            .join("/");
        match self.get(&target).map(|k| &k.body) {
            Some(Body::File { .. }) => Ok(Body::Hardlink(target)),
            _ => Err(Refusal::HardlinkNotFile(target)),
        }
    }

    /// Last one wins, as in tar extraction, except that a directory that already has accepted
    /// entries below it cannot be replaced by a non-directory.
    fn insert(&mut self, kept: Kept) {
        if !matches!(kept.body, Body::Dir) && self.has_children(&kept.name) {
            let reason = "it would replace a directory that has entries in this archive";
            self.rejected.push((kept.name, reason.to_owned()));
            return;
        }
        if let Some(&slot) = self.index.get(&kept.name) {
            self.kept[slot] = None;
        }
        self.index.insert(kept.name.clone(), self.kept.len());
        self.kept.push(Some(kept));
    }

    fn has_children(&self, name: &str) -> bool {
        let below = format!("{name}/");
        let mut after = self.index.range(below.clone()..);
        after.next().is_some_and(|(k, _)| k.starts_with(&below))
    }

    fn get(&self, name: &str) -> Option<&Kept> {
        self.index
            .get(name)
            .and_then(|&slot| self.kept[slot].as_ref())
    }

    /// Appends the entry's data to the spool.
    fn spool_data<R: Read>(&mut self, entry: &mut tar::Entry<'_, R>) -> Result<Body, ArchiveError> {
        let offset = self.spooled;
        let len = io::copy(entry, &mut self.spool).map_err(ArchiveError::Corrupt)?;
        self.spooled += len;
        Ok(Body::File { offset, len })
    }

    /// Final link checks over the complete archive, then the kept entries in writing order
    /// (directories by name, files, hard links, symlinks), the rejections and the spool.
    pub(super) fn finish(mut self) -> Result<Collected, ArchiveError> {
        let symlinks: BTreeSet<String> = self
            .kept
            .iter()
            .flatten()
            .filter(|k| matches!(k.body, Body::Symlink { .. }))
            .map(|k| k.name.clone())
            .collect();
        let verdicts: Vec<Option<String>> = self
            .kept
            .iter()
            .flatten()
            .map(|k| self.late_rejection(k, &symlinks))
            .collect();
        let mut kept: Vec<Kept> = Vec::new();
        for (entry, verdict) in std::mem::take(&mut self.kept)
            .into_iter()
            .flatten()
            .zip(verdicts)
        {
            match verdict {
                Some(reason) => self.rejected.push((entry.name, reason)),
                None => kept.push(entry),
            }
        }
        kept.sort_by(|a, b| match (&a.body, &b.body) {
            (Body::Dir, Body::Dir) => a.name.cmp(&b.name),
            _ => rank(&a.body).cmp(&rank(&b.body)),
        });
        self.spool.flush().map_err(ArchiveError::Write)?;
        self.spool.rewind().map_err(ArchiveError::Write)?;
        Ok(Collected {
            kept,
            rejected: self.rejected,
            spool: self.spool,
        })
    }

    /// A symlink whose target passes through another symlink, or a hard link whose target was
    /// replaced by a later entry.
    fn late_rejection(&self, entry: &Kept, symlinks: &BTreeSet<String>) -> Option<String> {
        match &entry.body {
            Body::Symlink { through, .. } => through
                .iter()
                .find(|a| symlinks.contains(*a))
                .map(|a| format!("symlink target passes through the symlink `{a}`")),
            Body::Hardlink(target) => match self.get(target).map(|k| &k.body) {
                Some(Body::File { .. }) => None,
                _ => Some(format!(
                    "hardlink target `{target}` was replaced later in this archive"
                )),
            },
            Body::Dir | Body::File { .. } => None,
        }
    }
}

/// Writing order: parents before children, link targets before links, symlinks last so that no
/// extractor can follow one of them while writing this archive.
fn rank(body: &Body) -> u8 {
    match body {
        Body::Dir => 0,
        Body::File { .. } => 1,
        Body::Hardlink(_) => 2,
        Body::Symlink { .. } => 3,
    }
}

fn reject(reason: &str) -> Outcome {
    Outcome::Reject(reason.to_owned())
}

/// Refuses, as a whole, a name the judge could not extract: a component longer than
/// [`MAX_NAME_COMPONENT`], or a non-directory where the judge keeps a directory holding excluded
/// paths (extraction would fail, or replace the judge's own files).
fn extractable(
    name: &str,
    components: &[&str],
    is_dir: bool,
    rules: &Rules,
) -> Result<(), ArchiveError> {
    if let Some(long) = components.iter().find(|c| c.len() > MAX_NAME_COMPONENT) {
        return Err(ArchiveError::NameTooLong {
            name: shortened(name),
            len: long.len(),
            max: MAX_NAME_COMPONENT,
        });
    }
    if !is_dir && rules::contains_excluded(name, rules.submit_exclude) {
        return Err(ArchiveError::ReplacesExcludedDir {
            name: shortened(name),
        });
    }
    Ok(())
}

/// At most 80 characters of `name` for a message.
fn shortened(name: &str) -> String {
    match name.char_indices().nth(80) {
        Some((at, _)) => format!("{}…", &name[..at]),
        None => name.to_owned(),
    }
}

/// Git-like modes: files 0o644, or 0o755 if any execute bit was set; directories 0o755;
/// symlinks 0o777. Set-id and sticky bits never survive.
fn safe_mode(body: &Body, mode: u32) -> u32 {
    match body {
        Body::Dir => 0o755,
        Body::Symlink { .. } => 0o777,
        Body::File { .. } | Body::Hardlink(_) if mode & 0o111 != 0 => 0o755,
        Body::File { .. } | Body::Hardlink(_) => 0o644,
    }
}

/// Regular and contiguous files (GNU tar extracts the latter as regular files).
fn is_regular(kind: EntryType) -> bool {
    matches!(kind, EntryType::Regular | EntryType::Continuous)
}

fn describe(kind: EntryType) -> String {
    match kind {
        EntryType::Char => "character device".to_owned(),
        EntryType::Block => "block device".to_owned(),
        EntryType::Fifo => "FIFO".to_owned(),
        EntryType::GNUSparse => "GNU sparse file".to_owned(),
        other => format!("type byte {:?}", char::from(other.as_byte())),
    }
}
