//! Text of notice attachments: PDF (the text layer), Word (`.doc`, `.docx`),
//! Excel (`.xls`, `.xlsx`), OpenDocument spreadsheets, WPS Office files
//! that are one of those underneath, plain text, and zip archives of them.
//!
//! ```no_run
//! # async fn demo(bytes: Vec<u8>) -> extract::Result<()> {
//! let limits = extract::Limits::default();
//! let got = extract::extract_async(bytes, "https://example.org/a.pdf", None, &limits).await?;
//! match (&got.text, &got.no_text) {
//!     (Some(text), _) => println!("{} chars", text.chars().count()),
//!     (None, Some(why)) => println!("no text: {why}"),
//!     (None, None) => unreachable!(),
//! }
//! # Ok(()) }
//! ```
//!
//! Outcomes: `Ok` with text; `Ok` with a [`NoText`] reason (a scan, an
//! unsupported format, an unreadable text layer); or an [`Error`] (too
//! large, malformed, truncated, encrypted, zip bomb, time cap). Never a
//! panic: readers run under `catch_unwind`.
//!
//! What to record per attachment: [`Extracted::format`], the text, the
//! "no text" reason (`no_text.to_string()`), or the error's
//! [`Error::code`] and message; [`Error::is_transient`] says whether the
//! same bytes may succeed later (a missing tool, an I/O failure), and
//! [`EXTRACTOR_VERSION`] whether stored text predates a better extractor.
//!
//! PDF needs `pdftotext` (Debian poppler-utils) and `.doc` needs `catdoc`
//! (Debian catdoc) on the `PATH`; without them those formats end as
//! [`Error::ToolMissing`], the rest still work.
#![deny(missing_docs)]

mod archive;
mod child;
mod doc;
mod docx;
pub mod error;
pub mod format;
pub mod limits;
pub mod normalize;
pub mod outcome;
mod pdf;
mod radicals;
mod runner;
mod sheet;

use std::panic::AssertUnwindSafe;

pub use error::{Error, Result};
pub use format::{Format, sniff};
pub use limits::Limits;
pub use outcome::{Entry, Extracted, NoText};
pub use runner::{MAX_ABANDONED, abandoned_running, extract_async, extract_capped};
pub use sheet::MAX_SHEET_CELLS;

use limits::{Budget, Deadline};

/// Version of the extractors' output. Bumped whenever a change gives
/// different text for the same bytes, so that stored attachments extracted
/// by an older version can be extracted again from their kept bytes.
pub const EXTRACTOR_VERSION: u32 = 1;

/// Extracts the text of an attachment, on the calling thread.
///
/// `name_or_url` (its extension) and `content_type` only break ties: the
/// format is found in the bytes. Child processes are killed at the time
/// cap and the in-process readers check it as they go; for a cap that holds
/// whatever a dependency does, use [`extract_capped`] or [`extract_async`].
pub fn extract(bytes: &[u8], name_or_url: &str, content_type: Option<&str>, limits: &Limits) -> Result<Extracted> {
    let deadline = Deadline::starting_now(limits);
    let mut budget = Budget::new(limits);
    extract_at(bytes, name_or_url, content_type, &Ctx { limits, deadline: &deadline }, 0, &mut budget)
}

/// What every level of an extraction shares.
struct Ctx<'a> {
    limits: &'a Limits,
    deadline: &'a Deadline,
}

/// What a reader gives before normalisation.
#[derive(Default)]
struct Raw {
    text: String,
    /// Set by readers that already cleaned and joined lines (PDF, zip).
    cleaned: bool,
    no_text: Option<NoText>,
    pages: Option<u32>,
    sheets: Option<u32>,
    entries: Vec<Entry>,
    truncated: bool,
}

