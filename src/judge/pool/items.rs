//! What the pool keeps and hands out: the warm-up a pooled container receives, and a pooled
//! container itself.

use crate::sandbox::single_file_tar;

/// What a pooled container receives before it is handed out: one executable file owned by root
/// (the evaluation script, which depends only on the task).
#[derive(Debug, Clone, Default)]
pub struct Warmup {
    pub dir: String,
    pub file: String,
    pub content: Vec<u8>,
}

impl Warmup {
    /// The file as a tar stream for [`Warmup::dir`].
    #[must_use]
    pub fn tar(&self) -> Vec<u8> {
        single_file_tar(&self.file, &self.content, 0o755, (0, 0))
    }
}

/// A ready container: its pool name, and its id when the backend has one (which still names
/// it after a rename).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pooled {
    pub name: String,
    pub id: Option<String>,
}

impl Pooled {
    /// What names the container for good: the id when known, else the name.
    #[must_use]
    pub fn handle(self) -> String {
        self.id.unwrap_or(self.name)
    }
}
