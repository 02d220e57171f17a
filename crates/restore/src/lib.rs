//! The restore pipeline: object store listing -> set discovery -> parallel, resumable fetch
//! -> decode -> unpack into staging -> chain plan -> prepare with the engine's tool -> datadir.
//!
//! Entry points: [`inspect::inspect`] (what would be restored, and whether it can be) and
//! [`restore::restore`] (do it). Both report through a shared [`progress::Progress`].

pub mod archive;
mod durable;
pub mod error;
pub mod fetch;
pub mod inspect;
pub mod limit;
pub mod listing;
pub mod metadata;
pub mod pipeline;
pub mod progress;
pub mod restore;
pub mod sets;
pub mod source;
pub mod staging;

pub use error::RestoreError;
pub use fetch::FetchOptions;
pub use inspect::{inspect, inspect_with, InspectReport};
pub use progress::{Phase, Progress};
pub use restore::{restore, RestoreOptions, RestoreReport};
pub use source::{S3Options, Source, SourceUrl};
