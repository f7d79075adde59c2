//! Layered settings: defaults < task file < environment < experiment YAML < command line,
//! resolved per field into one [`Settings`] whose every value remembers its [`Source`].

mod dns;
mod env;
mod error;
mod experiment;
mod flags;
mod overrides;
pub mod parse;
mod redact;
mod resolve;
mod settings;
mod source;

pub use dns::{DnsSelector, SelectorError, DEFAULT_DNS_SELECTOR};
pub use env::{env_layer, EnvMap};
pub use error::ConfigError;
pub use experiment::Experiment;
pub use flags::Flags;
pub use redact::{add_secret_values, redacted_entries};
pub use resolve::Resolver;
pub use settings::{Backend, Layer, Settings, DEFAULT_JUDGE_URL, SECRET_SETTINGS};
pub use source::{Source, Sourced};
