//! Turning the raw text a reader gives into the text a user types: radical
//! code points to ideographs, line breaks that layout put inside words
//! removed, and a check that the result is text at all.

use crate::radicals::RADICALS;

/// The ideograph a radical or stroke code point stands for. PDF producers
/// that build ToUnicode maps by reversing a font's cmap write ⽂ (U+2F42)
/// or ⺠ (U+2EA0) where the page shows 文 or 民, because one glyph serves both.
/// NFKC maps the Kangxi block (U+2F00–U+2FD5) but not the CJK Radicals
/// Supplement (U+2E80–U+2EF3), hence Unicode's equivalence table.
pub fn unify_radical(c: char) -> char {
    let cp = c as u32;
    if !(0x2E80..=0x2FDF).contains(&cp) && !(0x31C0..=0x31EF).contains(&cp) {
        return c;
    }
    match RADICALS.binary_search_by(|&(first, last, _)| {
        if last < cp {
            std::cmp::Ordering::Less
        } else if first > cp {
            std::cmp::Ordering::Greater
        } else {
            std::cmp::Ordering::Equal
        }
    }) {
        Ok(i) => char::from_u32(RADICALS[i].2).unwrap_or(c),
        Err(_) => c,
    }
}

/// Code points that carry no text: soft hyphens (a PDF keeps every one of a
/// word's break opportunities), zero-width spaces and joiners, BOMs.
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{00AD}' | '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{2060}' | '\u{FEFF}')
}

/// Radicals to ideographs, ligatures to letters, invisible characters
/// dropped, line ends to `\n`.
pub fn clean(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                if chars.peek() != Some(&'\n') {
                    out.push('\n');
                }
            }
            c if is_invisible(c) => {}
            // Latin ligatures some producers map a glyph to (ﬁnished).
            '\u{FB00}' => out.push_str("ff"),
            '\u{FB01}' => out.push_str("fi"),
            '\u{FB02}' => out.push_str("fl"),
            '\u{FB03}' => out.push_str("ffi"),
            '\u{FB04}' => out.push_str("ffl"),
            '\u{FB05}' | '\u{FB06}' => out.push_str("st"),
            c => out.push(unify_radical(c)),
        }
    }
    out
}

/// Ideographs, kana, hangul and the full-width punctuation set with them:
/// a line break between two of these is layout, not a word boundary.
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3000..=0x303F      // CJK symbols and punctuation 、。《》「」
        | 0x3040..=0x30FF    // kana
        | 0x3400..=0x4DBF    // extension A
        | 0x4E00..=0x9FFF    // unified ideographs
        | 0xAC00..=0xD7AF    // hangul
        | 0xF900..=0xFAFF    // compatibility ideographs
        | 0xFF01..=0xFF0F    // full-width ！＂＃…（）＊＋，－．／
        | 0xFF1A..=0xFF20    // full-width ：；＜＝＞？＠
        | 0xFF3B..=0xFF40
        | 0xFF5B..=0xFF65
        | 0x20000..=0x3134F  // extensions B–G
    ) || matches!(c, '“' | '”' | '‘' | '’' | '—' | '…' | '·')
}

/// Removes the line breaks a page layout put inside words: a break between
/// two CJK characters (国家药品监督\n管理局), and an English word hyphenated
/// at a line end (guid-\nance). A blank line (paragraph) is kept.
pub fn join_broken_lines(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\n' {
            let before = last_non_blank(&out);
            let after = chars[i + 1..].iter().copied().find(|c| *c != ' ' && *c != '\t');
            let next_is_break = after == Some('\n') || after.is_none();
            if !next_is_break {
                if let (Some(b), Some(a)) = (before, after)
                    && is_cjk(b)
                    && is_cjk(a)
                {
                    trim_trailing_blanks(&mut out);
                    i = skip_blanks(&chars, i + 1);
                    continue;
                }
                if let (Some(h @ ('-' | '\u{2010}')), Some(a)) = (before, after)
                    && a.is_lowercase()
                    && prev_is_lowercase_letter(&out, h)
                {
                    trim_trailing_blanks(&mut out);
                    out.pop();
                    i = skip_blanks(&chars, i + 1);
                    continue;
                }
            }
        }
        out.push(c);
        i += 1;
    }
    out
}

fn last_non_blank(s: &str) -> Option<char> {
    s.chars().rev().find(|c| *c != ' ' && *c != '\t')
}

