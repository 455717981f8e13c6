//! Polite crawling, extraction and crawl state for `notices`, and the
//! parser of weekly digests.
#![deny(missing_docs)]

pub mod charset;
pub mod config;
pub mod digest;
pub mod engine;
pub mod error;
pub mod fetch;
pub mod history;
pub mod lock;
pub mod politeness;
pub mod revisit;
pub mod robots;
pub mod saved;
pub mod sources;
pub mod state;

pub use error::{Error, Result};

/// The sample digest the project ships (2020-05-15), the offline corpus.
pub const SAMPLE_DIGEST: &str = include_str!("../data/digest-2020-05-15.txt");
/// File name of [`SAMPLE_DIGEST`].
pub const SAMPLE_DIGEST_NAME: &str = "digest-2020-05-15.txt";
