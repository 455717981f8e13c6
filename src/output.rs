//! Terminal output: bold highlights on a terminal, plain text when piped.

use std::io::{IsTerminal, Write};

/// How to write highlighted text.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    /// Use ANSI escapes.
    pub color: bool,
}

impl Style {
    /// ANSI when stdout is a terminal and NO_COLOR is unset.
    pub fn detect() -> Style {
        Style { color: std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none() }
    }

    /// `text` with the byte `ranges` in bold.
    pub fn highlight(&self, text: &str, ranges: &[[usize; 2]]) -> String {
        if !self.color {
            return text.to_string();
        }
        let mut out = String::with_capacity(text.len() + ranges.len() * 8);
        let mut at = 0;
        for &[s, e] in ranges {
            if s < at || e > text.len() || !text.is_char_boundary(s) || !text.is_char_boundary(e) {
                continue;
            }
            out.push_str(&text[at..s]);
            out.push_str("\x1b[1m");
            out.push_str(&text[s..e]);
            out.push_str("\x1b[0m");
            at = e;
        }
        out.push_str(&text[at..]);
        out
    }

    /// Dim text (metadata lines).
    pub fn dim(&self, text: &str) -> String {
        if self.color { format!("\x1b[2m{text}\x1b[0m") } else { text.to_string() }
    }
}

/// Byte ranges of `<b>…</b>` in an HTML title, mapped onto the plain title.
pub fn ranges_from_html(html: &str) -> (String, Vec<[usize; 2]>) {
    let mut plain = String::new();
    let mut ranges = Vec::new();
    let mut rest = html;
    let mut start = None;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix("<b>") {
            start = Some(plain.len());
            rest = r;
        } else if let Some(r) = rest.strip_prefix("</b>") {
            if let Some(s) = start.take() {
                ranges.push([s, plain.len()]);
            }
            rest = r;
        } else if rest.starts_with('&') {
            let (entity, len) = [("&lt;", '<'), ("&gt;", '>'), ("&amp;", '&'), ("&quot;", '"'), ("&#39;", '\'')]
                .iter()
                .find(|(e, _)| rest.starts_with(e))
                .map(|(e, c)| (*c, e.len()))
                .unwrap_or(('&', 1));
            plain.push(entity);
            rest = &rest[len..];
        } else {
            let c = rest.chars().next().expect("non-empty");
            plain.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    (plain, ranges)
}

/// Writes a line to stdout, returning the I/O error (so a closed pipe ends
/// the command quietly instead of panicking as `println!` would).
pub fn line(out: &mut impl Write, text: &str) -> std::io::Result<()> {
    writeln!(out, "{text}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_ranges_round_trip() {
        let (plain, ranges) = ranges_from_html("a &amp; <b>评价</b> x");
        assert_eq!(plain, "a & 评价 x");
        assert_eq!(&plain[ranges[0][0]..ranges[0][1]], "评价");
        let s = Style { color: true };
        assert_eq!(s.highlight("ab", &[[1, 2]]), "a\x1b[1mb\x1b[0m");
        assert_eq!(Style { color: false }.highlight("ab", &[[1, 2]]), "ab");
    }
}
