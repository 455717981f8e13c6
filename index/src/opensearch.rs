//! The way past one machine: the corpus as OpenSearch/Elasticsearch bulk
//! NDJSON, and an index template whose mappings match our schema.
//!
//! Both are generated from one table, [`MAPPINGS`], keyed by the schema's
//! field constants; a test checks that every field of [`schema::build`] is
//! either in it or deliberately left out ([`NOT_MAPPED`]), so a field added
//! to the schema cannot be forgotten here.

use serde_json::{Map, Value, json};

use crate::notice::Notice;
use crate::schema;

/// Index name used in the bulk actions and the template's pattern.
pub const INDEX_NAME: &str = "notices";
/// Main language of the notice (`zh`, `en`); only in the OpenSearch documents.
pub const LANG: &str = "lang";
/// Attachment links (`url`, `name`), stored but not indexed.
pub const ATTACHMENTS: &str = "attachments";
/// Other pages linked as the notice's sources.
pub const LINKS: &str = "links";
/// When the page was last fetched.
pub const FETCHED_AT: &str = "fetched_at";

/// How a field is mapped in OpenSearch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Exact values (filters, terms aggregations).
    Keyword,
    /// Analysed text: IK for Chinese, with an `en` sub-field for English.
    Text,
    /// A date (`yyyy-MM-dd` or RFC 3339).
    Date,
    /// true/false.
    Boolean,
    /// Kept in `_source`, not indexed.
    Stored,
}

/// Every field of the OpenSearch documents and its mapping.
pub const MAPPINGS: &[(&str, Kind)] = &[
    (schema::ID, Kind::Keyword),
    (schema::URL, Kind::Keyword),
    (schema::SOURCE, Kind::Keyword),
    (schema::TITLE, Kind::Text),
    (schema::BODY, Kind::Text),
    (schema::AGENCY, Kind::Text),
    (schema::DOC_NUMBER, Kind::Keyword),
    (schema::PUBLISHED, Kind::Date),
    (schema::FIRST_SEEN, Kind::Date),
    (schema::WITHDRAWN, Kind::Boolean),
    (schema::DOC_TYPE, Kind::Keyword),
    (schema::STATUS, Kind::Keyword),
    (schema::COMMENT_CLOSE, Kind::Date),
    (LANG, Kind::Keyword),
    (schema::ATTACHMENT_TEXT, Kind::Text),
    (ATTACHMENTS, Kind::Stored),
    (LINKS, Kind::Keyword),
    (FETCHED_AT, Kind::Date),
];

/// Schema fields with no OpenSearch counterpart, and why.
pub const NOT_MAPPED: &[(&str, &str)] = &[
    (schema::MONTH, "derived from published: use a date_histogram aggregation"),
    (schema::NOTICE_JSON, "the whole document is the _source"),
];

/// The bulk action line of a notice: index it under its id.
pub fn action(notice: &Notice) -> Value {
    json!({ "index": { "_index": INDEX_NAME, "_id": notice.id } })
}

/// The OpenSearch document of a notice: one key per [`MAPPINGS`] entry
/// that has a value.
pub fn document(n: &Notice) -> Value {
    let mut doc = Map::new();
    for (field, _) in MAPPINGS {
        if let Some(v) = value(n, field) {
            doc.insert((*field).to_string(), v);
        }
    }
    Value::Object(doc)
}

fn value(n: &Notice, field: &str) -> Option<Value> {
    let non_empty = |v: Vec<String>| (!v.is_empty()).then(|| json!(v));
    match field {
        schema::ID => Some(json!(n.id)),
        schema::URL => n.url.as_ref().map(|u| json!(u)),
        schema::SOURCE => Some(json!(n.source.label())),
        schema::TITLE => Some(json!(n.title)),
        schema::BODY => Some(json!(n.body)),
        schema::AGENCY => n.agency.as_ref().map(|a| json!(a)),
        schema::DOC_NUMBER => non_empty(n.doc_numbers.clone()),
        schema::PUBLISHED => n.published.map(|d| json!(d.format("%Y-%m-%d").to_string())),
        schema::FIRST_SEEN => n.first_seen.map(|t| json!(t.to_rfc3339())),
        schema::WITHDRAWN => Some(json!(n.withdrawn)),
        schema::DOC_TYPE => n.doc_type.map(|t| json!(t.id())),
        schema::STATUS => n.status.map(|s| json!(s.id())),
        schema::COMMENT_CLOSE => n.comment_close.map(|d| json!(d.format("%Y-%m-%d").to_string())),
        LANG => Some(json!(n.lang)),
        // The names of attachments without text stand in for it.
        schema::ATTACHMENT_TEXT => non_empty(
            n.attachments.iter().filter_map(|a| a.text().map(str::to_string).or_else(|| a.name.clone())).collect(),
        ),
        ATTACHMENTS => (!n.attachments.is_empty())
            .then(|| json!(n.attachments.iter().map(|a| a.without_text()).collect::<Vec<_>>())),
        LINKS => non_empty(n.links.clone()),
        FETCHED_AT => n.fetched_at.map(|t| json!(t.to_rfc3339())),
        _ => None,
    }
}

