//! Atom feeds (RFC 4287) of search results, so a feed reader can follow a
//! saved search.

use atom_syndication::{Entry, Feed, FixedDateTime, Link, Person, Text};
use chrono::{DateTime, Utc};
use index::SearchResults;

/// An Atom document for `results`. `self_url` is the feed's own URL (its
/// id, so it is stable for a given query).
pub fn atom(results: &SearchResults, self_url: &str, title: &str) -> String {
    let fixed = |d: DateTime<Utc>| -> FixedDateTime { d.fixed_offset() };
    let mut entries = Vec::with_capacity(results.hits.len());
    let mut newest: Option<DateTime<Utc>> = None;
    for hit in &results.hits {
        let published = hit.date.and_then(|d| d.and_hms_opt(0, 0, 0)).map(|d| d.and_utc());
        let updated = hit.fetched_at.or(hit.first_seen).or(published).unwrap_or(DateTime::UNIX_EPOCH);
        newest = newest.max(Some(updated));
        let mut entry = Entry {
            // Stable: the notice id never changes for a given page.
            id: format!("urn:notices:{}", hit.id),
            title: Text::plain(hit.title.clone()),
            updated: fixed(updated),
            published: published.map(fixed),
            summary: Some(Text::plain(hit.snippet.clone())),
            ..Default::default()
        };
        if let Some(url) = &hit.url {
            entry.links.push(Link { href: url.clone(), rel: "alternate".into(), ..Default::default() });
        }
        entry
            .authors
            .push(Person { name: hit.agency.clone().unwrap_or_else(|| hit.source.clone()), ..Default::default() });
        entry.categories.push(atom_syndication::Category { term: hit.source.clone(), ..Default::default() });
        if let Some(t) = hit.doc_type {
            let label = Some(format!("{} {}", t.label_zh(), t.label_en()));
            entry.categories.push(atom_syndication::Category { term: t.id().into(), label, ..Default::default() });
        }
        if let Some(s) = hit.status {
            entry.categories.push(atom_syndication::Category { term: s.id().into(), ..Default::default() });
        }
        entries.push(entry);
    }
    let feed = Feed {
        id: self_url.to_string(),
        title: Text::plain(title.to_string()),
        updated: fixed(newest.unwrap_or(DateTime::UNIX_EPOCH)),
        links: vec![Link { href: self_url.to_string(), rel: "self".into(), ..Default::default() }],
        generator: Some(atom_syndication::Generator { value: "notices".into(), ..Default::default() }),
        entries,
        ..Default::default()
    };
    feed.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use index::{Facets, Hit};

    #[test]
    fn feed_parses_back_with_stable_ids() {
        let hit = Hit {
            id: "abc".into(),
            title: "药品 <公告> & more".into(),
            source: "NMPA".into(),
            date: chrono::NaiveDate::from_ymd_opt(2020, 5, 14),
            doc_numbers: vec![],
            url: Some("http://www.nmpa.gov.cn/WS04/CL2138/377442.html".into()),
            agency: None,
            attachments: vec![],
            matched_attachment: None,
            snippet: "一致性评价".into(),
            highlights: vec![],
            snippet_html: String::new(),
            title_html: String::new(),
            score: 1.0,
            withdrawn: false,
            first_seen: Some(Utc::now()),
            fetched_at: None,
            doc_type: Some(index::DocType::Announcement),
            status: Some(index::Status::Final),
            comment_close: None,
        };
        let results = SearchResults {
            query: "".into(),
            total: 1,
            took_ms: 0.0,
            offset: 0,
            limit: 10,
            hits: vec![hit],
            facets: Facets::default(),
            expanded: Default::default(),
        };
        let xml = atom(&results, "http://127.0.0.1:7878/feed.atom?q=x", "notices: x");
        let feed: Feed = xml.parse().expect("valid Atom");
        assert_eq!(feed.entries.len(), 1);
        assert_eq!(feed.entries[0].id, "urn:notices:abc");
        assert_eq!(feed.entries[0].title.value, "药品 <公告> & more");
        assert_eq!(feed.entries[0].links[0].href, "http://www.nmpa.gov.cn/WS04/CL2138/377442.html");
        let terms: Vec<&str> = feed.entries[0].categories.iter().map(|c| c.term.as_str()).collect();
        assert_eq!(terms, ["NMPA", "announcement", "final"]);
    }
}
