//! The crawl API: a typed [`CrawlPlan`] and [`crawl`], the whole of one
//! crawl for every caller (`notices crawl`, each run of `notices crawl
//! --watch`, a server's scheduled re-crawl).
//!
//! One crawl picks its sources from the plan, opens the data directory's
//! [`NoticeStore`] (taking its crawl lock: one crawl per data directory
//! across processes, and a lock left by a killed process is free at once),
//! stores a digest's items, runs the [`Engine`], commits, and releases the
//! lock. A reader (a running server) sees the new commits without a restart.
//!
//! ```no_run
//! # async fn demo() -> crawler::Result<()> {
//! use crawler::crawl::{CrawlPlan, crawl};
//!
//! let plan = CrawlPlan { sources: vec!["nmpa".into()], ..CrawlPlan::new("/var/lib/notices") };
//! let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
//! match crawl(&plan, Some(stop_rx)).await {
//!     Ok(summary) => println!("{}", serde_json::to_string(&summary).unwrap()),
//!     // Another process crawls this data directory now: try later.
//!     Err(crawler::Error::Busy { .. }) => {}
//!     Err(e) => return Err(e),
//! }
//! // On shutdown: `stop_tx.send(true)` ends a crawl in progress at a commit
//! // boundary; the next crawl resumes its queue.
//! # drop(stop_tx);
//! # Ok(())
//! # }
//! ```

use std::path::PathBuf;

use chrono::NaiveDate;
use index::Notice;

use crate::config::CrawlConfig;
use crate::engine::{Engine, Progress, Summary};
use crate::error::{Error, Result};
use crate::sources::generic::Generic;
use crate::sources::{Registry, Source};
use crate::store::NoticeStore;

/// A weekly digest whose linked pages a crawl fetches and merges into its items.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestSeed {
    /// The digest's file name (part of its items' ids).
    pub name: String,
    /// Its text.
    pub text: String,
}

/// What a plan resolves to: what it holds, the sources to crawl, the
/// notices to store before crawling (a digest's items).
type Resolved = (PlanInfo, Vec<Box<dyn Source>>, Vec<Notice>);

/// What one crawl does.
#[derive(Debug, Clone)]
pub struct CrawlPlan {
    /// The data directory (index, crawl state, lock).
    pub data_dir: PathBuf,
    /// Fetch options, politeness, limits (`max_pages`) and per-source settings.
    pub config: CrawlConfig,
    /// Known sources to crawl, by name (`nmpa`, `fda` …). Empty: every
    /// enabled source, unless `urls` or `digest` name the pages.
    pub sources: Vec<String>,
    /// Pages to fetch with generic extraction.
    pub urls: Vec<String>,
    /// A digest to seed the crawl with.
    pub digest: Option<DigestSeed>,
    /// Leave out the notices a listing dates before this day.
    pub since: Option<NaiveDate>,
    /// The sources known by name.
    pub registry: Registry,
}

impl CrawlPlan {
    /// Every enabled source of the default configuration into `data_dir`.
    pub fn new(data_dir: impl Into<PathBuf>) -> CrawlPlan {
        CrawlPlan {
            data_dir: data_dir.into(),
            config: CrawlConfig::default(),
            sources: Vec::new(),
            urls: Vec::new(),
            digest: None,
            since: None,
            registry: Registry::builtin(),
        }
    }

    /// Checks the plan without opening or fetching anything: the source
    /// names, the URLs, the digest. What it finds (for the user) or the
    /// first problem, as an error that is the user's.
    pub fn check(&self) -> Result<PlanInfo> {
        Ok(self.resolve()?.0)
    }

