//! Reading a notice back from Tantivy's document store, without the
//! detour through a `TantivyDocument`.
//!
//! Tantivy decodes a stored document value by value: every string is read
//! into a zeroed, growing buffer, checked with the standard library's
//! scalar UTF-8 check (about 12 instructions a byte of Chinese text), then
//! copied into the document, and the notice JSON is copied once more by
//! serde. For a page of ten ~7 KB notices that was a fifth of all the
//! instructions of the 100k mixed load (callgrind, BENCHMARKS.md §12).
//!
//! Here the document's bytes are taken from the store as they are, the
//! notice JSON and the body (stored apart from the JSON, so that serde
//! does not scan and copy it: [`crate::schema::BODY`]) are found among
//! them, checked once with SIMD (`simdutf8`), and the JSON is parsed.
//! The layout read is that of Tantivy's binary document serializer: a
//! VInt count of values, then per value a little-endian u32
//! field id, a one-byte type code and the value (text and facets: a VInt
//! length and the bytes; dates and numbers: 8 bytes). A document with a
//! value of another type, or bytes that do not parse, is decoded by
//! Tantivy instead, so a change of layout in a later Tantivy makes reading
//! slower, not wrong; `the_raw_path_is_taken_and_agrees` fails if the fast
//! path stops being taken.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use tantivy::index::SegmentId;
use tantivy::schema::Field;
use tantivy::store::StoreReader;
use tantivy::{DocAddress, Searcher, TantivyDocument};
use tantivy_common::{BinarySerializable, VInt};

use crate::error::{Error, Result};
use crate::notice::Notice;
use crate::schema::Fields;

/// Decompressed blocks each segment's reader keeps (16 KB each, so 4 MB
/// a segment). A miss decompresses a block (lz4, ~16 KB): with 64 blocks
/// that was 6 % of the server's work under the mixed load, whose ~600
/// distinct hits spread over more blocks than that (BENCHMARKS.md §12).
const CACHE_BLOCKS: usize = 256;

/// Tantivy's type codes of the values this schema stores (they are
/// private to Tantivy; the test below checks them against its decoder).
mod type_code {
    pub const TEXT: u8 = 0;
    pub const U64: u8 = 1;
    pub const I64: u8 = 2;
    pub const FACET: u8 = 3;
    pub const DATE: u8 = 5;
    pub const F64: u8 = 6;
}

/// A store reader per segment, opened once (opening one parses the
/// store's skip index) and dropped as soon as a newer searcher no longer
/// has its segment: a reader maps its segment's store file, and a merged
/// segment's files should leave the disk when Tantivy deletes them.
#[derive(Clone, Default)]
pub(crate) struct StoreReaders {
    cache: Arc<Mutex<Readers>>,
}

#[derive(Default)]
struct Readers {
    /// The newest searcher generation seen.
    generation: u64,
    by_segment: HashMap<SegmentId, Arc<StoreReader>>,
}

impl StoreReaders {
    /// The notice stored at `addr`.
    pub(crate) fn notice(&self, searcher: &Searcher, addr: DocAddress, fields: &Fields) -> Result<Notice> {
        let segment = searcher.segment_reader(addr.segment_ord);
        let reader = self.reader(searcher, segment)?;
        let bytes = reader.get_document_bytes(addr.doc_id)?;
        if let Some([Some(json), body]) = text_values(&bytes, [fields.notice_json, fields.body]) {
            return parse(json, body, || format!("{}/{}", segment.segment_id().short_uuid_string(), addr.doc_id));
        }
        let doc: TantivyDocument = searcher.doc(addr)?;
        crate::store::notice_from_document(&doc, fields, String::new())
    }

    fn reader(&self, searcher: &Searcher, segment: &tantivy::SegmentReader) -> Result<Arc<StoreReader>> {
        let mut cache = self.cache.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let generation = searcher.generation().generation_id();
        if generation > cache.generation {
            // A search still running on an older searcher reopens what it
            // needs; the next newer searcher drops it again.
            let live: HashSet<SegmentId> = searcher.segment_readers().iter().map(|r| r.segment_id()).collect();
            cache.by_segment.retain(|id, _| live.contains(id));
            cache.generation = generation;
        }
        if let Some(r) = cache.by_segment.get(&segment.segment_id()) {
            return Ok(r.clone());
        }
        let reader = Arc::new(segment.get_store_reader(CACHE_BLOCKS).map_err(|source| Error::Io {
            path: format!("segment {}", segment.segment_id().uuid_string()).into(),
            source,
        })?);
        cache.by_segment.insert(segment.segment_id(), reader.clone());
        Ok(reader)
    }

    /// Segments with an open reader (tests).
    #[cfg(test)]
    fn open_segments(&self) -> HashSet<SegmentId> {
        self.cache.lock().unwrap().by_segment.keys().copied().collect()
    }
}

/// The bytes of the first text value of each of `fields` in a serialized
/// document, or `None` when it holds a value this reader does not skip or
/// is cut short.
fn text_values<const N: usize>(doc: &[u8], fields: [Field; N]) -> Option<[Option<&[u8]>; N]> {
    let mut found = [None; N];
    let mut rest = doc;
    let values = VInt::deserialize(&mut rest).ok()?.val();
    for _ in 0..values {
        let id = u32::deserialize(&mut rest).ok()?;
        let (&code, after) = rest.split_first()?;
        rest = after;
        match code {
            type_code::TEXT | type_code::FACET => {
                let len = usize::try_from(VInt::deserialize(&mut rest).ok()?.val()).ok()?;
                if len > rest.len() {
                    return None;
                }
                let (value, after) = rest.split_at(len);
                if code == type_code::TEXT
                    && let Some(at) = fields.iter().position(|f| f.field_id() == id)
                {
                    found[at].get_or_insert(value);
                }
                rest = after;
            }
            type_code::U64 | type_code::I64 | type_code::DATE | type_code::F64 => rest = rest.get(8..)?,
            _ => return None,
        }
    }
    Some(found)
}

