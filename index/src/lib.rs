//! Schema, bilingual analyzer, indexing, search and facets for `notices`.
//!
//! ```
//! use index::{Notice, NoticeIndex, Origin, SearchRequest, Source};
//!
//! let index = NoticeIndex::in_memory()?;
//! let mut writer = index.writer(1)?;
//! writer.upsert(&Notice {
//!     id: Notice::id_for_url("http://www.nmpa.gov.cn/WS04/CL2138/377442.html"),
//!     url: Some("http://www.nmpa.gov.cn/WS04/CL2138/377442.html".into()),
//!     source: Source::Nmpa,
//!     title: "国家药监局关于开展化学药品注射剂仿制药质量和疗效一致性评价工作的公告（2020年第62号）".into(),
//!     body: "为加快推进仿制药一致性评价工作……".into(),
//!     published: None,
//!     doc_numbers: vec!["2020年第62号".into()],
//!     agency: Some("国家药品监督管理局".into()),
//!     lang: index::Lang::Zh,
//!     attachments: vec![],
//!     links: vec![],
//!     origin: Origin::Crawl,
//!     fetched_at: None,
//!     first_seen: None,
//!     withdrawn: false,
//!     doc_type: Some(index::DocType::Announcement),
//!     status: Some(index::Status::Final),
//!     comment_close: None,
//! })?;
//! writer.commit("example")?;
//!
//! // A sub-word finds the whole word, and the hit is highlighted.
//! let results = index.search(&SearchRequest::new("评价"))?;
//! assert_eq!(results.total, 1);
//! assert!(results.hits[0].title_html.contains("<b>评价</b>"));
//! // A document number in another bracket/width form finds it too.
//! assert_eq!(index.search(&SearchRequest::new("2020年第６２号"))?.total, 1);
//! # Ok::<(), index::Error>(())
//! ```
#![deny(missing_docs)]

pub mod agency;
pub mod analyzer;
pub mod backup;
pub mod cache;
mod concept;
pub mod docnum;
pub mod doctype;
pub mod error;
pub mod facets;
pub mod filetype;
pub mod filters;
pub mod glossary;
pub mod health;
pub mod import;
mod inflight;
pub mod notice;
pub mod opensearch;
mod phrases;
pub mod schema;
pub mod search;
pub mod segmenter;
mod snippet;
pub mod store;
mod stored;
pub mod synth;
pub mod writer;

pub use doctype::{DocType, Status};
pub use error::{Error, Result};
pub use notice::{Attachment, AttachmentFile, Lang, Notice, Origin, Source};
pub use search::{DateEnd, Facets, Hit, MatchedAttachment, SearchRequest, SearchResults, Sort, Stats, parse_date};
pub use store::NoticeIndex;
pub use writer::{CommitInfo, NoticeWriter};
