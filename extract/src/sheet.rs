//! Spreadsheets (`.xlsx`, `.xls`, WPS `.et` in either, `.ods`): every
//! sheet, read with calamine. A sheet becomes its name on a line, then a
//! line per row with cells separated by tabs.

use std::io::{Cursor, Read};

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

/// Most cells a sheet may span (rows × columns between its first and last
/// cell). calamine lays a sheet out densely and reserves what an `.xls`
/// declares: a damaged or hostile file declaring a huge area would make it
/// allocate gigabytes, or abort the process, so such sheets are refused
/// first. 4 million cells is ~150 MB at most, far past real attachments.
pub const MAX_SHEET_CELLS: u64 = 4_000_000;

/// Reads every sheet of a workbook in `format` (Xls, Xlsx or Ods).
pub(crate) fn read(bytes: &[u8], format: Format, budget: &mut Budget, deadline: &Deadline) -> Result<SheetText> {
    match format {
        Format::Xlsx => {
            // calamine inflates what the container declares: check it first.
            let strings = archive::check_container(bytes, format, budget, deadline, "xl/sharedStrings.xml")?;
            check_shared_strings(strings)?;
            xlsx(bytes, deadline)
        }
        Format::Ods => {
            archive::check_container(bytes, format, budget, deadline, "")?;
            workbook(Ods::new(Cursor::new(bytes)), format, deadline)
        }
        _ => {
            check_xls(bytes)?;
            workbook(Xls::new(Cursor::new(bytes)), format, deadline)
        }
    }
}

/// calamine reserves room for as many shared strings as the part's
/// `uniqueCount` says; each takes at least `<si></si>`, 9 bytes.
fn check_shared_strings(part: Option<(Vec<u8>, u64)>) -> Result<()> {
    let Some((head, size)) = part else {
        return Ok(());
    };
    let head = String::from_utf8_lossy(&head);
    let declared = head
        .split_once("uniqueCount=\"")
        .and_then(|(_, rest)| rest.split('"').next())
        .and_then(|n| n.parse::<u64>().ok());
    match declared {
        Some(n) if n > size / 9 + 1 => Err(Error::Malformed {
            format: Format::Xlsx,
            reason: format!("sharedStrings.xml declares {n} strings in {size} bytes"),
        }),
        _ => Ok(()),
    }
}

/// An `.xlsx`, cell by cell (calamine's streaming reader: no dense layout).
fn xlsx(bytes: &[u8], deadline: &Deadline) -> Result<SheetText> {
    let format = Format::Xlsx;
    let mut book = Xlsx::new(Cursor::new(bytes)).map_err(|e| failed(format, e.to_string()))?;
    let names = book.sheet_names();
    let mut text = String::new();
    for name in &names {
        deadline.check(format)?;
        let mut cells = book.worksheet_cells_reader(name).map_err(|e| failed(format, format!("sheet {name}: {e}")))?;
        if !text.is_empty() {
            text.push_str("\n\n");
        }
        text.push_str(name);
        let mut row = None;
        let mut n = 0u32;
        while let Some(c) = cells.next_cell().map_err(|e| failed(format, format!("sheet {name}: {e}")))? {
            n = n.wrapping_add(1);
            if n.is_multiple_of(4096) {
                deadline.check(format)?;
            }
            let value = cell(&Data::from(c.get_value().clone()));
            if value.is_empty() {
                continue;
            }
            let (r, _) = c.get_position();
            text.push(if row == Some(r) { '\t' } else { '\n' });
            row = Some(r);
            text.push_str(&value);
        }
    }
    Ok(SheetText { text, sheets: names.len() as u32 })
}

