//! Task definitions: `BENCHMARK.yaml`, task JSON files, validation, image names and content hashes.
//! Everything here is pure: files in, typed values (or errors that name file and field) out.

mod benchmark;
mod catalog;
mod error;
mod fields;
mod hash;
pub mod pyjson;
mod role;
mod spec;

pub use benchmark::{BaseImage, Benchmark};
pub use catalog::Catalog;
pub use error::TaskError;
pub use hash::{base_hash, image_hash};
pub use role::Role;
pub use spec::{
    is_plain_name, ImageRef, ImageSource, JudgeSpec, ScoreDirection, Selection, Task, TaskImages,
    WorkSpec, PARSERS,
};
