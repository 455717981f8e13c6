//! Dates in every form the five sites and the digests write them, parsed
//! in one place: `2020-05-14`, `2020/5/14`, `2020.5.14`, `20200514`,
//! `2020年5月14日`, `5月14日` (year given), US `05/14/2020`, European
//! `14.05.2020`, `14 May 2020`, and feed dates (RFC 2822 / RFC 3339).
//!
//! Every function finds the first date of its form in a longer text and
//! returns `None` (never panics) when there is none or it is not a real day.

use std::sync::LazyLock;

use chrono::{DateTime, NaiveDate};
use regex::Regex;

/// `2020 年 5 月 13 日`.
pub(crate) static YMD_CN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日").expect("valid regex"));
/// `2020-05-13`, `2020/5/13`, `2020.5.13`; the leading group keeps it off longer numbers.
pub(crate) static YMD_NUM: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:^|[^\d./-])(\d{4})\s*([-/.])\s*(\d{1,2})\s*[-/.]\s*(\d{1,2})(?:$|[^\d])").expect("valid regex")
});
/// `5月 11日` (the year comes from elsewhere).
pub(crate) static MD_CN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(\d{1,2})\s*月\s*(\d{1,2})\s*日").expect("valid regex"));
/// Any year-first form of the sites, `20200514` included.
static YMD_ANY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"((?:19|20)\d{2})\s*(?:[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})|(\d{2})(\d{2}))(?:\D|$)")
        .expect("valid regex")
});
/// US `MM/DD/YYYY` (FDA).
static MDY: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b(\d{1,2})/(\d{1,2})/((?:19|20)\d{2})\b").expect("valid regex"));
/// `DD.MM.YYYY` or `DD.MM.YY` (ECA).
static DMY_DOTS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?:^|\D)(\d{1,2})\.(\d{1,2})\.(\d{4}|\d{2})(?:\D|$)").expect("valid regex"));
/// `6 October 2005` (ECA).
static WORDED: LazyLock<Regex> = LazyLock::new(|| {
    let m = r"(Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?";
    Regex::new(&format!(r"(?i)\b{m}\s+(\d{{1,2}}),?\s+((?:19|20)\d{{2}})\b|\b(\d{{1,2}})\s+{m}\s+((?:19|20)\d{{2}})\b"))
        .expect("valid regex")
});
static DMY_WORDS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(\d{1,2}) (January|February|March|April|May|June|July|August|September|October|November|December) (\d{4})\b")
        .expect("valid regex")
});

fn num(m: Option<regex::Match<'_>>) -> Option<i32> {
    m?.as_str().parse().ok()
}

/// A calendar day from its parts, `None` when any is missing or the day does not exist.
pub(crate) fn from_parts(y: Option<i32>, m: Option<i32>, d: Option<i32>) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(y?, u32::try_from(m?).ok()?, u32::try_from(d?).ok()?)
}

/// The first year-first date: `YYYY-MM-DD`, `YYYY/MM/DD`, `YYYY.MM.DD`,
/// `YYYY年M月D日` or `YYYYMMDD` (years 1900–2099).
pub fn ymd(s: &str) -> Option<NaiveDate> {
    YMD_ANY
        .captures_iter(s)
        .find_map(|c| from_parts(num(c.get(1)), num(c.get(2).or(c.get(4))), num(c.get(3).or(c.get(5)))))
}

/// The first `YYYY年M月D日` (spaces allowed, as PDF extraction leaves them).
pub fn cn(s: &str) -> Option<NaiveDate> {
    YMD_CN.captures_iter(s).find_map(|c| from_parts(num(c.get(1)), num(c.get(2)), num(c.get(3))))
}

/// The first US date `MM/DD/YYYY`.
pub fn mdy(s: &str) -> Option<NaiveDate> {
    MDY.captures_iter(s).find_map(|c| from_parts(num(c.get(3)), num(c.get(1)), num(c.get(2))))
}

/// The first `DD.MM.YYYY` or `DD.MM.YY` (a two-digit year is 20YY).
pub fn dmy_dotted(s: &str) -> Option<NaiveDate> {
    DMY_DOTS.captures_iter(s).find_map(|c| {
        let y = num(c.get(3))?;
        let y = if c[3].len() == 2 { y + 2000 } else { y };
        from_parts(Some(y), num(c.get(2)), num(c.get(1)))
    })
}

/// The first `6 October 2005`.
pub fn dmy_words(s: &str) -> Option<NaiveDate> {
    DMY_WORDS
        .captures_iter(s)
        .find_map(|c| NaiveDate::parse_from_str(&format!("{} {} {}", &c[1], &c[2], &c[3]), "%d %B %Y").ok())
}

/// The first worded date, month first or day first, full or abbreviated
/// month names: `June 30, 2020`, `Jun. 30 2020`, `30 Sept 2020`.
pub fn worded(s: &str) -> Option<NaiveDate> {
    let month = |m: &str| -> Option<u32> {
        let m3: String = m.chars().take(3).collect::<String>().to_ascii_lowercase();
        let i = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
            .iter()
            .position(|x| *x == m3)?;
        u32::try_from(i + 1).ok()
    };
    WORDED.captures_iter(s).find_map(|c| match (c.get(1), c.get(2), c.get(3), c.get(4), c.get(5), c.get(6)) {
        (Some(m), Some(d), Some(y), ..) => {
            from_parts(num(Some(y)), i32::try_from(month(m.as_str())?).ok(), num(Some(d)))
        }
        (.., Some(d), Some(m), Some(y)) => {
            from_parts(num(Some(y)), i32::try_from(month(m.as_str())?).ok(), num(Some(d)))
        }
        _ => None,
    })
}

