//! Facet counts by source, month, document type and status over every
//! match, in one pass.
//!
//! Tantivy's `FacetCollector` turns every collected ordinal back into its
//! facet text on every segment and query (an sstable scan per ordinal);
//! with ~180 months in an index that was a third of a broad query's time,
//! and reading two fast columns per match still costs ~18 ns a document
//! (profiles in BENCHMARKS.md). Here months come from the `published` fast
//! column by arithmetic, and since segments never change once written, a
//! segment searched again (or broadly once) gets a table: a source, month,
//! type and status slot per document, in plain arrays, so counting a match
//! is array reads. The table is built from the facet fields' posting lists,
//! which hold the same values at a seventh of the cost of the columns.
//! The number of matches is the sum of the source counts (every notice has
//! exactly one source), so no separate `Count` collector walks them again.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::Column;
use tantivy::index::SegmentId;
use tantivy::schema::{Facet, IndexRecordOption};
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
    /// Count per month from `first_month` on, one slot a month, zeros
    /// included: a segment's counters are already laid out so, and merging
    /// or labelling ~200 months through a map per segment was 12 % of a
    /// search's instructions under the mixed load (BENCHMARKS.md §13).
    months: Vec<u64>,
    /// Month number (`year * 12 + month0`) of `months[0]`.
    first_month: i32,
    /// Matches without a publication date.
    pub undated: u64,
    /// Count per document type id; notices without one under [`schema::UNKNOWN`].
    pub doc_type: BTreeMap<String, u64>,
    /// Count per status (`draft`, `final`); notices without one under [`schema::UNKNOWN`].
    pub status: BTreeMap<String, u64>,
}

impl FacetCounts {
    /// Months with a match, as (`year * 12 + month0`, count), oldest first.
    pub fn months(&self) -> impl Iterator<Item = (i32, u64)> + '_ {
        (self.first_month..).zip(self.months.iter().copied()).filter(|&(_, n)| n > 0)
    }

    /// Adds `counts`, one per month from `first` on.
    fn add_months(&mut self, first: i32, counts: impl ExactSizeIterator<Item = u64>) {
        let len = counts.len();
        if len == 0 {
            return;
        }
        if self.months.is_empty() {
            self.first_month = first;
        }
        // Widen the dense range to cover both, then add in place.
        let lo = self.first_month.min(first);
        let hi = (self.first_month + self.months.len() as i32).max(first + len as i32);
        if lo < self.first_month {
            let grow = (self.first_month - lo) as usize;
            self.months.splice(0..0, std::iter::repeat_n(0, grow));
            self.first_month = lo;
        }
        self.months.resize((hi - lo) as usize, 0);
        let at = (first - lo) as usize;
        for (slot, n) in self.months[at..at + len].iter_mut().zip(counts) {
            *slot += n;
        }
    }

    /// Month labels (`YYYY-MM`, or [`schema::UNDATED`]) with their counts.
    pub fn month_labels(&self) -> BTreeMap<String, u64> {
        // Sorted input, so `collect` builds the map in one pass; `UNDATED`
        // sorts after every digit.
        self.months()
            .map(|(m, n)| (month_label(m), n))
            .chain((self.undated > 0).then(|| (schema::UNDATED.to_string(), self.undated)))
            .collect()
    }
}

/// `YYYY-MM` of a month number, without the formatting machinery (it was
/// most of the labelling's cost).
fn month_label(m: i32) -> String {
    let (year, month) = (m.div_euclid(12), m.rem_euclid(12) + 1);
    if !(0..=9999).contains(&year) {
        return format!("{year:04}-{month:02}");
    }
    let digit = |n: i32| char::from(b'0' + n as u8);
    let mut s = String::with_capacity(7);
    for d in [year / 1000, year / 100 % 10, year / 10 % 10, year % 10] {
        s.push(digit(d));
    }
    s.push('-');
    s.push(digit(month / 10));
    s.push(digit(month % 10));
    s
}

/// A facet field's ordinals and labels in one segment. Slot 0 is "no
/// value", slot `ord + 1` is `labels[ord]`.
#[derive(Debug, Clone, Default)]
struct FacetColumn {
    ords: Option<Column<u64>>,
    labels: Vec<String>,
}

