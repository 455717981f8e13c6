//! A bounded cache of search results for the server.
//!
//! Keyed on the normalised request (query text with white space folded,
//! filters in a canonical order, sort, page), so `a  b` and `a b`, or
//! `source=CDE,NMPA` and `source=NMPA,CDE`, share an entry. Every entry
//! belongs to one generation of the index ([`NoticeIndex::generation`]: its
//! segments and deletes), which every commit the reader loads changes (also
//! one made by another process); the first lookup that sees a new
//! generation empties the cache, so a cached answer never outlives the
//! commit it was computed on. Memory is
//! bounded by an estimate of each answer's size; when full, the least
//! recently used entries go first.
//!
//! The cache is an option of the server (`notices serve --no-cache` turns
//! it off; the benchmarks measure both): a repeated query is answered
//! without touching the index, a new one pays one map lookup.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Instant;

use crate::error::Result;
use crate::search::{SearchRequest, SearchResults};
use crate::store::NoticeIndex;

/// Default memory budget: 32 MiB (a page of ten hits is ~10–20 KB).
pub const DEFAULT_BUDGET_BYTES: usize = 32 * 1024 * 1024;

/// Share of the entries dropped at once when the budget is exceeded, so
/// eviction (a scan for the oldest) is paid once per many insertions.
const EVICT_DIVISOR: usize = 8;

/// Hits, misses and size of a [`ResultCache`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Answers served from the cache.
    pub hits: u64,
    /// Searches run because no answer was cached.
    pub misses: u64,
    /// Entries now.
    pub entries: usize,
    /// Estimated bytes of the entries now.
    pub bytes: usize,
}

#[derive(Debug)]
struct Entry {
    results: SearchResults,
    bytes: usize,
    last_used: u64,
}

#[derive(Debug, Default)]
struct Inner {
    /// Searcher generation the entries belong to.
    generation: Option<u64>,
    entries: HashMap<String, Entry>,
    bytes: usize,
    clock: u64,
    hits: u64,
    misses: u64,
}

/// A result cache; see the module documentation. Shared by reference
/// (wrap it in an `Arc`); all methods take `&self`.
#[derive(Debug)]
pub struct ResultCache {
    inner: Mutex<Inner>,
    budget: usize,
}

impl Default for ResultCache {
    fn default() -> Self {
        ResultCache::new(DEFAULT_BUDGET_BYTES)
    }
}

impl ResultCache {
    /// An empty cache holding at most about `budget` bytes of answers.
    pub fn new(budget: usize) -> ResultCache {
        ResultCache { inner: Mutex::new(Inner::default()), budget }
    }