/// A feed date: RFC 2822 (RSS `pubDate`) or RFC 3339 (Atom), else a worded
/// or year-first date in the text.
pub fn feed(s: &str) -> Option<NaiveDate> {
    DateTime::parse_from_rfc2822(s.trim())
        .or_else(|_| DateTime::parse_from_rfc3339(s.trim()))
        .map(|d| d.date_naive())
        .ok()
        .or_else(|| dmy_words(s))
        .or_else(|| ymd(s))
}

/// The first date in any form the weekly digests use — `2020年5月13日`,
/// `2020-05-13`, `2020/5/13`, and `5月 11日` when `year` is given —
/// whichever comes first in `s`.
pub fn in_digest(s: &str, year: Option<i32>) -> Option<NaiveDate> {
    let mut best: Option<(usize, NaiveDate)> = None;
    let mut consider = |pos: usize, d: Option<NaiveDate>| {
        if let Some(d) = d
            && best.is_none_or(|(p, _)| pos < p)
        {
            best = Some((pos, d));
        }
    };
    for c in YMD_CN.captures_iter(s) {
        consider(c.get(0).map_or(0, |m| m.start()), from_parts(num(c.get(1)), num(c.get(2)), num(c.get(3))));
    }
    for c in YMD_NUM.captures_iter(s) {
        consider(c.get(1).map_or(0, |m| m.start()), from_parts(num(c.get(1)), num(c.get(3)), num(c.get(4))));
    }
    if let Some(y) = year {
        for c in MD_CN.captures_iter(s) {
            // `2020年5月13日` is already a full date: its `5月13日` would only repeat it.
            let start = c.get(0).map_or(0, |m| m.start());
            if s[..start].trim_end().ends_with('年') {
                continue;
            }
            consider(start, from_parts(Some(y), num(c.get(1)), num(c.get(2))));
        }
    }
    best.map(|(_, d)| d)
}

/// The year of the first `YYYY-MM-DD`-like date in `s` (a digest's file name).
pub(crate) fn year_of_numeric(s: &str) -> Option<i32> {
    YMD_NUM.captures(s).and_then(|c| num(c.get(1)))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn worded_dates_month_or_day_first() {
        let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d);
        assert_eq!(worded("Comments due by June 30, 2020."), d(2020, 6, 30));
        assert_eq!(worded("closes Jun. 30 2020"), d(2020, 6, 30));
        assert_eq!(worded("on 30 Sept 2020"), d(2020, 9, 30));
        assert_eq!(worded("may 5, 2021"), d(2021, 5, 5));
        assert_eq!(worded("Junk 30, 2020"), None);
        assert_eq!(worded("February 30, 2020"), None);
    }

    fn d(y: i32, m: u32, day: u32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(y, m, day)
    }

    #[test]
    fn every_form_of_the_sites_and_digests() {
        assert_eq!(ymd("发布时间：2020年5月14日"), d(2020, 5, 14));
        assert_eq!(ymd("20200514"), d(2020, 5, 14));
        assert_eq!(ymd("2020.05.14"), d(2020, 5, 14));
        assert_eq!(ymd("2020-13-45"), None);
        assert_eq!(cn("2020 年 5 月 13 日"), d(2020, 5, 13));
        assert_eq!(mdy("Content current as of: 05/14/2020"), d(2020, 5, 14));
        assert_eq!(mdy("13/45/2020"), None);
        assert_eq!(dmy_dotted("News 14.05.2020"), d(2020, 5, 14));
        assert_eq!(dmy_dotted("14.05.20"), d(2020, 5, 14));
        assert_eq!(dmy_words("on 6 October 2005 the"), d(2005, 10, 6));
        assert_eq!(feed("Thu, 14 May 2020 08:00:00 +0200"), d(2020, 5, 14));
        assert_eq!(feed("2020-05-14T08:00:00Z"), d(2020, 5, 14));
        assert_eq!(in_digest("（2020-05-11）", None), d(2020, 5, 11));
        assert_eq!(in_digest("5月 11日发布", Some(2020)), d(2020, 5, 11));
        assert_eq!(in_digest("5月 11日发布", None), None);
        assert_eq!(in_digest("2020年 13月 40日", None), None);
        assert_eq!(year_of_numeric("周报 2020.05.15.txt"), Some(2020));
    }

    proptest! {
        #[test]
        fn never_panics_and_finds_a_written_date(s in "\\PC{0,40}", y in 1990i32..2090, m in 1u32..13, day in 1u32..29) {
            let _ = (ymd(&s), cn(&s), mdy(&s), dmy_dotted(&s), dmy_words(&s), feed(&s), in_digest(&s, Some(2020)));
            let want = NaiveDate::from_ymd_opt(y, m, day);
            prop_assert_eq!(ymd(&format!("时间：{y}-{m:02}-{day:02} 来源")), want);
            prop_assert_eq!(cn(&format!("{y}年{m}月{day}日")), want);
            prop_assert_eq!(mdy(&format!("{m:02}/{day:02}/{y}")), want);
            prop_assert_eq!(in_digest(&format!("（{y}/{m}/{day}）"), None), want);
        }
    }
}