impl FacetColumn {
    fn open(reader: &SegmentReader, field: &str) -> tantivy::Result<FacetColumn> {
        let Some(col) = reader.fast_fields().str(field)? else { return Ok(FacetColumn::default()) };
        let facets = reader.facet_reader(field)?;
        // More distinct values than a u16 holds cannot happen in practice;
        // the rest would share the last label, not panic.
        let n = facets.num_facets().min(u16::MAX as usize - 1);
        let mut labels = Vec::with_capacity(n);
        let mut facet = Facet::root();
        for ord in 0..n {
            facets.facet_from_ord(ord as u64, &mut facet)?;
            labels.push(facet.to_path().first().map(|s| s.to_string()).unwrap_or_default());
        }
        Ok(FacetColumn { ords: Some(col.ords().clone()), labels })
    }

    /// Number of slots, "no value" included.
    fn slots(&self) -> usize {
        self.labels.len() + 1
    }

    #[inline]
    fn slot(&self, doc: DocId) -> u16 {
        match self.ords.as_ref().and_then(|c| c.first(doc)) {
            Some(ord) if !self.labels.is_empty() => (ord as usize).min(self.labels.len() - 1) as u16 + 1,
            _ => 0,
        }
    }

    /// Adds per-slot counts to `out` by label, "no value" as [`schema::UNKNOWN`].
    fn harvest(&self, counts: &[u64], out: &mut BTreeMap<String, u64>) {
        for (slot, &n) in counts.iter().enumerate().filter(|(_, n)| **n > 0) {
            let label = if slot == 0 { schema::UNKNOWN } else { self.labels[slot - 1].as_str() };
            *out.entry(label.to_string()).or_default() += n;
        }
    }
}

/// A segment's source, month, type and status columns, read per document.
#[derive(Debug, Clone)]
struct SegmentColumns {
    /// Source ordinal per document.
    source_ords: Option<Column<u64>>,
    /// Source labels by ordinal (at least one).
    labels: Vec<String>,
    /// Publication dates; `None` when the segment counts as undated.
    published: Option<Column<tantivy::DateTime>>,
    /// Month number (`year * 12 + month0`) of month slot 1.
    first_month: i32,
    /// Number of month slots, slot 0 (undated) included.
    month_slots: usize,
    /// Document types.
    doc_type: FacetColumn,
    /// Statuses.
    status: FacetColumn,
}

impl SegmentColumns {
    fn open(reader: &SegmentReader) -> tantivy::Result<SegmentColumns> {
        let mut labels = Vec::new();
        let source_ords = match reader.fast_fields().str(schema::SOURCE)? {
            Some(col) => {
                let facets = reader.facet_reader(schema::SOURCE)?;
                // More distinct hosts than a u16 holds cannot happen in
                // practice; the rest would share the last label, not panic.
                let n = facets.num_facets().min(u16::MAX as usize);
                let mut facet = Facet::root();
                for ord in 0..n {
                    facets.facet_from_ord(ord as u64, &mut facet)?;
                    labels.push(facet.to_path().first().map(|s| s.to_string()).unwrap_or_default());
                }
                Some(col.ords().clone())
            }
            None => None,
        };
        if labels.is_empty() {
            labels.push(String::new());
        }
        let mut out = SegmentColumns {
            source_ords,
            labels,
            published: None,
            first_month: 0,
            month_slots: 1,
            doc_type: FacetColumn::open(reader, schema::DOC_TYPE)?,
            status: FacetColumn::open(reader, schema::STATUS)?,
        };
        if let Some(col) = reader.fast_fields().column_opt::<tantivy::DateTime>(schema::PUBLISHED)?
            && col.num_docs() > 0
        {
            let (lo, hi) = (month_of(col.min_value()), month_of(col.max_value()));
            // Dates spread over more than five thousand years are not
            // notices anyone publishes: such a segment counts as undated.
            if (0..i32::from(u16::MAX) - 1).contains(&(hi - lo)) {
                out.first_month = lo;
                out.month_slots = (hi - lo + 2) as usize;
                out.published = Some(col);
            }
        }
        Ok(out)
    }

    #[inline]
    fn source_slot(&self, doc: DocId) -> u16 {
        let last = self.labels.len() - 1;
        self.source_ords.as_ref().and_then(|c| c.first(doc)).map_or(0, |ord| (ord as usize).min(last) as u16)
    }

