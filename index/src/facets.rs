//! Facet counts by source and by month over every match, in one pass.
//!
//! Tantivy's `FacetCollector` turns every collected ordinal back into its
//! facet text on every segment and query (an sstable scan per ordinal);
//! with ~180 months in an index that was a third of a broad query's time,
//! and reading two fast columns per match still cost ~18 ns a document
//! (profiles in BENCHMARKS.md). Segments never change once written, so each
//! gets a [`SegmentTable`] once, the first time a search sees it: a source
//! number and a month number per document, in two plain arrays. Counting a
//! match is then two array reads. The number of matches is the sum of the
//! source counts (every notice has exactly one source), so no separate
//! `Count` collector walks the matches again.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::index::SegmentId;
use tantivy::schema::Facet;
use tantivy::{DocId, Score, Searcher, SegmentOrdinal, SegmentReader};

use crate::schema;

/// Seconds in a day: `published` holds midnight UTC of the date.
const DAY: i64 = 86_400;

/// Counts of one search: total, per source label, per month.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FacetCounts {
    /// Number of matching notices.
    pub total: u64,
    /// Count per source label (`CNIPA`, `other/<host>` ...).
    pub source: BTreeMap<String, u64>,
    /// Count per month, as `year * 12 + month0`; undated ones are in `undated`.
    pub month: BTreeMap<i32, u64>,
    /// Matches without a publication date.
    pub undated: u64,
}

impl FacetCounts {
    /// Month labels (`YYYY-MM`, or [`schema::UNDATED`]) with their counts.
    pub fn month_labels(&self) -> BTreeMap<String, u64> {
        let mut out: BTreeMap<String, u64> = self
            .month
            .iter()
            .map(|(&m, &n)| (format!("{:04}-{:02}", m.div_euclid(12), m.rem_euclid(12) + 1), n))
            .collect();
        if self.undated > 0 {
            out.insert(schema::UNDATED.to_string(), self.undated);
        }
        out
    }
}

/// Source and month of every document of one segment.
#[derive(Debug)]
pub struct SegmentTable {
    /// Index into `labels` per document.
    source: Vec<u16>,
    /// Source labels of the segment.
    labels: Vec<String>,
    /// Per document: 0 for undated, else `month - first_month + 1`.
    month: Vec<u16>,
    /// Month number (`year * 12 + month0`) of month slot 1.
    first_month: i32,
    /// Number of month slots, undated included.
    month_slots: usize,
}

impl SegmentTable {
    /// Reads the segment's source facet and `published` columns once.
    fn build(reader: &SegmentReader) -> tantivy::Result<SegmentTable> {
        let max_doc = reader.max_doc() as usize;
        let mut labels = Vec::new();
        let mut source = vec![0u16; max_doc];
        if let Some(col) = reader.fast_fields().str(schema::SOURCE)? {
            let facets = reader.facet_reader(schema::SOURCE)?;
            // More distinct hosts than a u16 holds cannot happen in practice;
            // the rest would share the last label rather than panic.
            let n = facets.num_facets().min(u16::MAX as usize);
            let mut facet = Facet::root();
            for ord in 0..n {
                facets.facet_from_ord(ord as u64, &mut facet)?;
                labels.push(facet.to_path().first().map(|s| s.to_string()).unwrap_or_default());
            }
            let ords = col.ords();
            for (doc, slot) in source.iter_mut().enumerate() {
                if let Some(ord) = ords.first(doc as DocId) {
                    *slot = (ord as usize).min(n.saturating_sub(1)) as u16;
                }
            }
        }
        if labels.is_empty() {
            labels.push(String::new());
        }
        let mut month = vec![0u16; max_doc];
        let mut first_month = 0;
        let mut month_slots = 1;
        if let Some(col) = reader.fast_fields().column_opt::<tantivy::DateTime>(schema::PUBLISHED)?
            && col.num_docs() > 0
            && col.get_cardinality() != tantivy::columnar::Cardinality::Multivalued
        {
            let (lo, hi) = (month_of(col.min_value()), month_of(col.max_value()));
            // Dates spread over more than five thousand years are not
            // notices anyone publishes: such a segment counts as undated.
            if (0..i32::from(u16::MAX) - 1).contains(&(hi - lo)) {
                first_month = lo;
                month_slots = (hi - lo + 2) as usize;
                for (doc, slot) in month.iter_mut().enumerate() {
                    if let Some(d) = col.first(doc as DocId) {
                        *slot = (month_of(d) - lo + 1) as u16;
                    }
                }
            }
        }
        Ok(SegmentTable { source, labels, month, first_month, month_slots })
    }
}

/// The tables of the segments searched lately, by segment id.
#[derive(Debug, Clone, Default)]
pub struct TableCache {
    tables: Arc<Mutex<HashMap<SegmentId, Arc<SegmentTable>>>>,
}