/// The index template (`PUT _index_template/notices`): the mappings of
/// [`MAPPINGS`], strict so a document with another field is refused.
pub fn template() -> Value {
    let mut properties = Map::new();
    for (field, kind) in MAPPINGS {
        let mapping = match kind {
            Kind::Keyword => json!({ "type": "keyword" }),
            // IK segments Chinese finely when indexing and coarsely when
            // searching, as our own analyzer does; English goes through the
            // `english` analyzer (stemming) in a sub-field.
            Kind::Text => json!({
                "type": "text",
                "analyzer": "ik_max_word",
                "search_analyzer": "ik_smart",
                "fields": { "en": { "type": "text", "analyzer": "english" } }
            }),
            Kind::Date => json!({ "type": "date", "format": "strict_date_optional_time||yyyy-MM-dd" }),
            Kind::Boolean => json!({ "type": "boolean" }),
            Kind::Stored => json!({ "type": "object", "enabled": false }),
        };
        properties.insert((*field).to_string(), mapping);
    }
    json!({
        "index_patterns": [format!("{INDEX_NAME}*")],
        "template": {
            "settings": { "number_of_shards": 1 },
            "mappings": { "dynamic": "strict", "properties": properties }
        }
    })
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, TimeZone, Utc};

    use super::*;
    use crate::notice::{Attachment, Source};

    fn full() -> Notice {
        let mut n = Notice::crawled(Source::Nmpa, "http://www.nmpa.gov.cn/1.html", "一致性评价的公告", "正文");
        n.published = NaiveDate::from_ymd_opt(2020, 5, 14);
        n.first_seen = Some(Utc.with_ymd_and_hms(2020, 5, 15, 1, 2, 3).unwrap());
        n.fetched_at = n.first_seen;
        n.doc_numbers = vec!["2020年第62号".into()];
        n.agency = Some("国家药品监督管理局".into());
        n.attachments = vec![Attachment::new("http://www.nmpa.gov.cn/1.docx", Some("技术要求".into()))];
        n.links = vec!["http://www.nmpa.gov.cn/2.html".into()];
        n.doc_type = Some(crate::DocType::Announcement);
        n.status = Some(crate::Status::Draft);
        n.comment_close = NaiveDate::from_ymd_opt(2020, 6, 30);
        n
    }

    #[test]
    fn every_schema_field_is_mapped_or_deliberately_left_out() {
        let schema = schema::build();
        for (_, entry) in schema.fields() {
            let name = entry.name();
            let mapped = MAPPINGS.iter().any(|(f, _)| *f == name);
            let left_out = NOT_MAPPED.iter().any(|(f, _)| *f == name);
            assert!(mapped != left_out, "schema field {name:?} must be in exactly one of MAPPINGS and NOT_MAPPED");
        }
        for (f, _) in NOT_MAPPED {
            assert!(schema.get_field(f).is_ok(), "{f} is not a schema field");
        }
    }

    #[test]
    fn a_full_notice_fills_every_mapped_field_and_nothing_else() {
        let doc = document(&full());
        let template = template();
        let props = template["template"]["mappings"]["properties"].as_object().unwrap();
        let keys: Vec<&String> = doc.as_object().unwrap().keys().collect();
        assert_eq!(keys.len(), MAPPINGS.len(), "{doc}");
        for k in keys {
            assert!(props.contains_key(k), "{k} is not in the template");
        }
        assert_eq!(doc[schema::PUBLISHED], "2020-05-14");
        assert_eq!(doc[schema::SOURCE], "NMPA");
        assert_eq!(props[schema::TITLE]["analyzer"], "ik_max_word");
        assert_eq!(props[schema::TITLE]["search_analyzer"], "ik_smart");
        assert_eq!(props[schema::TITLE]["fields"]["en"]["analyzer"], "english");
        assert_eq!(action(&full())["index"]["_id"], full().id);
    }
}