    /// Type and status slots packed as in [`SegmentTable::kind`].
    #[inline]
    fn kind_slot(&self, doc: DocId) -> u16 {
        let t = self.doc_type.slot(doc).min(u8::MAX as u16);
        let s = self.status.slot(doc).min(u8::MAX as u16);
        t | (s << 8)
    }

    /// Where each facet's counters start in the one counter array of a
    /// segment: sources, months, types, statuses.
    fn layout(&self) -> Layout {
        let (sources, months) = (self.labels.len(), self.month_slots);
        let types = self.doc_type.slots().min(256);
        let statuses = self.status.slots().min(256);
        Layout {
            month: sources,
            doc_type: sources + months,
            status: sources + months + types,
            len: sources + months + types + statuses,
        }
    }

    /// The four counter indices of `doc` (see [`Layout`]).
    #[inline]
    fn counters(&self, layout: &Layout, doc: DocId) -> [usize; 4] {
        let kind = self.kind_slot(doc);
        [
            usize::from(self.source_slot(doc)),
            layout.month + usize::from(self.month_slot(doc)),
            layout.doc_type + usize::from(kind & 0xff),
            layout.status + usize::from(kind >> 8),
        ]
    }

    #[inline]
    fn month_slot(&self, doc: DocId) -> u16 {
        match self.published.as_ref().and_then(|c| c.first(doc)) {
            Some(d) => (month_of(d) - self.first_month + 1).clamp(0, self.month_slots as i32 - 1) as u16,
            None => 0,
        }
    }
}

/// Offsets of each facet's counters in a segment's one counter array.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Layout {
    month: usize,
    doc_type: usize,
    status: usize,
    len: usize,
}

/// The four counter indices (source, month, type, status; see [`Layout`])
/// of every document of one segment, side by side: counting a match is one
/// 8-byte read and four increments of one small array. With three arrays
/// of slots, four counter arrays and the column path inlined beside it,
/// counting took ~130 instructions a match; now 32 (callgrind, BENCHMARKS.md
/// §12). A broad word's search is mostly this loop and the union's.
#[derive(Debug)]
struct SegmentTable {
    columns: SegmentColumns,
    layout: Layout,
    counters: Vec<[u16; 4]>,
}

impl SegmentTable {
    /// The table, or `None` when the counters do not fit a `u16` index
    /// (tens of thousands of distinct hosts or months in one segment:
    /// such a segment is counted from its columns).
    fn build(columns: SegmentColumns, max_doc: DocId) -> Option<SegmentTable> {
        let layout = columns.layout();
        if layout.len > usize::from(u16::MAX) {
            return None;
        }
        let counters = (0..max_doc).map(|d| columns.counters(&layout, d).map(|i| i as u16)).collect();
        Some(SegmentTable { columns, layout, counters })
    }

