//! The Tantivy schema: every field name lives here, once.

use tantivy::schema::{
    FAST, Facet, FacetOptions, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing,
    TextOptions,
};

use crate::analyzer::{ANALYZER, QUERY_ANALYZER};
use crate::doctype::{DocType, Status};
use crate::notice::Source;

/// Stable notice id (raw, for updates and look-ups).
pub const ID: &str = "id";
/// Canonical URL (raw, for look-ups by URL).
pub const URL: &str = "url";
/// Source facet: `/CNIPA`, `/other\/host` ...
pub const SOURCE: &str = "source";
/// Title, analysed (its text is read from [`NOTICE_JSON`]).
pub const TITLE: &str = "title";
/// Body text, analysed and stored: the stored notice JSON leaves the body
/// out, so that reading a hit back does not scan 7 KB of JSON string for
/// escapes and copy it (serde was 8 % of the loaded server's work;
/// BENCHMARKS.md §12). [`crate::stored`] reads it straight from the store.
pub const BODY: &str = "body";
/// Text of the notice's attachments, analysed (read from [`NOTICE_JSON`] for snippets).
pub const ATTACHMENT_TEXT: &str = "attachment_text";
/// Issuing agency, analysed.
pub const AGENCY: &str = "agency";
/// Normalised document numbers (raw terms, see [`crate::docnum::normalize`]).
pub const DOC_NUMBER: &str = "doc_number";
/// Publication date (fast, for ranges and sorting).
pub const PUBLISHED: &str = "published";
/// Month facet: `/2020-05`, or `/undated`.
pub const MONTH: &str = "month";
/// When `notices` first saw the notice (fast, for `notices new`).
pub const FIRST_SEEN: &str = "first_seen";
/// 1 when the page was withdrawn from its site.
pub const WITHDRAWN: &str = "withdrawn";
/// Document type facet: `/announcement`, `/warning_letter` ...; absent when unknown.
pub const DOC_TYPE: &str = "doc_type";
/// Status facet: `/draft` or `/final`; absent when unknown.
pub const STATUS: &str = "status";
/// Last day of the comment period (fast, for "comments open on" and `notices comments`).
pub const COMMENT_CLOSE: &str = "comment_close";
/// The whole notice as JSON, but for its body (see [`BODY`]); stored only.
pub const NOTICE_JSON: &str = "notice";

/// Month facet value for notices without a date.
pub const UNDATED: &str = "undated";
/// Document type and status facet value for notices whose source does not say.
pub const UNKNOWN: &str = "unknown";

/// Resolved field handles of the schema.
#[derive(Debug, Clone, Copy)]
pub struct Fields {
    /// See [`ID`].
    pub id: Field,
    /// See [`URL`].
    pub url: Field,
    /// See [`SOURCE`].
    pub source: Field,
    /// See [`TITLE`].
    pub title: Field,
    /// See [`BODY`].
    pub body: Field,
    /// See [`ATTACHMENT_TEXT`].
    pub attachment_text: Field,
    /// See [`AGENCY`].
    pub agency: Field,
    /// See [`DOC_NUMBER`].
    pub doc_number: Field,
    /// See [`PUBLISHED`].
    pub published: Field,
    /// See [`MONTH`].
    pub month: Field,
    /// See [`FIRST_SEEN`].
    pub first_seen: Field,
    /// See [`WITHDRAWN`].
    pub withdrawn: Field,
    /// See [`DOC_TYPE`].
    pub doc_type: Field,
    /// See [`STATUS`].
    pub status: Field,
    /// See [`COMMENT_CLOSE`].
    pub comment_close: Field,
    /// See [`NOTICE_JSON`].
    pub notice_json: Field,
}

impl Fields {
    /// Looks the fields up in a schema built by [`build`].
    pub fn from_schema(schema: &Schema) -> tantivy::Result<Fields> {
        let f = |name: &str| schema.get_field(name);
        Ok(Fields {
            id: f(ID)?,
            url: f(URL)?,
            source: f(SOURCE)?,
            title: f(TITLE)?,
            body: f(BODY)?,
            attachment_text: f(ATTACHMENT_TEXT)?,
            agency: f(AGENCY)?,
            doc_number: f(DOC_NUMBER)?,
            published: f(PUBLISHED)?,
            month: f(MONTH)?,
            first_seen: f(FIRST_SEEN)?,
            withdrawn: f(WITHDRAWN)?,
            doc_type: f(DOC_TYPE)?,
            status: f(STATUS)?,
            comment_close: f(COMMENT_CLOSE)?,
            notice_json: f(NOTICE_JSON)?,
        })
    }
}

/// Builds the schema.
pub fn build() -> Schema {
    let mut b = Schema::builder();
    // Title and body are not stored twice: the notice JSON holds them.
    let analysed = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default().set_tokenizer(ANALYZER).set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    b.add_text_field(ID, STRING | STORED);
    b.add_text_field(URL, STRING);
    b.add_facet_field(SOURCE, FacetOptions::default().set_stored());
    b.add_text_field(TITLE, analysed.clone());
    b.add_text_field(BODY, analysed.clone().set_stored());
    b.add_text_field(ATTACHMENT_TEXT, analysed.clone());
    b.add_text_field(AGENCY, analysed);
    b.add_text_field(DOC_NUMBER, STRING);
    b.add_date_field(PUBLISHED, INDEXED | FAST | STORED);
    b.add_facet_field(MONTH, FacetOptions::default());
    b.add_date_field(FIRST_SEEN, INDEXED | FAST | STORED);
    b.add_u64_field(WITHDRAWN, INDEXED | FAST);
    b.add_facet_field(DOC_TYPE, FacetOptions::default());
    b.add_facet_field(STATUS, FacetOptions::default());
    b.add_date_field(COMMENT_CLOSE, INDEXED | FAST);
    b.add_text_field(NOTICE_JSON, STORED);
    b.build()
}

/// The analyzer used for query text (the fields' own is the index-time one).
pub fn query_analyzer_name() -> &'static str {
    QUERY_ANALYZER
}

/// The facet of a source: one flat segment, so `other/<host>` stays one value.
pub fn source_facet(source: &Source) -> Facet {
    Facet::from_path([source.label()])
}

/// The facet of a month label (`2020-05` or [`UNDATED`]).
pub fn month_facet(label: &str) -> Facet {
    Facet::from_path([label])
}

/// The facet of a document type (its id, one segment).
pub fn doc_type_facet(t: DocType) -> Facet {
    Facet::from_path([t.id()])
}

/// The facet of a status (`draft` or `final`).
pub fn status_facet(s: Status) -> Facet {
    Facet::from_path([s.id()])
}
