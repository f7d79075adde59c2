//! The state of every image of a build, for the console: waiting, building (since when), built,
//! present or failed.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::build::Outcome;

/// One image's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageState {
    Waiting,
    Building(Instant),
    Built(Duration),
    Present,
    Failed,
}

/// Every image of a build, in the order first seen.
#[derive(Debug, Default)]
pub struct Board {
    images: Mutex<Vec<(String, ImageState)>>,
}

impl Board {
    /// A board of `images`, all waiting.
    #[must_use]
    pub fn new(images: impl IntoIterator<Item = String>) -> Self {
        let mut list: Vec<(String, ImageState)> = Vec::new();
        for image in images {
            if !list.iter().any(|(i, _)| *i == image) {
                list.push((image, ImageState::Waiting));
            }
        }
        Board {
            images: Mutex::new(list),
        }
    }

    fn set(&self, image: &str, state: ImageState) {
        let mut images = self.images.lock().unwrap_or_else(PoisonError::into_inner);
        match images.iter_mut().find(|(i, _)| i == image) {
            Some(entry) => entry.1 = state,
            None => images.push((image.to_owned(), state)),
        }
    }

    pub fn started(&self, image: &str) {
        self.set(image, ImageState::Building(Instant::now()));
    }

    /// Records the outcome; returns the line that says it (`built in 1:02`, `present`, `FAILED`).
    pub fn done(&self, image: &str, outcome: &Outcome) -> String {
        let state = match outcome {
            Outcome::Present => ImageState::Present,
            Outcome::Failed(_) => ImageState::Failed,
            Outcome::Built => {
                let since = self
                    .images
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .iter()
                    .find_map(|(i, s)| match s {
                        ImageState::Building(at) if i == image => Some(at.elapsed()),
                        _ => None,
                    });
                ImageState::Built(since.unwrap_or_default())
            }
        };
        let text = describe(&state);
        self.set(image, state);
        format!("{image}: {text}")
    }

    /// One line per image.
    #[must_use]
    pub fn table(&self) -> Vec<String> {
        let images = self.images.lock().unwrap_or_else(PoisonError::into_inner);
        let width = images.iter().map(|(i, _)| i.len()).max().unwrap_or(0);
        images
            .iter()
            .map(|(image, state)| format!("{image:<width$}  {}", describe(state)))
            .collect()
    }
}

fn describe(state: &ImageState) -> String {
    match state {
        ImageState::Waiting => "waiting".to_owned(),
        ImageState::Building(at) => format!("building {}", crate::tty::clock(at.elapsed())),
        ImageState::Built(took) => format!("built in {}", crate::tty::clock(*took)),
        ImageState::Present => "present".to_owned(),
        ImageState::Failed => "FAILED".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_go_from_waiting_to_their_outcome() {
        let board = Board::new([
            "base:1".to_owned(),
            "work:1".to_owned(),
            "base:1".to_owned(),
        ]);
        board.started("work:1");
        assert_eq!(board.table(), ["base:1  waiting", "work:1  building 0:00"]);
        assert_eq!(board.done("base:1", &Outcome::Present), "base:1: present");
        assert_eq!(
            board.done("work:1", &Outcome::Built),
            "work:1: built in 0:00"
        );
        assert_eq!(
            board.done("x:1", &Outcome::Failed("e".into())),
            "x:1: FAILED"
        );
        assert_eq!(board.table().len(), 3);
    }
}