    /// The same table from the facet fields' posting lists: every document
    /// sits in one list per facet, and decoding lists block by block costs
    /// a few instructions a document where reading four columns cost ~470
    /// (BENCHMARKS.md §13). `None` when the lists do not agree with the
    /// columns' labels (then [`SegmentTable::build`] reads the columns).
    fn from_postings(columns: SegmentColumns, reader: &SegmentReader) -> tantivy::Result<Option<SegmentTable>> {
        let layout = columns.layout();
        if layout.len > usize::from(u16::MAX) {
            return Ok(None);
        }
        const UNSET: u16 = u16::MAX;
        let mut counters = vec![[UNSET; 4]; reader.max_doc() as usize];
        // Slot of a label per facet; a label the columns do not know means
        // the two disagree, and the columns are the reference.
        // (As the columns do: a type or status slot is `ord + 1`, at most 255.)
        let slots_of = |labels: &[String], first: usize, max: usize| -> HashMap<String, u16> {
            labels.iter().enumerate().map(|(i, l)| (l.clone(), (i + first).min(max) as u16)).collect()
        };
        let sources = slots_of(&columns.labels, 0, usize::from(u16::MAX));
        let types = slots_of(&columns.doc_type.labels, 1, usize::from(u8::MAX));
        let statuses = slots_of(&columns.status.labels, 1, usize::from(u8::MAX));
        let month_slot = |label: &str| -> Option<u16> {
            if label == schema::UNDATED {
                return Some(0);
            }
            let (y, m) = label.split_once('-')?;
            let month = y.parse::<i32>().ok()? * 12 + m.parse::<i32>().ok()? - 1;
            Some((month - columns.first_month + 1).clamp(0, columns.month_slots as i32 - 1) as u16)
        };
        let facets: [(&str, usize, u16, &SlotOf); 4] = [
            (schema::SOURCE, 0, 0, &|l| sources.get(l).copied()),
            (schema::MONTH, 1, layout.month as u16, &month_slot),
            (schema::DOC_TYPE, 2, layout.doc_type as u16, &|l| types.get(l).copied()),
            (schema::STATUS, 3, layout.status as u16, &|l| statuses.get(l).copied()),
        ];
        for (name, k, base, slot_of) in facets {
            let Ok(field) = reader.schema().get_field(name) else { return Ok(None) };
            let index = reader.inverted_index(field)?;
            let mut terms = index.terms().stream()?;
            while terms.advance() {
                let Ok(facet) = Facet::from_encoded(terms.key().to_vec()) else { return Ok(None) };
                // The root facet, which every document has.
                let Some(label) = facet.to_path().first().filter(|l| !l.is_empty()).map(|l| l.to_string()) else {
                    continue;
                };
                let Some(slot) = slot_of(&label) else { return Ok(None) };
                let mut postings = index.read_block_postings_from_terminfo(terms.value(), IndexRecordOption::Basic)?;
                while !postings.docs().is_empty() {
                    for &doc in postings.docs() {
                        // Terms come in ordinal order, so the first one
                        // kept is the column's first value.
                        if let Some(c) = counters.get_mut(doc as usize)
                            && c[k] == UNSET
                        {
                            c[k] = base + slot;
                        }
                    }
                    postings.advance();
                }
            }
        }
        for (doc, c) in counters.iter_mut().enumerate() {
            // No type or status is slot 0; a document missing from the
            // source or month lists (none should be) is read from the columns.
            if c[0] == UNSET || c[1] == UNSET {
                let read = columns.counters(&layout, doc as DocId);
                for k in [0, 1] {
                    if c[k] == UNSET {
                        c[k] = read[k] as u16;
                    }
                }
            }
            for (k, base) in [(2, layout.doc_type), (3, layout.status)] {
                if c[k] == UNSET {
                    c[k] = base as u16;
                }
            }
        }
        Ok(Some(SegmentTable { columns, layout, counters }))
    }

    /// The table from the posting lists, else from the columns.
    fn open(columns: SegmentColumns, reader: &SegmentReader) -> tantivy::Result<Option<SegmentTable>> {
        match SegmentTable::from_postings(columns.clone(), reader)? {
            Some(table) => Ok(Some(table)),
            None => Ok(SegmentTable::build(columns, reader.max_doc())),
        }
    }
}

/// A facet label's slot, for [`SegmentTable::from_postings`].
type SlotOf<'a> = dyn Fn(&str) -> Option<u16> + 'a;

/// How a segment's documents are looked up.
#[derive(Debug, Clone)]
enum Slots {
    /// Column reads per document (a segment searched for the first time).
    Columns(Box<SegmentColumns>),
    /// Array reads per document.
    Table(Arc<SegmentTable>),
}

impl Slots {
    fn columns(&self) -> &SegmentColumns {
        match self {
            Slots::Columns(c) => c,
            Slots::Table(t) => &t.columns,
        }
    }
}

/// Tables of the segments searched lately, by segment id. A segment gets
/// its table the second time it is searched, or during its first search
/// when that search is broad ([`Upgrade::worth_building`]): a selective
/// one-shot `notices search` reads a few documents' columns rather than
/// build a table (~65 instructions per document of the segment), a broad
/// one builds it as soon as that is cheaper.
#[derive(Debug, Clone, Default)]
pub struct TableCache {
    tables: Arc<Mutex<HashMap<SegmentId, Option<Arc<SegmentTable>>>>>,
}