fn trim_trailing_blanks(s: &mut String) {
    while s.ends_with([' ', '\t']) {
        s.pop();
    }
}

fn skip_blanks(chars: &[char], mut i: usize) -> usize {
    while i < chars.len() && (chars[i] == ' ' || chars[i] == '\t') {
        i += 1;
    }
    i
}

/// Whether the character before the trailing hyphen `h` is a lower-case letter
/// (guid-, not 2020- or A-).
fn prev_is_lowercase_letter(s: &str, h: char) -> bool {
    let mut rev = s.trim_end_matches([' ', '\t']).chars().rev();
    rev.next() == Some(h) && rev.next().is_some_and(char::is_lowercase)
}

/// Trailing blanks cut from every line, runs of blank lines to one, the
/// whole trimmed.
pub fn tidy(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank_run = 0;
    for line in text.lines() {
        let line = line.trim_end();
        if line.is_empty() {
            blank_run += 1;
            continue;
        }
        if !out.is_empty() {
            out.push_str(if blank_run > 0 { "\n\n" } else { "\n" });
        }
        blank_run = 0;
        out.push_str(line);
    }
    out
}

/// Whether text is mostly not text: private-use code points (a font without
/// a usable ToUnicode map), U+FFFD, control characters, or symbols where
/// letters should be. Such text is recorded as unreadable, never indexed.
pub fn is_unreadable(text: &str) -> bool {
    let (mut total, mut bad, mut wordy) = (0usize, 0usize, 0usize);
    for c in text.chars().filter(|c| !c.is_whitespace()) {
        total += 1;
        let cp = c as u32;
        if c == '\u{FFFD}' || c.is_control() || (0xE000..=0xF8FF).contains(&cp) || (0xF0000..=0x10FFFF).contains(&cp) {
            bad += 1;
        } else if c.is_alphanumeric() {
            wordy += 1;
        }
    }
    total > 0 && (bad * 10 > total || wordy * 10 < total * 4)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn radicals_become_the_ideographs_users_type() {
        // Kangxi Radicals block (NFKC would do these) and the CJK Radicals
        // Supplement (NFKC leaves ⺠ and ⻝ alone).
        assert_eq!(clean("⽂件⼀致性"), "文件一致性");
        assert_eq!(clean("⼈⺠政府⻝品⻅"), "人民政府食品见");
        assert_eq!(unify_radical('⺀'), '⺀', "U+2E80 has no equivalent");
        assert_eq!(unify_radical('a'), 'a');
    }

    #[test]
    fn invisible_characters_and_carriage_returns_go() {
        assert_eq!(clean("guid\u{AD}ance\r\nnext\rlast\u{200B}"), "guidance\nnext\nlast");
        assert_eq!(clean("\u{FB01}nished"), "finished");
    }

    #[test]
    fn breaks_inside_chinese_and_hyphenated_words_are_joined() {
        assert_eq!(join_broken_lines("国家药品监督\n管理局"), "国家药品监督管理局");
        assert_eq!(join_broken_lines("监督检查，\n确保"), "监督检查，确保");
        assert_eq!(join_broken_lines("this guid-\nance applies"), "this guidance applies");
        assert_eq!(join_broken_lines("sub\u{2010}\nmission"), "submission");
        // Kept: a paragraph break, words of English, numbers and capitals.
        assert_eq!(join_broken_lines("通告。\n\n附件"), "通告。\n\n附件");
        assert_eq!(join_broken_lines("the\nchemistry"), "the\nchemistry");
        assert_eq!(join_broken_lines("FDA-\n2020"), "FDA-\n2020");
        assert_eq!(join_broken_lines("药品\nThe"), "药品\nThe");
    }

    #[test]
    fn tidy_collapses_blank_runs() {
        assert_eq!(tidy("  a  \n\n\n\nb\n"), "  a\n\nb");
    }

    #[test]
    fn unreadable_text_is_recognised() {
        assert!(is_unreadable("\u{E001}\u{E002}\u{E003}ab"));
        assert!(is_unreadable("\u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD}"));
        assert!(is_unreadable("!\"#$%&'()*+,-./ !#$%"));
        assert!(!is_unreadable("国家药品监督管理局 2020年第62号"));
        assert!(!is_unreadable("1\t2\t3.5\n4\t5\t6"));
        assert!(!is_unreadable(""));
    }
}