    /// Counters and size.
    pub fn stats(&self) -> CacheStats {
        let inner = self.lock();
        CacheStats { hits: inner.hits, misses: inner.misses, entries: inner.entries.len(), bytes: inner.bytes }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves a consistent map (every
        // update is a single insert or remove); keep using it.
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The answer to `req` on `index`: from the cache when it holds one for
    /// the index's current generation, else searched and remembered.
    /// Errors are not cached.
    pub fn search(&self, index: &NoticeIndex, req: &SearchRequest) -> Result<SearchResults> {
        let started = Instant::now();
        let key = cache_key(req);
        let generation = index.generation();
        {
            let mut inner = self.lock();
            if inner.generation != Some(generation) {
                // A commit was loaded since: everything cached is stale.
                inner.entries.clear();
                inner.bytes = 0;
                inner.generation = Some(generation);
            }
            inner.clock += 1;
            let now = inner.clock;
            if let Some(entry) = inner.entries.get_mut(&key) {
                entry.last_used = now;
                let mut results = entry.results.clone();
                inner.hits += 1;
                drop(inner);
                results.query = req.query.clone();
                results.took_ms = (started.elapsed().as_secs_f64() * 1e6).round() / 1e3;
                return Ok(results);
            }
            inner.misses += 1;
        }
        let results = index.search(req)?;
        let bytes = estimate_bytes(&results) + key.len();
        if bytes > self.budget / 4 {
            // One answer should not push out most others.
            return Ok(results);
        }
        let mut inner = self.lock();
        // Only store what was computed on the generation the entries are
        // for: a reload during the search makes this answer newer than the
        // rest, and the next lookup empties the cache anyway.
        if inner.generation == Some(generation) && index.generation() == generation {
            inner.clock += 1;
            let last_used = inner.clock;
            if let Some(old) = inner.entries.insert(key, Entry { results: results.clone(), bytes, last_used }) {
                inner.bytes -= old.bytes;
            }
            inner.bytes += bytes;
            if inner.bytes > self.budget {
                evict(&mut inner, self.budget);
            }
        }
        Ok(results)
    }
}

/// Drops the least recently used entries until the cache is under budget,
/// and at least an eighth of them.
fn evict(inner: &mut Inner, budget: usize) {
    let mut ages: Vec<(u64, usize)> = inner.entries.values().map(|e| (e.last_used, e.bytes)).collect();
    ages.sort_unstable();
    let at_least = inner.entries.len().div_ceil(EVICT_DIVISOR);
    let (mut dropped, mut freed) = (0, 0);
    let mut cutoff = 0;
    for (last_used, bytes) in ages {
        if dropped >= at_least && inner.bytes - freed <= budget {
            break;
        }
        dropped += 1;
        freed += bytes;
        cutoff = last_used;
    }
    inner.entries.retain(|_, e| e.last_used > cutoff);
    inner.bytes = inner.entries.values().map(|e| e.bytes).sum();
}

/// The normalised request: equal for requests that must get the same
/// answer. The query text keeps its case (`OR` is an operator, `or` a
/// word) but not its runs of white space.
pub fn cache_key(req: &SearchRequest) -> String {
    let mut key = String::with_capacity(req.query.len() + 64);
    for (i, word) in req.query.split_whitespace().enumerate() {
        if i > 0 {
            key.push(' ');
        }
        key.push_str(word);
    }
    key.push('\u{0}');
    let mut sources: Vec<String> = req.sources.iter().map(|s| s.label()).collect();
    sources.sort_unstable();
    sources.dedup();
    let mut types: Vec<&str> = req.doc_types.iter().map(|t| t.id()).collect();
    types.sort_unstable();
    types.dedup();
    // `write!` to a String cannot fail.
    let _ = write!(
        key,
        "{sources:?}|{:?}|{:?}|{:?}|{}|{}|{}|{:?}|{}|{types:?}|{:?}|{:?}",
        req.since,
        req.until,
        req.sort,
        req.limit,
        req.offset,
        req.include_withdrawn,
        req.seen_since,
        req.exact,
        req.status.map(|s| s.id()),
        req.comments_open,
    );
    key
}

/// Rough heap size of an answer: its strings plus a fixed cost per item.
fn estimate_bytes(r: &SearchResults) -> usize {
    const ITEM: usize = 64;
    let hits: usize = r
        .hits
        .iter()
        .map(|h| {
            h.id.len()
                + h.title.len()
                + h.source.len()
                + h.doc_numbers.iter().map(|d| d.len() + ITEM).sum::<usize>()
                + h.url.as_ref().map_or(0, String::len)
                + h.agency.as_ref().map_or(0, String::len)
                + h.attachments.len() * 4 * ITEM
                + h.snippet.len()
                + h.highlights.len() * 16
                + h.snippet_html.len()
                + h.title_html.len()
                + 4 * ITEM
        })
        .sum();
    let facets = &r.facets;
    let facet_entries = facets.source.len() + facets.month.len() + facets.doc_type.len() + facets.status.len();
    let expanded: usize =
        r.expanded.iter().map(|(k, v)| k.len() + v.iter().map(|s| s.len() + ITEM).sum::<usize>()).sum();
    std::mem::size_of::<SearchResults>() + r.query.len() + hits + facet_entries * (ITEM + 16) + expanded
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Notice, Source};

    fn index_with(n: usize) -> NoticeIndex {
        let index = NoticeIndex::in_memory().unwrap();
        let mut w = index.writer(1).unwrap();
        for i in 0..n {
            let notice = Notice::crawled(
                if i % 2 == 0 { Source::Nmpa } else { Source::Cde },
                &format!("https://example.org/{i}"),
                format!("关于仿制药一致性评价的通知 {i}"),
                "仿制药质量和疗效一致性评价工作。",
            );
            w.upsert(&notice).unwrap();
        }
        w.commit("test").unwrap();
        index.reload().unwrap();
        index
    }

    #[test]
    fn equivalent_requests_share_a_key_and_different_ones_do_not() {
        let mut a = SearchRequest::new("  一致性评价   仿制药 ");
        a.sources = vec![Source::Nmpa, Source::Cde];
        let mut b = SearchRequest::new("一致性评价 仿制药");
        b.sources = vec![Source::Cde, Source::Nmpa, Source::Cde];
        assert_eq!(cache_key(&a), cache_key(&b));
        let mut c = b.clone();
        c.offset = 10;
        assert_ne!(cache_key(&b), cache_key(&c));
        let mut d = b.clone();
        d.sort = crate::Sort::Newest;
        assert_ne!(cache_key(&b), cache_key(&d));
        let mut e = b.clone();
        e.exact = true;
        assert_ne!(cache_key(&b), cache_key(&e));
        assert_ne!(cache_key(&SearchRequest::new("a OR b")), cache_key(&SearchRequest::new("a or b")));
        assert_ne!(cache_key(&SearchRequest::new("ab")), cache_key(&SearchRequest::new("a b")));
    }

    #[test]
    fn a_repeated_search_is_a_hit_with_the_same_answer() {
        let index = index_with(5);
        let cache = ResultCache::default();
        let req = SearchRequest::new("一致性评价");
        let first = cache.search(&index, &req).unwrap();
        let again = cache.search(&index, &SearchRequest::new(" 一致性评价")).unwrap();
        assert_eq!(first.total, 5);
        assert_eq!((again.total, &again.hits, &again.facets), (first.total, &first.hits, &first.facets));
        assert_eq!(again.query, " 一致性评价", "the query is echoed as given");
        let s = cache.stats();
        assert_eq!((s.hits, s.misses, s.entries), (1, 1, 1));
    }

    #[test]
    fn a_commit_invalidates_every_entry() {
        let index = index_with(3);
        let cache = ResultCache::default();
        let req = SearchRequest::new("仿制药");
        assert_eq!(cache.search(&index, &req).unwrap().total, 3);
        let mut w = index.writer(1).unwrap();
        w.upsert(&Notice::crawled(Source::Nmpa, "https://example.org/new", "仿制药通知", "仿制药")).unwrap();
        w.commit("test").unwrap();
        index.reload().unwrap();
        assert_eq!(cache.search(&index, &req).unwrap().total, 4, "not the stale answer");
        assert_eq!(cache.stats().hits, 0);
        assert_eq!(cache.stats().entries, 1);
    }

    #[test]
    fn memory_stays_within_the_budget() {
        let index = index_with(20);
        let page = |offset| SearchRequest { offset, limit: 5, ..SearchRequest::new("仿制药") };
        let one = estimate_bytes(&index.search(&page(0)).unwrap());
        let budget = one * 6;
        let cache = ResultCache::new(budget);
        for offset in 0..15 {
            cache.search(&index, &page(offset)).unwrap();
            assert!(cache.stats().bytes <= budget, "{:?} > {budget}", cache.stats());
        }
        let s = cache.stats();
        assert!(s.entries < 15 && s.entries > 0, "{s:?}");
        // The most recent answer is still there.
        cache.search(&index, &page(14)).unwrap();
        assert_eq!(cache.stats().hits, 1);
    }
}