impl TableCache {
    /// A collector for `searcher`'s segments, building the tables of
    /// segments seen before and forgetting those merged away.
    pub fn counter(&self, searcher: &Searcher) -> tantivy::Result<FacetCounter> {
        let readers = searcher.segment_readers();
        let mut tables = self.tables.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if tables.len() > readers.len() * 2 + 8 {
            let live: std::collections::HashSet<SegmentId> = readers.iter().map(|r| r.segment_id()).collect();
            tables.retain(|id, _| live.contains(id));
        }
        let mut segments = Vec::with_capacity(readers.len());
        for reader in readers {
            let slots = match tables.get(&reader.segment_id()) {
                Some(Some(table)) => Slots::Table(table.clone()),
                Some(None) => {
                    let columns = SegmentColumns::open(reader)?;
                    match SegmentTable::open(columns.clone(), reader)? {
                        Some(table) => {
                            let table = Arc::new(table);
                            tables.insert(reader.segment_id(), Some(table.clone()));
                            Slots::Table(table)
                        }
                        None => Slots::Columns(Box::new(columns)),
                    }
                }
                None => {
                    tables.insert(reader.segment_id(), None);
                    Slots::Columns(Box::new(SegmentColumns::open(reader)?))
                }
            };
            segments.push((reader.segment_id(), slots));
        }
        Ok(FacetCounter { segments, tables: self.tables.clone() })
    }
}

/// The collector: needs no scores, so Tantivy feeds it blocks of documents.
#[derive(Debug, Clone)]
pub struct FacetCounter {
    /// Per segment of the searcher it was made for, in segment order.
    segments: Vec<(SegmentId, Slots)>,
    /// The cache's tables, where a table built during a search goes.
    tables: Arc<Mutex<HashMap<SegmentId, Option<Arc<SegmentTable>>>>>,
}

/// Per-segment state of [`FacetCounter`].
pub struct SegmentFacetCounter {
    slots: Slots,
    layout: Layout,
    /// Counts per source, month, type and status slot, laid out by `layout`.
    counts: Vec<u32>,
    /// While counting from the columns: the segment, to build its table
    /// from when that is worth it ([`Upgrade::worth_building`]), and matches counted so far.
    upgrade: Option<Upgrade>,
}

/// See [`SegmentFacetCounter::upgrade`].
struct Upgrade {
    reader: SegmentReader,
    tables: Arc<Mutex<HashMap<SegmentId, Option<Arc<SegmentTable>>>>>,
    counted: u32,
}

impl Upgrade {
    /// Whether building the table now costs less than reading the columns
    /// of the matches still to come, as projected from the share of the
    /// segment's documents (in id order) matched so far. Reading four
    /// columns costs ~470 instructions a match, building the table from
    /// the posting lists ~65 per document of the segment (callgrind,
    /// BENCHMARKS.md §13): worth it when more than a seventh of the
    /// segment is still to match. Checked every 256 matches.
    fn worth_building(&self, doc: DocId) -> bool {
        if self.counted < SegmentFacetCounter::SWITCH || !self.counted.is_multiple_of(256) {
            return false;
        }
        let max_doc = u64::from(self.reader.max_doc());
        let projected = u64::from(self.counted) * max_doc / (u64::from(doc) + 1);
        projected.saturating_sub(u64::from(self.counted)) * 7 > max_doc
    }
}

impl Collector for FacetCounter {
    type Fruit = FacetCounts;
    type Child = SegmentFacetCounter;

    fn for_segment(&self, ord: SegmentOrdinal, reader: &SegmentReader) -> tantivy::Result<SegmentFacetCounter> {
        let slots = match self.segments.get(ord as usize) {
            Some((id, slots)) if *id == reader.segment_id() => slots.clone(),
            // Not the searcher the counter was made for: read the columns.
            _ => Slots::Columns(Box::new(SegmentColumns::open(reader)?)),
        };
        let (layout, upgrade) = match &slots {
            Slots::Table(t) => (t.layout, None),
            Slots::Columns(c) => {
                let upgrade = Upgrade { reader: reader.clone(), tables: self.tables.clone(), counted: 0 };
                (c.layout(), Some(upgrade))
            }
        };
        Ok(SegmentFacetCounter { counts: vec![0; layout.len], layout, slots, upgrade })
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
            all.add_months(f.first_month, f.months.into_iter());
            for (k, n) in f.doc_type {
                *all.doc_type.entry(k).or_default() += n;
            }
            for (k, n) in f.status {
                *all.status.entry(k).or_default() += n;
            }
        }
        Ok(all)
    }
}

impl SegmentFacetCounter {
    /// Fewest documents counted from the columns before the table may be
    /// built ([`Upgrade::worth_building`]): a projection from fewer is noise.
    const SWITCH: u32 = 512;

