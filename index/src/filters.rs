//! Filters on the fields regulatory people filter by (document type,
//! draft/final, open comment periods), and the queries behind `notices
//! comments` and `notices digest`.

use std::ops::Bound;

use chrono::NaiveDate;
use tantivy::collector::{DocSetCollector, TopDocs};
use tantivy::query::{BooleanQuery, Occur, Query, RangeQuery, TermQuery};
use tantivy::schema::IndexRecordOption;
use tantivy::{DocAddress, Order, Term};

use crate::doctype::DocType;
use crate::error::{Error, Result};
use crate::notice::{Notice, Source};
use crate::schema::{self, Fields};
use crate::search::{SearchRequest, filter};
use crate::store::NoticeIndex;
use crate::writer::date_value;

/// Most notices `notices comments` lists (far more than are ever open at once).
pub const MAX_COMMENT_PERIODS: usize = 10_000;

/// Document types given as filter values (`--type`, `type=`): each may be
/// comma-separated; repeats are dropped, empty values ignored.
pub fn parse_types<S: AsRef<str>>(values: &[S]) -> Result<Vec<DocType>> {
    let mut out = Vec::new();
    for v in values.iter().flat_map(|v| v.as_ref().split(',')).map(str::trim).filter(|v| !v.is_empty()) {
        let t: DocType = v.parse()?;
        if !out.contains(&t) {
            out.push(t);
        }
    }
    Ok(out)
}

/// The day of a "comments open" filter: `today` (also `true`, `1`, `yes`)
/// or a date (`YYYY-MM-DD`; `YYYY-MM` and `YYYY` mean their first day).
pub fn parse_comments_open(value: &str, today: NaiveDate) -> Result<NaiveDate> {
    match value.trim().to_ascii_lowercase().as_str() {
        "today" | "true" | "1" | "yes" | "on" => Ok(today),
        _ => crate::search::parse_date(value, crate::search::DateEnd::Start),
    }
}

/// The clauses of a request's type, status and comments-open filters.
pub(crate) fn kind_clauses(f: &Fields, req: &SearchRequest) -> Vec<(Occur, Box<dyn Query>)> {
    let mut out = Vec::new();
    if !req.doc_types.is_empty() {
        let any: Vec<Box<dyn Query>> = req
            .doc_types
            .iter()
            .map(|t| -> Box<dyn Query> {
                let term = Term::from_facet(f.doc_type, &schema::doc_type_facet(*t));
                Box::new(TermQuery::new(term, IndexRecordOption::Basic))
            })
            .collect();
        out.push(filter(Box::new(BooleanQuery::union(any))));
    }
    if let Some(s) = req.status {
        let term = Term::from_facet(f.status, &schema::status_facet(s));
        out.push(filter(Box::new(TermQuery::new(term, IndexRecordOption::Basic))));
    }
    if let Some(day) = req.comments_open {
        out.extend(open_on(f, day));
    }
    out
}

/// Comment period open on `day`: it closes on or after `day` and the
/// notice was not published after it (as [`Notice::comments_open_on`]).
fn open_on(f: &Fields, day: NaiveDate) -> Vec<(Occur, Box<dyn Query>)> {
    let from = Term::from_field_date(f.comment_close, date_value(day));
    let mut out = vec![filter(Box::new(RangeQuery::new(Bound::Included(from), Bound::Unbounded)))];
    let after = Term::from_field_date(f.published, date_value(day));
    out.push((Occur::MustNot, Box::new(RangeQuery::new(Bound::Excluded(after), Bound::Unbounded))));
    out
}

impl NoticeIndex {
    /// Notices whose comment period is open on `from` and closes on or
    /// before `until`, soonest closing first (`notices comments`); only
    /// `sources` when not empty, withdrawn notices left out.
    pub fn comment_periods(&self, from: NaiveDate, until: NaiveDate, sources: &[Source]) -> Result<Vec<Notice>> {
        if from > until {
            return Err(Error::EmptyDateRange { since: from.to_string(), until: until.to_string() });
        }
        let f = &self.fields;
        let mut clauses = open_on(f, from);
        let to = Term::from_field_date(f.comment_close, date_value(until));
        clauses.push(filter(Box::new(RangeQuery::new(Bound::Unbounded, Bound::Included(to)))));
        if !sources.is_empty() {
            let any: Vec<Box<dyn Query>> = sources
                .iter()
                .map(|s| -> Box<dyn Query> {
                    let term = Term::from_facet(f.source, &schema::source_facet(s));
                    Box::new(TermQuery::new(term, IndexRecordOption::Basic))
                })
                .collect();
            clauses.push(filter(Box::new(BooleanQuery::union(any))));
        }
        clauses.push((
            Occur::MustNot,
            Box::new(TermQuery::new(Term::from_field_u64(f.withdrawn, 1), IndexRecordOption::Basic)),
        ));
        let searcher = self.reader.searcher();
        let top = TopDocs::with_limit(MAX_COMMENT_PERIODS)
            .order_by_fast_field::<tantivy::DateTime>(schema::COMMENT_CLOSE, Order::Asc);
        let found = searcher.search(&BooleanQuery::new(clauses), &top)?;
        let mut out = Vec::with_capacity(found.len());
        for (_, addr) in found {
            out.push(self.load(&searcher, addr)?);
        }
        // Ties (same closing day) in a stable order: newest first, then title.
        out.sort_by(|a, b| {
            a.comment_close.cmp(&b.comment_close).then(b.published.cmp(&a.published)).then(a.title.cmp(&b.title))
        });
        Ok(out)
    }
}