/// A notice from its stored JSON and body bytes (without a stored body,
/// the JSON's is kept); `id` names it in errors.
pub(crate) fn parse(json: &[u8], body: Option<&[u8]>, id: impl FnOnce() -> String) -> Result<Notice> {
    let utf8 = |bytes| simdutf8::basic::from_utf8(bytes).map_err(|_| "stored notice is not UTF-8".to_string());
    let notice = utf8(json).and_then(|text| serde_json::from_str::<Notice>(text).map_err(|e| e.to_string())).and_then(
        |mut notice| {
            if let Some(body) = body {
                notice.body = utf8(body)?.to_string();
            }
            Ok(notice)
        },
    );
    notice.map_err(|reason| Error::Corrupt { id: id(), reason })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Notice, NoticeIndex, Source};
    use tantivy::collector::TopDocs;
    use tantivy::query::AllQuery;

    /// Every stored notice of an index with all the stored value types
    /// the schema has (text, facet, dates) is found by the raw path, and
    /// equals what Tantivy's own decoder gives.
    #[test]
    fn the_raw_path_is_taken_and_agrees() {
        let index = NoticeIndex::in_memory().unwrap();
        let mut w = index.writer(1).unwrap();
        for (i, source) in [Source::Cnipa, Source::Fda, Source::Other("example.org".into())].into_iter().enumerate() {
            let mut n =
                Notice::crawled(source, &format!("https://example.org/{i}"), "关于\"引号\"的通知", "正文\n\tbody é 𝔘");
            n.published = chrono::NaiveDate::from_ymd_opt(2020, 5, 13 + i as u32);
            w.upsert(&n).unwrap();
        }
        w.commit("test").unwrap();
        index.reload().unwrap();
        let searcher = index.reader.searcher();
        let field = index.fields.notice_json;
        let hits = searcher.search(&AllQuery, &TopDocs::with_limit(10).order_by_score()).unwrap();
        assert_eq!(hits.len(), 3);
        for (_, addr) in hits {
            let segment = searcher.segment_reader(addr.segment_ord);
            let bytes = segment.get_store_reader(1).unwrap().get_document_bytes(addr.doc_id).unwrap();
            let [Some(json), Some(body)] = text_values(&bytes, [field, index.fields.body]).unwrap() else {
                panic!("the raw path finds the JSON and the body")
            };
            let doc: TantivyDocument = searcher.doc(addr).unwrap();
            let slow = crate::store::notice_from_document(&doc, &index.fields, String::new()).unwrap();
            assert_eq!(slow.body, "正文\n\tbody é 𝔘");
            assert_eq!(parse(json, Some(body), String::new).unwrap(), slow);
            assert_eq!(index.stores.notice(&searcher, addr, &index.fields).unwrap(), slow);
        }
    }

    /// A merged-away segment's reader is dropped once a newer searcher
    /// is used, so its files can leave the disk.
    #[test]
    fn readers_of_merged_segments_are_dropped() {
        let index = NoticeIndex::in_memory().unwrap();
        let mut w = index.writer(1).unwrap();
        for i in 0..2 {
            w.upsert(&Notice::crawled(Source::Cnipa, &format!("https://example.org/{i}"), "通知", "正文")).unwrap();
            w.commit("test").unwrap();
        }
        w.close().unwrap();
        index.reload().unwrap();
        let load_all = |index: &NoticeIndex| {
            let searcher = index.reader.searcher();
            for (_, addr) in searcher.search(&AllQuery, &TopDocs::with_limit(10).order_by_score()).unwrap() {
                index.load(&searcher, addr).unwrap();
            }
            searcher.segment_readers().iter().map(|r| r.segment_id()).collect::<HashSet<_>>()
        };
        let before = load_all(&index);
        assert_eq!(before.len(), 2);
        assert_eq!(index.stores.open_segments(), before);

        let mut raw = index.index.writer::<TantivyDocument>(15_000_000).unwrap();
        let ids: Vec<SegmentId> = before.iter().copied().collect();
        raw.merge(&ids).wait().unwrap();
        raw.wait_merging_threads().unwrap();
        index.reload().unwrap();
        let after = load_all(&index);
        assert_eq!(after.len(), 1);
        assert!(after.is_disjoint(&before));
        assert_eq!(index.stores.open_segments(), after);
    }

    /// Bytes cut short or of an unknown value type are not read (the
    /// caller falls back to Tantivy), and never panic.
    #[test]
    fn cut_or_unknown_bytes_fall_back() {
        let field = Field::from_field_id(4);
        // One text value of field 4: "ab".
        let good = [0x81, 4, 0, 0, 0, type_code::TEXT, 0x82, b'a', b'b'];
        assert_eq!(text_values(&good, [field]), Some([Some(&b"ab"[..])]));
        for cut in 1..good.len() {
            assert_eq!(text_values(&good[..cut], [field]), None, "cut at {cut}");
        }
        let bytes_value = [0x81, 4, 0, 0, 0, 4, 0x82, b'a', b'b'];
        assert_eq!(text_values(&bytes_value, [field]), None);
        // No values: found, but neither field.
        assert_eq!(text_values(&[0x80], [field]), Some([None]));
        assert_eq!(text_values(&[], [field]), None);
    }
}
