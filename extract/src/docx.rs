//! Word 2007+ (`.docx`, and WPS Writer files saved as OOXML): the text of
//! the body, its tables, footnotes and endnotes, read from the zip's XML
//! parts with quick-xml.

use quick_xml::Reader;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::Event;

use crate::archive;
use crate::error::{Error, Result};
use crate::format::Format;
use crate::limits::{Budget, Deadline};

/// The parts read, in order; only the body must exist.
const PARTS: [&str; 3] = ["word/document.xml", "word/footnotes.xml", "word/endnotes.xml"];

/// Reads the text of a `.docx`.
pub(crate) fn read(bytes: &[u8], budget: &mut Budget, deadline: &Deadline) -> Result<String> {
    let mut zip = archive::open(bytes, Format::Docx, budget)?;
    let mut text = String::new();
    for (i, part) in PARTS.iter().enumerate() {
        let Some(index) = zip.index_for_name(part) else {
            if i == 0 {
                return Err(Error::Malformed { format: Format::Docx, reason: format!("no {part} in the package") });
            }
            continue;
        };
        let xml = archive::read_member(&mut zip, index, Format::Docx, budget, deadline)?;
        if !text.is_empty() {
            text.push_str("\n\n");
        }
        part_text(&xml, &mut text, deadline).map_err(|e| match e {
            Error::Malformed { reason, .. } => {
                Error::Malformed { format: Format::Docx, reason: format!("{part}: {reason}") }
            }
            e => e,
        })?;
    }
    Ok(text)
}

/// Appends the text of one WordprocessingML part: a line per paragraph; in
/// a table, cells of a row separated by tabs and a line per row.
fn part_text(xml: &[u8], out: &mut String, deadline: &Deadline) -> Result<()> {
    let mut reader = Reader::from_reader(xml);
    let malformed = |e: &dyn std::fmt::Display, pos: u64| Error::Malformed {
        format: Format::Docx,
        reason: format!("{e} at byte {pos}"),
    };
    // Whether the reader is inside <w:t> (text) and inside a table cell;
    // how deep in an mc:Fallback (the legacy copy of a text box, which would
    // repeat its text).
    let (mut in_text, mut cell_depth, mut fallback_depth) = (false, 0u32, 0u32);
    let mut events = 0u32;
    loop {
        events = events.wrapping_add(1);
        if events.is_multiple_of(4096) {
            deadline.check(Format::Docx)?;
        }
        let pos = reader.buffer_position();
        let event = reader.read_event().map_err(|e| malformed(&e, pos))?;
        match event {
            Event::Start(e) => match e.local_name().as_ref() {
                "Fallback" => fallback_depth += 1,
                "t" => in_text = true,
                "tc" => cell_depth += 1,
                _ => {}
            },
            Event::End(e) => match e.local_name().as_ref() {
                "Fallback" => fallback_depth = fallback_depth.saturating_sub(1),
                "t" => in_text = false,
                "p" if fallback_depth == 0 => {
                    // In a cell, its paragraphs run on; the cell end tabs.
                    out.push(if cell_depth > 0 { ' ' } else { '\n' });
                }
                "tc" if fallback_depth == 0 => {
                    cell_depth = cell_depth.saturating_sub(1);
                    trim_end_spaces(out);
                    out.push('\t');
                }
                "tr" if fallback_depth == 0 => {
                    trim_end_tabs(out);
                    out.push('\n');
                }
                _ => {}
            },
            Event::Empty(e) if fallback_depth == 0 => match e.local_name().as_ref() {
                "tab" => out.push('\t'),
                "br" | "cr" => out.push('\n'),
                _ => {}
            },
            Event::Text(t) if in_text && fallback_depth == 0 => out.push_str(&t.xml10_content()),
            Event::CData(t) if in_text && fallback_depth == 0 => out.push_str(&t.xml10_content()),
            Event::GeneralRef(r) if in_text && fallback_depth == 0 => {
                if let Some(c) = r.resolve_char_ref().map_err(|e| malformed(&e, pos))? {
                    out.push(c);
                } else if let Some(s) = resolve_predefined_entity(&r) {
                    out.push_str(s);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(())
}

fn trim_end_spaces(s: &mut String) {
    while s.ends_with(' ') {
        s.pop();
    }
}

fn trim_end_tabs(s: &mut String) {
    while s.ends_with(['\t', ' ']) {
        s.pop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Limits;

    fn text(xml: &str) -> String {
        let mut out = String::new();
        part_text(xml.as_bytes(), &mut out, &Deadline::starting_now(&Limits::default())).unwrap();
        out
    }

    #[test]
    fn paragraphs_tables_and_entities() {
        let xml = r#"<w:document xmlns:w="w"><w:body>
            <w:p><w:r><w:t>药品</w:t></w:r><w:r><w:t xml:space="preserve"> A&amp;B &#x6587;</w:t></w:r></w:p>
            <w:tbl><w:tr><w:tc><w:p><w:r><w:t>登记号</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>Y1</w:t></w:r></w:p></w:tc></w:tr></w:tbl>
            <w:p><w:r><w:t>a</w:t><w:tab/><w:t>b</w:t><w:br/><w:t>c</w:t></w:r></w:p>
            <mc:AlternateContent><mc:Choice><w:p><w:r><w:t>box</w:t></w:r></w:p></mc:Choice><mc:Fallback><w:p><w:r><w:t>box</w:t></w:r></w:p></mc:Fallback></mc:AlternateContent>
            </w:body></w:document>"#;
        assert_eq!(text(xml), "药品 A&B 文\n登记号\tY1\na\tb\nc\nbox\n");
    }

    #[test]
    fn broken_xml_is_an_error() {
        let mut out = String::new();
        let err = part_text(b"<w:p><w:t>a</w:x>", &mut out, &Deadline::starting_now(&Limits::default())).unwrap_err();
        assert!(matches!(err, Error::Malformed { .. }), "{err}");
    }
}