impl NoticeIndex {
    /// What a digest of `since..=until` shows, in index order: the notices
    /// of the period ([`Notice::in_period`]) and those, not withdrawn, whose
    /// comment period is still open on `until`. The index narrows them down
    /// (published in the period, undated, or a comment period open), and
    /// only those are read, one at a time: a digest of a 1M-notice index
    /// used to read every notice into memory (BENCHMARKS.md §14).
    pub fn digest_notices(&self, since: NaiveDate, until: NaiveDate) -> Result<Vec<Notice>> {
        if since > until {
            return Err(Error::EmptyDateRange { since: since.to_string(), until: until.to_string() });
        }
        let f = &self.fields;
        let bound = |d: NaiveDate| Bound::Included(Term::from_field_date(f.published, date_value(d)));
        let published: Box<dyn Query> = Box::new(RangeQuery::new(bound(since), bound(until)));
        let undated = Term::from_facet(f.month, &schema::month_facet(schema::UNDATED));
        let undated: Box<dyn Query> = Box::new(TermQuery::new(undated, IndexRecordOption::Basic));
        let open: Box<dyn Query> = Box::new(BooleanQuery::new(open_on(f, until)));
        let searcher = self.reader.searcher();
        let mut found: Vec<DocAddress> = searcher
            .search(&BooleanQuery::union(vec![published, undated, open]), &DocSetCollector)?
            .into_iter()
            .collect();
        found.sort_unstable();
        let mut out = Vec::new();
        for addr in found {
            let n = self.load(&searcher, addr)?;
            if n.in_period(since, until) || (!n.withdrawn && n.comments_open_on(until)) {
                out.push(n);
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DocType, SearchRequest, Status};

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    /// Five notices: two FDA drafts (one closed), a CDE draft, an NMPA
    /// announcement (final) and an unclassified digest-like notice.
    fn index() -> NoticeIndex {
        let index = NoticeIndex::in_memory().unwrap();
        let mut w = index.writer(1).unwrap();
        let mut add =
            |i: u32, source: Source, t: Option<DocType>, s: Option<Status>, close: Option<&str>, pubd: &str| {
                let mut n =
                    Notice::crawled(source, &format!("https://x.org/{i}"), format!("药品 notice {i}"), "药品 body");
                n.doc_type = t;
                n.status = s;
                n.comment_close = close.map(day);
                n.published = Some(day(pubd));
                w.upsert(&n).unwrap();
            };
        add(0, Source::Fda, Some(DocType::Guidance), Some(Status::Draft), Some("2020-06-30"), "2020-05-01");
        add(1, Source::Fda, Some(DocType::Guidance), Some(Status::Draft), Some("2006-04-18"), "2006-02-17");
        add(2, Source::Cde, Some(DocType::Guideline), Some(Status::Draft), Some("2020-08-15"), "2020-05-15");
        add(3, Source::Nmpa, Some(DocType::Announcement), Some(Status::Final), None, "2020-05-14");
        add(4, Source::Other("digest".into()), None, None, None, "2020-05-13");
        w.commit("test").unwrap();
        index
    }

    fn ids(index: &NoticeIndex, req: &SearchRequest) -> Vec<String> {
        let mut titles: Vec<String> = index.search(req).unwrap().hits.into_iter().map(|h| h.title).collect();
        titles.sort();
        titles.into_iter().map(|t| t.rsplit(' ').next().unwrap().to_string()).collect()
    }

    #[test]
    fn facets_count_types_and_statuses_over_all_matches() {
        let index = index();
        let mut req = SearchRequest::new("药品");
        req.limit = 1;
        for _ in 0..2 {
            // Twice: the first search reads columns, the second a table.
            let r = index.search(&req).unwrap();
            let t: Vec<(&str, u64)> = r.facets.doc_type.iter().map(|(k, v)| (k.as_str(), *v)).collect();
            assert_eq!(t, [("announcement", 1), ("guidance", 2), ("guideline", 1), ("unknown", 1)]);
            let s: Vec<(&str, u64)> = r.facets.status.iter().map(|(k, v)| (k.as_str(), *v)).collect();
            assert_eq!(s, [("draft", 3), ("final", 1), ("unknown", 1)]);
            assert_eq!(r.facets.doc_type.values().sum::<u64>(), r.total);
        }
    }

    #[test]
    fn type_status_and_comments_open_filter() {
        let index = index();
        let mut req = SearchRequest::new("药品");
        req.doc_types = vec![DocType::Guidance, DocType::Announcement];
        assert_eq!(ids(&index, &req), ["0", "1", "3"]);
        req.status = Some(Status::Draft);
        assert_eq!(ids(&index, &req), ["0", "1"]);
        let r = index.search(&req).unwrap();
        assert_eq!(r.hits.iter().filter(|h| h.comment_close.is_some()).count(), 2);
        assert_eq!(r.facets.doc_type.get("announcement"), None, "facets follow the filters");

        let mut open = SearchRequest::new("药品");
        open.comments_open = Some(day("2020-06-01"));
        assert_eq!(ids(&index, &open), ["0", "2"]);
        open.comments_open = Some(day("2020-07-01"));
        assert_eq!(ids(&index, &open), ["2"]);
        // The last day is still open; before publication it was not.
        open.comments_open = Some(day("2020-08-15"));
        assert_eq!(ids(&index, &open), ["2"]);
        open.comments_open = Some(day("2020-05-10"));
        assert_eq!(ids(&index, &open), ["0"]);
        open.comments_open = Some(day("2020-08-16"));
        assert!(ids(&index, &open).is_empty());
    }

    #[test]
    fn filter_values_parse_or_name_the_problem() {
        let types = parse_types(&["guidance,Guideline", " 公告 ", "", "guidance"]).unwrap();
        assert_eq!(types, [DocType::Guidance, DocType::Guideline, DocType::Announcement]);
        assert!(matches!(parse_types(&["memo"]), Err(Error::UnknownDocType { .. })));
        let today = day("2020-05-15");
        assert_eq!(parse_comments_open("today", today).unwrap(), today);
        assert_eq!(parse_comments_open("2020-06", today).unwrap(), day("2020-06-01"));
        assert!(matches!(parse_comments_open("soon", today), Err(Error::InvalidDate { .. })));
    }

    #[test]
    fn comment_periods_closing_in_a_window_soonest_first() {
        let index = index();
        let titles = |v: Vec<Notice>| v.into_iter().map(|n| n.title).collect::<Vec<_>>();
        let all = index.comment_periods(day("2020-05-20"), day("2020-12-31"), &[]).unwrap();
        assert_eq!(titles(all), ["药品 notice 0", "药品 notice 2"]);
        let soon = index.comment_periods(day("2020-05-20"), day("2020-06-30"), &[]).unwrap();
        assert_eq!(titles(soon), ["药品 notice 0"]);
        let cde = index.comment_periods(day("2020-05-20"), day("2020-12-31"), &[Source::Cde]).unwrap();
        assert_eq!(titles(cde), ["药品 notice 2"]);
        assert!(index.comment_periods(day("2021-01-01"), day("2021-12-31"), &[]).unwrap().is_empty());
        assert!(index.comment_periods(day("2021-01-01"), day("2020-12-31"), &[]).is_err());
    }

    #[test]
    fn notices_without_the_fields_still_load_and_round_trip() {
        // A notice stored before these fields existed.
        let old = r#"{"id":"ab","source":"NMPA","title":"t","body":"b","origin":{"kind":"crawl"}}"#;
        let n: Notice = serde_json::from_str(old).unwrap();
        assert_eq!((n.doc_type, n.status, n.comment_close), (None, None, None));
        let json = serde_json::to_string(&n).unwrap();
        assert!(json.ends_with(r#""doc_type":null,"status":null,"comment_close":null}"#), "{json}");
        assert_eq!(serde_json::from_str::<Notice>(&json).unwrap(), n);
        let mut m = n.clone();
        m.doc_type = Some(DocType::WarningLetter);
        m.status = Some(Status::Draft);
        m.comment_close = Some(day("2020-06-30"));
        let json = serde_json::to_string(&m).unwrap();
        assert!(
            json.contains(r#""doc_type":"warning_letter","status":"draft","comment_close":"2020-06-30""#),
            "{json}"
        );
        assert_eq!(serde_json::from_str::<Notice>(&json).unwrap(), m);
        assert_ne!(m.content_hash(), n.content_hash(), "a classification change is a change");
    }
}