fn extract_at(
    bytes: &[u8],
    name: &str,
    content_type: Option<&str>,
    ctx: &Ctx<'_>,
    depth: u32,
    budget: &mut Budget,
) -> Result<Extracted> {
    let size = bytes.len() as u64;
    if size > ctx.limits.max_bytes {
        return Err(Error::TooLarge { size, max: ctx.limits.max_bytes });
    }
    let format = sniff(bytes, name, content_type);
    let read = std::panic::catch_unwind(AssertUnwindSafe(|| read_format(bytes, format, name, ctx, depth, budget)));
    let raw = match read {
        Ok(raw) => raw?,
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            return Err(Error::Malformed { format, reason: format!("the {format} reader panicked: {what}") });
        }
    };
    Ok(finish(format, raw, ctx.limits))
}

fn read_format(
    bytes: &[u8],
    format: Format,
    name: &str,
    ctx: &Ctx<'_>,
    depth: u32,
    budget: &mut Budget,
) -> Result<Raw> {
    let deadline = ctx.deadline;
    Ok(match format {
        Format::Pdf => {
            let got = pdf::read(bytes, ctx.limits, deadline)?;
            Raw { text: got.text, cleaned: true, pages: Some(got.pages), truncated: got.truncated, ..Raw::default() }
        }
        Format::Doc => {
            let got = doc::read(bytes, ctx.limits, deadline)?;
            Raw { text: got.text, truncated: got.truncated, ..Raw::default() }
        }
        Format::Docx => Raw { text: docx::read(bytes, budget, deadline)?, ..Raw::default() },
        Format::Xls | Format::Xlsx | Format::Ods => {
            let got = sheet::read(bytes, format, budget, deadline)?;
            Raw { text: got.text, sheets: Some(got.sheets), ..Raw::default() }
        }
        Format::Text => Raw { text: decode_text(bytes), ..Raw::default() },
        Format::Zip => read_zip(bytes, ctx, depth, budget)?,
        Format::Unknown if is_encrypted_ooxml(bytes) => {
            // Office keeps a password-protected .docx/.xlsx in an OLE2 file.
            return Err(Error::Encrypted { format: format::sniff(&[], name, None) });
        }
        other => Raw { no_text: Some(NoText::Unsupported { format: other }), ..Raw::default() },
    })
}

fn is_encrypted_ooxml(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0])
        && format::find(bytes, &"EncryptedPackage".encode_utf16().flat_map(u16::to_le_bytes).collect::<Vec<u8>>())
            .is_some()
}

/// UTF-8 (or UTF-16 with a BOM); else GB18030, which Chinese sites use.
fn decode_text(bytes: &[u8]) -> String {
    if let Some((encoding, bom)) = encoding_rs::Encoding::for_bom(bytes) {
        return encoding.decode_without_bom_handling(&bytes[bom..]).0.into_owned();
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => encoding_rs::GB18030.decode_without_bom_handling(bytes).0.into_owned(),
    }
}

/// Every member of a zip, each under its name, recursively.
fn read_zip(bytes: &[u8], ctx: &Ctx<'_>, depth: u32, budget: &mut Budget) -> Result<Raw> {
    if depth >= ctx.limits.max_depth {
        return Err(Error::TooDeep { max_depth: ctx.limits.max_depth });
    }
    let mut raw = Raw { cleaned: true, ..Raw::default() };
    archive::for_each_member(bytes, budget, ctx.deadline, |member, budget| {
        let member = match member {
            Ok(member) => member,
            Err(entry) => {
                raw.entries.push(entry);
                return Ok(());
            }
        };
        let got = extract_at(&member.bytes, &member.name, None, ctx, depth + 1, budget);
        match got {
            Ok(got) => {
                let chars = got.text.as_deref().map_or(0, |t| t.chars().count() as u64);
                if let Some(text) = &got.text {
                    if !raw.text.is_empty() {
                        raw.text.push_str("\n\n");
                    }
                    // The member's name is searchable text too.
                    raw.text.push_str(&member.name);
                    raw.text.push('\n');
                    raw.text.push_str(text);
                }
                raw.truncated |= got.truncated;
                raw.entries.push(Entry {
                    name: member.name.clone(),
                    format: got.format,
                    chars,
                    no_text: got.no_text,
                    error: None,
                });
                raw.entries.extend(got.entries.into_iter().map(|mut e| {
                    e.name = format!("{}/{}", member.name, e.name);
                    e
                }));
                Ok(())
            }
            // These condemn the whole attachment, not one member.
            Err(e @ (Error::ZipBomb { .. } | Error::Timeout { .. } | Error::TooDeep { .. })) => Err(e),
            Err(e) => {
                let format = sniff(&member.bytes, &member.name, None);
                raw.entries.push(Entry::failed(member.name, format, e.to_string()));
                Ok(())
            }
        }
    })?;
    if raw.text.is_empty() {
        raw.no_text = Some(NoText::Empty);
    }
    Ok(raw)
}