impl TableCache {
    /// A collector for `searcher`'s segments, building the tables of new
    /// segments and forgetting those of merged-away ones.
    pub fn counter(&self, searcher: &Searcher) -> tantivy::Result<FacetCounter> {
        let readers = searcher.segment_readers();
        let mut tables = self.tables.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if tables.len() > readers.len() * 2 + 8 {
            let live: std::collections::HashSet<SegmentId> = readers.iter().map(|r| r.segment_id()).collect();
            tables.retain(|id, _| live.contains(id));
        }
        let mut out = Vec::with_capacity(readers.len());
        for reader in readers {
            let table = match tables.get(&reader.segment_id()) {
                Some(t) => t.clone(),
                None => {
                    let t = Arc::new(SegmentTable::build(reader)?);
                    tables.insert(reader.segment_id(), t.clone());
                    t
                }
            };
            out.push(table);
        }
        Ok(FacetCounter { tables: out })
    }
}

/// The collector: needs no scores, so Tantivy feeds it blocks of documents.
#[derive(Debug, Clone)]
pub struct FacetCounter {
    /// One table per segment of the searcher, in segment order.
    tables: Vec<Arc<SegmentTable>>,
}

/// Per-segment state of [`FacetCounter`].
pub struct SegmentFacetCounter {
    table: Arc<SegmentTable>,
    by_source: Vec<u64>,
    by_month: Vec<u64>,
}

impl Collector for FacetCounter {
    type Fruit = FacetCounts;
    type Child = SegmentFacetCounter;

    fn for_segment(&self, ord: SegmentOrdinal, reader: &SegmentReader) -> tantivy::Result<SegmentFacetCounter> {
        let table = match self.tables.get(ord as usize) {
            Some(t) if t.source.len() == reader.max_doc() as usize => t.clone(),
            // Not the searcher the counter was made for: build it here.
            _ => Arc::new(SegmentTable::build(reader)?),
        };
        Ok(SegmentFacetCounter { by_source: vec![0; table.labels.len()], by_month: vec![0; table.month_slots], table })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<FacetCounts>) -> tantivy::Result<FacetCounts> {
        let mut all = FacetCounts::default();
        for f in fruits {
            all.total += f.total;
            all.undated += f.undated;
            for (k, n) in f.source {
                *all.source.entry(k).or_default() += n;
            }
            for (k, n) in f.month {
                *all.month.entry(k).or_default() += n;
            }
        }
        Ok(all)
    }
}

impl SegmentCollector for SegmentFacetCounter {
    type Fruit = FacetCounts;

    #[inline]
    fn collect(&mut self, doc: DocId, _: Score) {
        let doc = doc as usize;
        // Slots come from the table itself, so they are in range; `get`
        // keeps a corrupt segment from panicking all the same.
        if let Some(n) = self.table.source.get(doc).and_then(|&s| self.by_source.get_mut(usize::from(s))) {
            *n += 1;
        }
        if let Some(n) = self.table.month.get(doc).and_then(|&m| self.by_month.get_mut(usize::from(m))) {
            *n += 1;
        }
    }

    fn collect_block(&mut self, docs: &[DocId]) {
        for &doc in docs {
            self.collect(doc, 0.0);
        }
    }

    fn harvest(self) -> FacetCounts {
        let mut out = FacetCounts { undated: self.by_month.first().copied().unwrap_or(0), ..FacetCounts::default() };
        for (label, &n) in self.table.labels.iter().zip(&self.by_source) {
            if n > 0 {
                *out.source.entry(label.clone()).or_default() += n;
                out.total += n;
            }
        }
        for (i, &n) in self.by_month.iter().enumerate().skip(1) {
            if n > 0 {
                out.month.insert(self.table.first_month + i as i32 - 1, n);
            }
        }
        out
    }
}

/// Days since the epoch of a timestamp.
#[inline]
fn day_of(d: tantivy::DateTime) -> i64 {
    d.into_timestamp_secs().div_euclid(DAY)
}

/// `year * 12 + month0` of a timestamp.
fn month_of(d: tantivy::DateTime) -> i32 {
    month_of_day_number(day_of(d))
}

/// `year * 12 + month0` of a day number, by Howard Hinnant's
/// days-to-civil arithmetic.
fn month_of_day_number(days: i64) -> i32 {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let month0 = if mp < 10 { mp + 2 } else { mp - 10 };
    let year = yoe + era * 400 + i64::from(month0 < 2);
    (year * 12 + month0) as i32
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Datelike, NaiveDate};

    #[test]
    fn month_arithmetic_matches_chrono() {
        let mut d = NaiveDate::from_ymd_opt(1899, 12, 1).unwrap();
        let end = NaiveDate::from_ymd_opt(2101, 3, 1).unwrap();
        while d < end {
            let m = month_of(crate::writer::date_value(d));
            assert_eq!(m, d.year() * 12 + d.month0() as i32, "{d}");
            d = d.succ_opt().unwrap();
        }
    }

    #[test]
    fn labels_are_year_month() {
        let counts = FacetCounts {
            month: [(2020 * 12 + 4, 3), (2019 * 12 + 11, 1)].into_iter().collect(),
            undated: 2,
            ..Default::default()
        };
        let labels: Vec<(String, u64)> = counts.month_labels().into_iter().collect();
        assert_eq!(labels, [("2019-12".to_string(), 1), ("2020-05".to_string(), 3), ("undated".to_string(), 2)]);
    }
}