    /// Counts `doc` from the columns (a segment's first search). Kept out
    /// of line: inlined, it made every table count save registers.
    #[inline(never)]
    fn collect_from_columns(&mut self, doc: DocId) {
        if let Some(up) = &mut self.upgrade {
            up.counted += 1;
            if up.worth_building(doc) {
                let up = self.upgrade.take().expect("just matched");
                if let Some(table) = self.build_table(&up) {
                    self.slots = Slots::Table(table);
                    return self.collect(doc, 0.0);
                }
            }
        }
        if let Slots::Columns(c) = &self.slots {
            for i in c.counters(&self.layout, doc) {
                if let Some(n) = self.counts.get_mut(i) {
                    *n += 1;
                }
            }
        }
    }
}

impl SegmentFacetCounter {
    /// Builds this segment's table halfway through a search and hands it
    /// to the cache; `None` (keep reading columns) if it cannot be built
    /// with the layout counted so far.
    fn build_table(&self, up: &Upgrade) -> Option<Arc<SegmentTable>> {
        let columns = self.slots.columns().clone();
        let table = Arc::new(SegmentTable::open(columns, &up.reader).ok()??);
        if table.layout != self.layout {
            return None;
        }
        let mut tables = up.tables.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        tables.insert(up.reader.segment_id(), Some(table.clone()));
        Some(table)
    }
}

impl SegmentCollector for SegmentFacetCounter {
    type Fruit = FacetCounts;

    #[inline]
    fn collect(&mut self, doc: DocId, _: Score) {
        let Slots::Table(t) = &self.slots else { return self.collect_from_columns(doc) };
        // Indices come from the table itself, so they are in range; `get`
        // keeps a corrupt segment from panicking all the same.
        if let Some(indices) = t.counters.get(doc as usize) {
            for &i in indices {
                if let Some(n) = self.counts.get_mut(usize::from(i)) {
                    *n += 1;
                }
            }
        }
    }

    fn collect_block(&mut self, docs: &[DocId]) {
        for &doc in docs {
            self.collect(doc, 0.0);
        }
    }

    fn harvest(self) -> FacetCounts {
        let columns = self.slots.columns();
        let Layout { month, doc_type, status, len } = self.layout;
        let counts: Vec<u64> = self.counts.iter().map(|&n| u64::from(n)).collect();
        let (by_source, by_month) = (&counts[..month], &counts[month..doc_type]);
        let (by_type, by_status) = (&counts[doc_type..status], &counts[status..len]);
        let mut out = FacetCounts { undated: by_month.first().copied().unwrap_or(0), ..FacetCounts::default() };
        for (label, &n) in columns.labels.iter().zip(by_source) {
            if n > 0 {
                *out.source.entry(label.clone()).or_default() += n;
                out.total += n;
            }
        }
        out.add_months(columns.first_month, by_month.iter().skip(1).copied());
        columns.doc_type.harvest(by_type, &mut out.doc_type);
        columns.status.harvest(by_status, &mut out.status);
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

    /// The first search of a segment reads columns, later ones its table:
    /// both count the same, across two segments and an update.
    #[test]
    fn columns_and_tables_count_alike() {
        use crate::{Notice, NoticeIndex, SearchRequest, Source};
        let index = NoticeIndex::in_memory().unwrap();
        let mut w = index.writer(1).unwrap();
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d);
        let notices = [
            (Source::Cnipa, day(2020, 5, 13)),
            (Source::Nmpa, day(2020, 5, 31)),
            (Source::Nmpa, day(2019, 12, 1)),
            (Source::Other("example.org".into()), None),
            (Source::Fda, day(1970, 1, 1)),
        ];
        for (i, (source, date)) in notices.into_iter().enumerate() {
            let mut n = Notice::crawled(source, &format!("https://example.org/{i}"), "通知", "药品 notice");
            n.published = date;
            w.upsert(&n).unwrap();
            if i == 2 {
                w.commit("test").unwrap();
            }
        }
        w.commit("test").unwrap();
        index.reload().unwrap();
        let facets = |index: &NoticeIndex| index.search(&SearchRequest::new("药品")).unwrap().facets;
        let first = facets(&index);
        assert_eq!(first.source.values().sum::<u64>(), 5);
        assert_eq!(first.source.get("NMPA"), Some(&2));
        assert_eq!(first.source.get("other/example.org"), Some(&1));
        let months: Vec<(&str, u64)> = first.month.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        assert_eq!(months, [("1970-01", 1), ("2019-12", 1), ("2020-05", 2), ("undated", 1)]);
        assert_eq!(facets(&index), first, "second search (tables built)");
        assert_eq!(facets(&index), first, "third search (tables used)");
    }

