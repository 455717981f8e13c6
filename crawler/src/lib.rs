//! Polite crawling, extraction and crawl state for `notices`, and the
//! parser of weekly digests.
//!
//! - [`crawl`]: the crawl API — a typed [`crawl::CrawlPlan`] and
//!   [`crawl::crawl`], returning a serialisable [`engine::Summary`].
//! - [`store`]: the [`store::NoticeStore`], the one door through which every
//!   notice enters the data directory (index writer, version history, crawl
//!   state, crawl lock), in one documented order of writes.
//! - [`engine`]: the crawl loop; each page ends as a typed
//!   [`outcome::PageOutcome`].
//! - [`sources`]: the sites, behind the [`sources::Source`] trait, and their
//!   registry [`sources::SOURCES`]; [`digest`]: the weekly-digest parser.
//! - [`date`]: every date form of the sites and digests, parsed once.
//!
//! # Adding a source
//!
//! 1. Write `src/sources/<name>.rs`: a type implementing
//!    [`sources::Source`] (start requests, listing and detail parsers,
//!    optionally `is_challenge`, `revisit`, `unblock_hint`), built from its
//!    [`sources::SourceSettings`] with `util::Site::new(hosts, defaults,
//!    settings)` so that mirrors, cookies and page limits work as for the
//!    others. Parse dates with [`date`], find attachments with
//!    [`index::filetype`], document numbers with [`index::docnum`].
//! 2. Add one line to [`sources::SOURCES`]:
//!    `SourceDef { name: "<name>", build: |s| Box::new(<name>::Thing::new(s)) }`.
//!    The config table `[crawl.sources.<name>]`, `notices crawl --source
//!    <name>`, the crawl report and `/api/sources` (the search page's source
//!    list) follow from it.
//! 3. Add its fixtures under `tests/fixtures/<name>/` and a
//!    `tests/sources_<name>.rs` that parses them and crawls them over
//!    loopback (see `tests/registry.rs`, which registers an RSS-feed source
//!    this way and crawls it end to end).
//!
//! A source whose notices belong to a new agency facet (rather than
//! `other/<host>`, as the RSS source's do) also needs that agency in the
//! index crate: a variant of [`index::Source`] and its row in
//! [`index::agency::AGENCIES`], the one table of facet labels, names and
//! hosts (the crawler's sources read their hosts from it).
#![deny(missing_docs)]

pub mod attachments;
pub mod backup;
pub mod browser;
pub mod charset;
pub mod classify;
pub mod config;
pub mod crawl;
pub mod date;
pub mod digest;
pub mod engine;
pub mod error;
pub mod fetch;
pub mod history;
pub mod lock;
pub mod outcome;
pub mod politeness;
pub mod revisit;
pub mod robots;
pub mod saved;
pub mod sources;
pub mod state;
pub mod store;

pub use error::{Error, Result};

/// The sample digest the project ships (2020-05-15), the offline corpus.
pub const SAMPLE_DIGEST: &str = include_str!("../data/digest-2020-05-15.txt");
/// File name of [`SAMPLE_DIGEST`].
pub const SAMPLE_DIGEST_NAME: &str = "digest-2020-05-15.txt";
