//! Adding, replacing and deleting notices.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use tantivy::{IndexReader, IndexWriter, TantivyDocument, Term};

use crate::docnum;
use crate::error::{Error, Result};
use crate::notice::Notice;
use crate::schema::{self, Fields};

/// What a commit records in the index's meta (its payload).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitInfo {
    /// When the commit was made.
    pub committed_at: DateTime<Utc>,
    /// Who made it: `ingest`, `crawl`, `sample` ...
    pub by: String,
    /// When the crawler last fetched a page: the newest `fetched_at` of any
    /// notice written so far, carried from commit to commit (so reading it
    /// costs nothing, however large the index).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_crawl: Option<DateTime<Utc>>,
}

/// The index's single writer. Notices added are invisible until
/// [`commit`](NoticeWriter::commit), and a crash before it loses only the
/// uncommitted ones: Tantivy swaps its meta file atomically.
pub struct NoticeWriter {
    writer: IndexWriter,
    fields: Fields,
    reader: IndexReader,
    pending: u64,
    /// The newest `fetched_at` upserted since the last commit.
    fetched: Option<DateTime<Utc>>,
}

impl NoticeWriter {
    pub(crate) fn new(writer: IndexWriter, fields: Fields, reader: IndexReader) -> Self {
        NoticeWriter { writer, fields, reader, pending: 0, fetched: None }
    }

    /// Adds a notice, replacing any notice with the same id (one document
    /// per notice, never duplicates).
    pub fn upsert(&mut self, notice: &Notice) -> Result<()> {
        notice.validate()?;
        self.writer.delete_term(Term::from_field_text(self.fields.id, &notice.id));
        self.writer.add_document(self.document(notice)?)?;
        self.pending += 1;
        self.fetched = self.fetched.max(notice.fetched_at);
        Ok(())
    }

    /// Removes a notice by id.
    pub fn delete(&mut self, id: &str) {
        self.writer.delete_term(Term::from_field_text(self.fields.id, id));
        self.pending += 1;
    }

    /// Number of changes since the last commit.
    pub fn pending(&self) -> u64 {
        self.pending
    }

    /// Makes every change so far durable and visible, atomically.
    pub fn commit(&mut self, by: &str) -> Result<CommitInfo> {
        let previous: Option<CommitInfo> =
            self.writer.index().load_metas()?.payload.and_then(|p| serde_json::from_str(&p).ok());
        let last_crawl = previous.and_then(|p| p.last_crawl).max(self.fetched);
        let info = CommitInfo { committed_at: Utc::now(), by: by.to_string(), last_crawl };
        let mut prepared = self.writer.prepare_commit()?;
        prepared.set_payload(&serde_json::to_string(&info).expect("plain struct serializes"));
        prepared.commit()?;
        self.pending = 0;
        self.fetched = None;
        // Our own handle sees the commit at once; other readers within the
        // reload delay.
        self.reader.reload()?;
        Ok(info)
    }

    /// Drops uncommitted changes.
    pub fn rollback(&mut self) -> Result<()> {
        self.writer.rollback()?;
        self.pending = 0;
        self.fetched = None;
        Ok(())
    }

    /// Waits for merging threads and releases the lock.
    pub fn close(self) -> Result<()> {
        self.writer.wait_merging_threads()?;
        Ok(())
    }

    fn document(&self, n: &Notice) -> Result<TantivyDocument> {
        let f = &self.fields;
        let mut doc = TantivyDocument::default();
        doc.add_text(f.id, &n.id);
        if let Some(url) = &n.url {
            doc.add_text(f.url, crate::notice::canonical_url(url));
        }
        doc.add_facet(f.source, schema::source_facet(&n.source));
        doc.add_text(f.title, &n.title);
        doc.add_text(f.body, &n.body);
        for text in n.attachments.iter().filter_map(|a| a.text()) {
            doc.add_text(f.attachment_text, text);
        }
        if let Some(agency) = &n.agency {
            doc.add_text(f.agency, agency);
        }
        for number in &n.doc_numbers {
            doc.add_text(f.doc_number, docnum::normalize(number));
        }
        match n.published {
            Some(date) => {
                doc.add_date(f.published, date_value(date));
                doc.add_facet(f.month, schema::month_facet(&date.format("%Y-%m").to_string()));
            }
            None => doc.add_facet(f.month, schema::month_facet(schema::UNDATED)),
        }
        let first_seen = n.first_seen.unwrap_or_else(Utc::now);
        doc.add_date(f.first_seen, tantivy::DateTime::from_timestamp_secs(first_seen.timestamp()));
        doc.add_u64(f.withdrawn, n.withdrawn as u64);
        if let Some(t) = n.doc_type {
            doc.add_facet(f.doc_type, schema::doc_type_facet(t));
        }
        if let Some(s) = n.status {
            doc.add_facet(f.status, schema::status_facet(s));
        }
        if let Some(d) = n.comment_close {
            doc.add_date(f.comment_close, date_value(d));
        }
        // The body is stored as the BODY field's value, not in the JSON.
        let head = Notice { body: String::new(), ..n.clone() };
        let json = serde_json::to_string(&head)
            .map_err(|e| Error::InvalidNotice { id: n.id.clone(), reason: e.to_string() })?;
        doc.add_text(f.notice_json, json);
        Ok(doc)
    }
}

/// A date as Tantivy stores it: midnight UTC of that day.
pub(crate) fn date_value(date: NaiveDate) -> tantivy::DateTime {
    let secs = date.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc().timestamp();
    tantivy::DateTime::from_timestamp_secs(secs)
}