    /// An index of `n` notices over sources, months, types and statuses
    /// (some undated, some without a type or status), in two segments.
    fn varied_index(n: usize) -> crate::NoticeIndex {
        use crate::doctype::{DocType, Status};
        use crate::{Notice, NoticeIndex, Source};
        let index = NoticeIndex::in_memory().unwrap();
        let mut w = index.writer(1).unwrap();
        let sources = [Source::Cnipa, Source::Nmpa, Source::Fda, Source::Other("example.org".into())];
        let types = [None, Some(DocType::Announcement), Some(DocType::Guidance), Some(DocType::Notice)];
        for i in 0..n {
            let mut notice =
                Notice::crawled(sources[i % 4].clone(), &format!("https://example.org/{i}"), "通知", "药品");
            notice.published =
                (i % 7 != 0).then(|| NaiveDate::from_ymd_opt(1990 + (i % 37) as i32, 1 + (i % 12) as u32, 1)).flatten();
            notice.doc_type = types[(i / 3) % 4];
            notice.status = [None, Some(Status::Draft), Some(Status::Final)][(i / 5) % 3];
            w.upsert(&notice).unwrap();
            if i == n / 3 {
                w.commit("test").unwrap();
            }
        }
        w.commit("test").unwrap();
        index.reload().unwrap();
        index
    }

    #[test]
    fn posting_lists_and_columns_build_the_same_table() {
        let index = varied_index(300);
        let searcher = index.reader.searcher();
        assert_eq!(searcher.segment_readers().len(), 2);
        for reader in searcher.segment_readers() {
            let columns = SegmentColumns::open(reader).unwrap();
            let from_columns = SegmentTable::build(columns.clone(), reader.max_doc()).unwrap();
            let from_postings = SegmentTable::from_postings(columns, reader).unwrap().expect("posting lists agree");
            assert_eq!(from_postings.layout, from_columns.layout);
            assert_eq!(from_postings.counters, from_columns.counters);
        }
    }

    #[test]
    fn a_broad_first_search_builds_the_table_halfway() {
        let index = varied_index(2 * SegmentFacetCounter::SWITCH as usize + 400);
        let big = index.reader.searcher().segment_readers().iter().map(|r| r.max_doc()).max().unwrap();
        assert!(big > SegmentFacetCounter::SWITCH, "{big}");
        let first = index.search(&crate::SearchRequest::new("药品")).unwrap();
        let built = index.facet_tables.tables.lock().unwrap().values().filter(|t| t.is_some()).count();
        assert_eq!(built, 1, "the big segment's table is built during the first search");
        // Counted from the columns, then the table, then tables only: alike.
        let counts = |r: &crate::SearchResults| (r.total, r.facets.clone());
        assert_eq!(first.total as usize, 2 * SegmentFacetCounter::SWITCH as usize + 400);
        for _ in 0..2 {
            assert_eq!(counts(&index.search(&crate::SearchRequest::new("药品")).unwrap()), counts(&first));
        }
        let built = index.facet_tables.tables.lock().unwrap().values().filter(|t| t.is_some()).count();
        assert_eq!(built, 2);
    }

    #[test]
    fn labels_are_year_month() {
        let mut counts = FacetCounts { undated: 2, ..Default::default() };
        counts.add_months(2020 * 12 + 4, [3].into_iter());
        counts.add_months(2019 * 12 + 11, [1, 0, 0].into_iter());
        counts.add_months(2020 * 12 + 3, [0, 1, 0, 5].into_iter());
        let labels: Vec<(String, u64)> = counts.month_labels().into_iter().collect();
        let want = [("2019-12", 1), ("2020-05", 4), ("2020-07", 5), ("undated", 2)];
        assert_eq!(labels, want.map(|(l, n)| (l.to_string(), n)));
        // Years outside four digits are labelled all the same.
        assert_eq!(month_label(-1), "-001-12");
        assert_eq!(month_label(12_000 * 12), "12000-01");
        assert_eq!(month_label(7 * 12 + 8), "0007-09");
    }
}