    /// The sources to crawl and the notices to store first.
    fn resolve(&self) -> Result<Resolved> {
        let mut list: Vec<Box<dyn Source>> = Vec::new();
        let mut seeds = Vec::new();
        let mut info = PlanInfo::default();
        if let Some(d) = &self.digest {
            let parsed = crate::digest::parse(&d.name, &d.text);
            for w in &parsed.warnings {
                tracing::warn!(line = w.line, "{}: {}", d.name, w.message);
            }
            if parsed.notices.is_empty() {
                return Err(Error::EmptyDigest { name: d.name.clone() });
            }
            let generic = Generic::from_digest(&parsed.notices);
            info.digest = Some(DigestInfo {
                name: d.name.clone(),
                items: parsed.notices.len(),
                linked_pages: generic.seeds().len(),
            });
            list.push(Box::new(generic));
            seeds = parsed.notices;
        }
        if !self.urls.is_empty() {
            list.push(Box::new(Generic::from_strs(&self.urls)?));
        }
        let explicit_pages = !list.is_empty();
        if !self.sources.is_empty() {
            for name in &self.sources {
                let settings = self.config.sources.get(&name.to_ascii_lowercase()).cloned().unwrap_or_default();
                let source = self.registry.build(name, &settings).ok_or_else(|| Error::UnknownSource {
                    name: name.clone(),
                    known: self.registry.names().join(", "),
                })?;
                list.push(source);
            }
        } else if !explicit_pages {
            list = self.registry.enabled(&self.config.sources);
            if list.is_empty() {
                return Err(Error::Config("no source to crawl: every source is disabled in the configuration".into()));
            }
        }
        info.sources = list.iter().map(|s| s.id().label()).collect();
        Ok((info, list, seeds))
    }
}

/// What a plan will crawl, found by [`CrawlPlan::check`].
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct PlanInfo {
    /// The labels of the sources crawled.
    pub sources: Vec<String>,
    /// The digest seeding it, if any.
    pub digest: Option<DigestInfo>,
}

/// A digest seeding a crawl.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DigestInfo {
    /// Its file name.
    pub name: String,
    /// Its items.
    pub items: usize,
    /// The pages its items link, to fetch.
    pub linked_pages: usize,
}

/// Runs one crawl of `plan`; `shutdown` turning true ends it at a commit
/// boundary (the next crawl resumes it). Fails at once with
/// [`Error::Busy`] when another crawl holds the data directory.
pub async fn crawl(plan: &CrawlPlan, shutdown: Option<tokio::sync::watch::Receiver<bool>>) -> Result<Summary> {
    crawl_with_progress(plan, shutdown, |_| {}).await
}

/// [`crawl`], calling `progress` after each URL.
pub async fn crawl_with_progress(
    plan: &CrawlPlan,
    shutdown: Option<tokio::sync::watch::Receiver<bool>>,
    progress: impl Fn(&Progress) + Send + Sync + 'static,
) -> Result<Summary> {
    let (_, sources, seeds) = plan.resolve()?;
    let store = NoticeStore::open(&plan.data_dir)?;
    let mut engine = Engine::new(plan.config.clone(), sources, store)
        .with_seed_notices(seeds)
        .since(plan.since)
        .on_progress(progress);
    if let Some(stop) = shutdown {
        engine = engine.stop_on(stop);
    }
    engine.run().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_are_checked_before_anything_is_opened() {
        let dir = tempfile::tempdir().unwrap();
        let plan = CrawlPlan { sources: vec!["who".into()], ..CrawlPlan::new(dir.path()) };
        let err = plan.check().unwrap_err();
        assert!(err.is_user_error() && err.to_string().contains("nmpa"), "{err}");
        let plan = CrawlPlan {
            digest: Some(DigestSeed { name: "d.txt".into(), text: "nothing here".into() }),
            ..CrawlPlan::new(dir.path())
        };
        assert!(plan.check().unwrap_err().is_user_error());
        let info = CrawlPlan::new(dir.path()).check().unwrap();
        assert_eq!(info.sources, ["CNIPA", "CDE", "NMPA", "FDA", "ECA"]);
        assert!(std::fs::read_dir(dir.path()).unwrap().next().is_none(), "nothing created");
    }
}