/// Normalises a reader's text and decides between text and "no text".
fn finish(format: Format, raw: Raw, limits: &Limits) -> Extracted {
    let mut out = Extracted {
        format,
        text: None,
        no_text: raw.no_text,
        pages: raw.pages,
        sheets: raw.sheets,
        entries: raw.entries,
        truncated: raw.truncated,
    };
    if out.no_text.is_some() {
        return out;
    }
    let text = if raw.cleaned { normalize::tidy(&raw.text) } else { normalize::tidy(&normalize::clean(&raw.text)) };
    if text.is_empty() {
        out.no_text = Some(match (format, raw.pages) {
            (Format::Pdf, Some(pages)) if pages > 0 => NoText::NoTextLayer { pages },
            _ => NoText::Empty,
        });
    } else if normalize::is_unreadable(&text) {
        out.no_text = Some(NoText::Unreadable);
    } else {
        let (text, cut) = truncate(text, limits.max_text_bytes);
        out.truncated |= cut;
        out.text = Some(text);
    }
    out
}

/// Cuts `text` to at most `max` bytes at a character boundary.
fn truncate(mut text: String, max: u64) -> (String, bool) {
    let max = usize::try_from(max).unwrap_or(usize::MAX);
    if text.len() <= max {
        return (text, false);
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    (text, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_respects_characters() {
        assert_eq!(truncate("药品abc".into(), 4), ("药".into(), true));
        assert_eq!(truncate("ab".into(), 4), ("ab".into(), false));
    }

    #[test]
    fn too_large_is_refused_before_reading() {
        let limits = Limits { max_bytes: 3, ..Limits::default() };
        let err = extract(b"%PDF-1.4", "a.pdf", None, &limits).unwrap_err();
        assert!(matches!(err, Error::TooLarge { size: 8, max: 3 }), "{err}");
    }

    #[test]
    fn huge_caps_do_not_overflow() {
        let limits = Limits {
            max_bytes: u64::MAX,
            max_seconds: u64::MAX,
            max_unzipped_bytes: u64::MAX,
            max_zip_entries: u64::MAX,
            max_depth: u32::MAX,
            max_text_bytes: u64::MAX,
        };
        let got = extract_capped(b"plain words".to_vec(), "a.txt", None, &limits).unwrap();
        assert_eq!(got.text.as_deref(), Some("plain words"));
    }

    #[test]
    fn text_in_gb18030_is_decoded() {
        let (gbk, _, _) = encoding_rs::GB18030.encode("药品注册管理办法");
        let got = extract(&gbk, "a.txt", None, &Limits::default()).unwrap();
        assert_eq!(got.format, Format::Text);
        assert_eq!(got.text.as_deref(), Some("药品注册管理办法"));
    }

    #[test]
    fn unsupported_formats_give_no_text_with_the_reason() {
        let got = extract(b"{\\rtf1 hello}", "a.doc", None, &Limits::default()).unwrap();
        assert_eq!(got.no_text, Some(NoText::Unsupported { format: Format::Rtf }));
        assert!(got.text.is_none());
    }
}
