//! Reading notices back from the JSON lines `notices export` writes.
//!
//! `notices import` reads its input twice: once to check every line, then
//! to write, so a bad line anywhere leaves the index as it was (or, when
//! bad lines are to be skipped, is counted and left out). Each pass takes
//! one notice at a time ([`read_each`]); only the ids are held, to find
//! repeats: reading a whole export into memory first needed memory in
//! proportion to the index (BENCHMARKS.md §14).

use std::collections::HashMap;
use std::io::BufRead;
use std::path::Path;

use crate::error::{Error, Result};
use crate::notice::Notice;

/// What [`read`] found: the notices to write, in input order, and the lines
/// it skipped.
#[derive(Debug, Default)]
pub struct Parsed {
    /// Valid notices, in the order of their lines.
    pub notices: Vec<Notice>,
    /// Lines left out (only when skipping): `(line number, reason)`.
    pub skipped: Vec<(usize, String)>,
}

/// What [`read_each`] passed on and left out.
#[derive(Debug, Default)]
pub struct Checked {
    /// Valid notices.
    pub notices: u64,
    /// Lines left out (only when skipping): `(line number, reason)`.
    pub skipped: Vec<(usize, String)>,
}

/// Every valid notice of `input` in one vector (tests, small inputs); see
/// [`read_each`].
pub fn read(input: impl BufRead, name: &Path, skip_bad: bool) -> Result<Parsed> {
    let mut notices = Vec::new();
    let checked = read_each(input, name, skip_bad, |n| {
        notices.push(n);
        Ok::<(), Error>(())
    })?;
    Ok(Parsed { notices, skipped: checked.skipped })
}

/// Reads one notice per line from `input` (`name` is for I/O errors) and
/// calls `f` with each, in input order. Blank lines are ignored. A line
/// that is not valid UTF-8, not a notice object, fails [`Notice::validate`]
/// or repeats an id is an [`Error::BadLine`] naming its 1-based number, or,
/// with `skip_bad`, is recorded in [`Checked::skipped`].
pub fn read_each<E: From<Error>>(
    mut input: impl BufRead,
    name: &Path,
    skip_bad: bool,
    mut f: impl FnMut(Notice) -> std::result::Result<(), E>,
) -> std::result::Result<Checked, E> {
    let mut checked = Checked::default();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut buf = Vec::new();
    let mut line = 0;
    loop {
        buf.clear();
        let n = input.read_until(b'\n', &mut buf).map_err(|source| Error::Io { path: name.to_path_buf(), source })?;
        if n == 0 {
            break;
        }
        line += 1;
        match parse_line(&buf) {
            Ok(None) => {}
            Ok(Some(notice)) => match seen.get(&notice.id) {
                Some(first) => {
                    let reason = format!("duplicate id {:?} (first on line {first})", notice.id);
                    bad(&mut checked.skipped, line, reason, skip_bad)?;
                }
                None => {
                    seen.insert(notice.id.clone(), line);
                    checked.notices += 1;
                    f(notice)?;
                }
            },
            Err(reason) => bad(&mut checked.skipped, line, reason, skip_bad)?,
        }
    }
    Ok(checked)
}

fn bad(skipped: &mut Vec<(usize, String)>, line: usize, reason: String, skip_bad: bool) -> Result<()> {
    if skip_bad {
        skipped.push((line, reason));
        Ok(())
    } else {
        Err(Error::BadLine { line, reason })
    }
}

/// One line: `Ok(None)` when blank, the reason when bad.
fn parse_line(bytes: &[u8]) -> std::result::Result<Option<Notice>, String> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| format!("not UTF-8 text (invalid byte at column {})", e.valid_up_to() + 1))?;
    let text = text.trim_end_matches(['\n', '\r']);
    if text.trim().is_empty() {
        return Ok(None);
    }
    let notice: Notice = serde_json::from_str(text).map_err(|e| {
        // serde_json counts lines inside the one line we gave it.
        let what = e.to_string();
        let what = what.split(" at line ").next().unwrap_or(&what).to_string();
        format!("not a notice: {what} at column {}", e.column())
    })?;
    notice.validate().map_err(|e| match e {
        Error::InvalidNotice { reason, .. } => format!("not a notice: {reason}"),
        other => other.to_string(),
    })?;
    Ok(Some(notice))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notice::Source;

    fn line(n: &Notice) -> String {
        serde_json::to_string(n).unwrap()
    }

    fn sample() -> Vec<Notice> {
        (0..3)
            .map(|i| Notice::crawled(Source::Fda, &format!("https://www.fda.gov/{i}"), format!("Title {i}"), "Body"))
            .collect()
    }

    #[test]
    fn reads_what_export_writes_in_order_ignoring_blank_lines() {
        let notices = sample();
        let text = format!("{}\n\n{}\r\n{}", line(&notices[0]), line(&notices[1]), line(&notices[2]));
        let parsed = read(text.as_bytes(), Path::new("-"), false).unwrap();
        assert_eq!(parsed.notices, notices);
        assert!(parsed.skipped.is_empty());
    }

    #[test]
    fn a_bad_line_is_named_by_its_number_and_reason() {
        let notices = sample();
        let cases = [
            ("{\"id\": \"x\"", "column"),
            (
                "{\"id\":\"x\",\"source\":\"FDA\",\"body\":\"b\",\"origin\":{\"kind\":\"crawl\"}}",
                "missing field `title`",
            ),
            ("[1, 2]", "not a notice"),
            (
                "{\"id\":\" \",\"source\":\"FDA\",\"title\":\"t\",\"body\":\"\",\"origin\":{\"kind\":\"crawl\"}}",
                "empty id",
            ),
            ("{\"id\":\"x\",\"source\":\"WHO\",\"title\":\"t\",\"body\":\"\",\"origin\":{\"kind\":\"crawl\"}}", "WHO"),
        ];
        for (bad_line, expect) in cases {
            let text = format!("{}\n{}\n{bad_line}\n", line(&notices[0]), line(&notices[1]));
            let err = read(text.as_bytes(), Path::new("-"), false).unwrap_err();
            let msg = err.to_string();
            assert!(matches!(err, Error::BadLine { line: 3, .. }), "{msg}");
            assert!(msg.starts_with("line 3: ") && msg.contains(expect), "{bad_line}: {msg}");
            assert!(err.is_user_error());
        }
    }

    #[test]
    fn invalid_utf8_and_duplicate_ids_are_bad_lines_and_skipping_counts_them() {
        let notices = sample();
        let mut bytes = format!("{}\n", line(&notices[0])).into_bytes();
        bytes.extend_from_slice(b"\xff\xfe\n");
        bytes.extend_from_slice(format!("{}\n{}\n", line(&notices[1]), line(&notices[0])).as_bytes());
        let err = read(&bytes[..], Path::new("-"), false).unwrap_err();
        assert!(err.to_string().starts_with("line 2: not UTF-8"), "{err}");

        let parsed = read(&bytes[..], Path::new("-"), true).unwrap();
        assert_eq!(parsed.notices, notices[..2]);
        let lines: Vec<usize> = parsed.skipped.iter().map(|(l, _)| *l).collect();
        assert_eq!(lines, [2, 4]);
        assert!(parsed.skipped[1].1.contains("first on line 1"), "{:?}", parsed.skipped);
    }
}
