//! Spreadsheets (`.xlsx`, `.xls`, WPS `.et` in either, `.ods`): every
//! sheet, read with calamine. A sheet becomes its name on a line, then a
//! line per row with cells separated by tabs.

use std::io::Cursor;

use calamine::{Data, Ods, Reader, Xls, Xlsx};

use crate::archive;
use crate::error::{Error, Result};
use crate::format::Format;
use crate::limits::{Budget, Deadline};

/// Text of a workbook and its sheet count.
pub(crate) struct SheetText {
    pub(crate) text: String,
    pub(crate) sheets: u32,
}

/// Reads every sheet of a workbook in `format` (Xls, Xlsx or Ods).
pub(crate) fn read(bytes: &[u8], format: Format, budget: &mut Budget, deadline: &Deadline) -> Result<SheetText> {
    if matches!(format, Format::Xlsx | Format::Ods) {
        // calamine inflates what the container declares: check it first.
        archive::check_container(bytes, format, budget, deadline)?;
    }
    let cursor = Cursor::new(bytes);
    match format {
        Format::Xls => workbook(Xls::new(cursor), format, deadline),
        Format::Xlsx => workbook(Xlsx::new(cursor), format, deadline),
        _ => workbook(Ods::new(cursor), format, deadline),
    }
}

fn workbook<RS, R>(opened: std::result::Result<R, R::Error>, format: Format, deadline: &Deadline) -> Result<SheetText>
where
    RS: std::io::Read + std::io::Seek,
    R: Reader<RS>,
    R::Error: std::fmt::Display,
{
    let mut book = opened.map_err(|e| failed(format, e.to_string()))?;
    let names = book.sheet_names();
    let mut text = String::new();
    for name in &names {
        deadline.check(format)?;
        let range = book.worksheet_range(name).map_err(|e| failed(format, format!("sheet {name}: {e}")))?;
        if !text.is_empty() {
            text.push_str("\n\n");
        }
        text.push_str(name);
        text.push('\n');
        for (i, row) in range.rows().enumerate() {
            if i % 1024 == 1023 {
                deadline.check(format)?;
            }
            let cells: Vec<String> = row.iter().map(cell).collect();
            let used = cells.iter().rposition(|c| !c.is_empty()).map_or(0, |i| i + 1);
            if used == 0 {
                continue;
            }
            text.push_str(&cells[..used].join("\t"));
            text.push('\n');
        }
    }
    Ok(SheetText { text, sheets: names.len() as u32 })
}

/// A cell as a user reads it: dates as dates, not serial numbers.
fn cell(data: &Data) -> String {
    match data {
        Data::DateTime(dt) => match dt.as_datetime() {
            Some(t) if t.time() == chrono::NaiveTime::MIN => t.format("%Y-%m-%d").to_string(),
            Some(t) => t.format("%Y-%m-%d %H:%M:%S").to_string(),
            None => data.to_string(),
        },
        Data::Error(_) | Data::Empty => String::new(),
        Data::String(s) => s.trim().to_owned(),
        other => other.to_string(),
    }
}

/// calamine's error, told apart: a password, or a damaged file.
fn failed(format: Format, reason: String) -> Error {
    let lower = reason.to_ascii_lowercase();
    if lower.contains("password") || lower.contains("encrypt") {
        Error::Encrypted { format }
    } else {
        Error::Malformed { format, reason }
    }
}