/// Walks the BIFF records of an `.xls` workbook stream and refuses the
/// sheets calamine would lay out past [`MAX_SHEET_CELLS`]: a Dimensions
/// record whose last row or column comes before its first (calamine's
/// arithmetic underflows), or cells spread over too large an area.
fn check_xls(bytes: &[u8]) -> Result<()> {
    let format = Format::Xls;
    let malformed = |reason: String| Error::Malformed { format, reason };
    let Ok(mut cfb) = cfb::CompoundFile::open(Cursor::new(bytes)) else {
        // calamine says what is wrong with the container.
        return Ok(());
    };
    let stream = ["/Workbook", "/Book"].into_iter().find(|s| cfb.is_stream(s));
    let Some(stream) = stream else {
        return Ok(());
    };
    let mut data = Vec::new();
    cfb.open_stream(stream)
        .and_then(|s| s.take(bytes.len() as u64).read_to_end(&mut data))
        .map_err(|e| malformed(format!("workbook stream: {e}")))?;
    let u16_at = |r: &[u8], i: usize| r.get(i..i + 2).map(|b| u16::from_le_bytes([b[0], b[1]]));
    let u32_at = |r: &[u8], i: usize| r.get(i..i + 4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
    // Bounds of the cells of the current substream (sheet).
    let mut bounds: Option<(u32, u32, u32, u32)> = None;
    let area = |b: Option<(u32, u32, u32, u32)>| {
        b.map_or(0, |(r0, r1, c0, c1)| (u64::from(r1 - r0) + 1) * (u64::from(c1 - c0) + 1))
    };
    let mut i = 0;
    while i + 4 <= data.len() {
        let typ = u16::from_le_bytes([data[i], data[i + 1]]);
        let len = usize::from(u16::from_le_bytes([data[i + 2], data[i + 3]]));
        let rec = &data[i + 4..(i + 4 + len).min(data.len())];
        i += 4 + len;
        match typ {
            // BOF: a new substream; EOF: its end.
            0x0809 | 0x000A => {
                if area(bounds) > MAX_SHEET_CELLS {
                    return Err(malformed(format!(
                        "a sheet spans {} cells, over the cap of {MAX_SHEET_CELLS}",
                        area(bounds)
                    )));
                }
                bounds = None;
            }
            // Dimensions, as calamine reads it.
            0x0200 => {
                let (rf, rl, mut cf, cl) = match rec.len() {
                    10 => (
                        u16_at(rec, 0).map(u32::from),
                        u16_at(rec, 2).map(u32::from),
                        u16_at(rec, 4).map(u32::from),
                        u16_at(rec, 6).map(u32::from),
                    ),
                    14 | 16 => {
                        (u32_at(rec, 0), u32_at(rec, 4), u16_at(rec, 8).map(u32::from), u16_at(rec, 10).map(u32::from))
                    }
                    _ => continue,
                };
                let (Some(rf), Some(rl), Some(cf0), Some(cl)) = (rf, rl, cf, cl) else {
                    continue;
                };
                cf = Some(if cf0 > 0xFF || cl < cf0 { 0 } else { cf0 });
                let cf = cf.unwrap_or(0);
                if rl >= 1 && cl >= 1 {
                    if rl - 1 < rf {
                        return Err(malformed(format!(
                            "Dimensions record ends at row {rl} before it starts at row {rf}"
                        )));
                    }
                    let cells = u64::from(rl - rf) * u64::from(cl - cf);
                    if cells > MAX_SHEET_CELLS {
                        return Err(malformed(format!(
                            "a sheet declares {cells} cells, over the cap of {MAX_SHEET_CELLS}"
                        )));
                    }
                }
            }
            // Records of cells: row and column first.
            0x0006 | 0x00BD | 0x00BE | 0x00D6 | 0x00FD | 0x0201 | 0x0203 | 0x0204 | 0x0205 | 0x027E => {
                if let (Some(r), Some(c)) = (u16_at(rec, 0), u16_at(rec, 2)) {
                    let (r, c) = (u32::from(r), u32::from(c));
                    // MulRk/MulBlank end with their last column.
                    let c_last = if matches!(typ, 0x00BD | 0x00BE) && rec.len() >= 6 {
                        u16_at(rec, rec.len() - 2).map_or(c, u32::from).max(c)
                    } else {
                        c
                    };
                    bounds = Some(match bounds {
                        None => (r, r, c, c_last),
                        Some((r0, r1, c0, c1)) => (r0.min(r), r1.max(r), c0.min(c), c1.max(c_last)),
                    });
                }
            }
            _ => {}
        }
    }
    if area(bounds) > MAX_SHEET_CELLS {
        return Err(malformed(format!("a sheet spans {} cells, over the cap of {MAX_SHEET_CELLS}", area(bounds))));
    }
    Ok(())
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
