//! Document type, draft/final status and comment closing date of a notice,
//! from its source's own markers and its text. Every text rule lives here;
//! a source only says what markers it has ([`Markers`]) and calls [`apply`].
//!
//! Precedence, most to least trusted:
//!
//! - **type**: the kind the source states for the item (FDA's
//!   communication type, ECA's category), then the genre word that ends a
//!   Chinese official title (…的公告 / 通告 / 通知, …指导原则) or an English
//!   title's own words (Guidance, Q&A, Warning Letter), then the column the
//!   notice was listed in (CDE's 指导原则 database, NMPA's 法规文件 …);
//! - **status**: the status the source states (FDA `Final`/`Draft`, CDE's
//!   状态 `征求意见`/`颁布`), then draft markers in the title or column
//!   (征求意见稿, 公开征求…意见, draft), else `final` when the type is a
//!   kind of issued document (news and "other" get no status);
//! - **comment closing date**: the date the source states (FDA), then a
//!   deadline in the text — "反馈截止时间为2020年6月30日", "请于2020年6月30日前
//!   将意见反馈…", "意见反馈时限为自发布之日起1个月" (from the publication
//!   date), "Comments due by June 30, 2020" — only for drafts.
//!
//! News reports about a draft are not drafts: a notice typed `news` gets
//! neither status nor closing date from its text.

use std::sync::LazyLock;

use chrono::{Datelike, Months, NaiveDate, Weekday};
use index::{DocType, Notice, Status};

use crate::date;
use regex::Regex;

/// What a source knows of a notice beyond its title and text.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Markers<'a> {
    /// The kind the source states for this item: FDA's communication type
    /// (`Guidance Document`), ECA's category (`GMP News`, `Press release`).
    pub kind: Option<&'a str>,
    /// The column the notice was listed in or lives under (`指导原则`,
    /// `征求意见`, `法规文件`, `政务新闻`): a weaker hint than `kind`.
    pub column: Option<&'a str>,
    /// The status the source states (`Final`, `Draft`, `征求意见`, `颁布`).
    pub status: Option<&'a str>,
    /// The comment closing date the source states.
    pub comment_close: Option<NaiveDate>,
}

/// Classifies `notice` from `markers`, its title, body and publication
/// date, replacing its type, status and closing date with what is found.
pub fn apply(notice: &mut Notice, markers: &Markers<'_>) {
    let doc_type = markers
        .kind
        .and_then(type_of_marker)
        .or_else(|| type_of_title(&notice.title))
        .or_else(|| markers.column.and_then(type_of_marker));
    let news = matches!(doc_type, Some(DocType::News));
    let stated = markers.status.and_then(status_of_marker);
    let draft_text = !news && (is_draft(&notice.title) || markers.column.is_some_and(is_draft));
    let status = stated.or(if draft_text {
        Some(Status::Draft)
    } else {
        doc_type.filter(|t| !matches!(t, DocType::News | DocType::Other)).map(|_| Status::Final)
    });
    let comment_close = markers.comment_close.or_else(|| {
        (status == Some(Status::Draft) && !news)
            .then(|| comment_close(&format!("{}\n{}", notice.title, notice.body), notice.published))
            .flatten()
    });
    notice.doc_type = doc_type;
    notice.status = status;
    notice.comment_close = comment_close;
}

/// Trailing parentheses of a Chinese title: （2020年第62号）, （征求意见稿）, （试行）.
static TRAILING_PARENS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:\s*[（(〔\[【][^（()）〔〕\[\]【】]{0,40}[）)〕\]】]\s*)+$").expect("valid regex")
});

/// The genre words that end a Chinese title, most specific first.
const ZH_GENRES: &[(&str, DocType)] = &[
    ("警告信", DocType::WarningLetter),
    ("公告", DocType::Announcement),
    ("通告", DocType::Circular),
    ("通知", DocType::Notice),
    ("通报", DocType::Notice),
    ("指导原则", DocType::Guideline),
    ("指南", DocType::Guidance),
    ("问答", DocType::Qa),
    ("答疑", DocType::Qa),
    ("问题解答", DocType::Qa),
    ("常见问题", DocType::Qa),
    ("标准", DocType::Standard),
    ("药典", DocType::Standard),
    ("办法", DocType::Regulation),
    ("规定", DocType::Regulation),
    ("条例", DocType::Regulation),
    ("规则", DocType::Regulation),
    ("细则", DocType::Regulation),
    ("规范", DocType::Regulation),
    ("管理法", DocType::Regulation),
    ("专利法", DocType::Regulation),
    ("商标法", DocType::Regulation),
];

/// The type a title states: the genre word that ends a Chinese title
/// (after its trailing parentheses), or an English title's own words.
pub fn type_of_title(title: &str) -> Option<DocType> {
    let t = title.trim();
    let bare = TRAILING_PARENS.replace(t, "");
    let bare = bare.trim_end_matches(['》', '"', '”', ' ', '。']);
    if let Some((_, ty)) = ZH_GENRES.iter().find(|(w, _)| bare.ends_with(w)) {
        return Some(*ty);
    }
    // 公开征求《…办法（征求意见稿）》意见: the type of the document quoted.
    if let Some(quoted) = QUOTED.captures_iter(t).last().and_then(|c| c.get(1)) {
        let inner = TRAILING_PARENS.replace(quoted.as_str(), "");
        if let Some((_, ty)) = ZH_GENRES.iter().find(|(w, _)| inner.ends_with(w)) {
            return Some(*ty);
        }
    }
    english_type(&t.to_lowercase())
}

/// A document quoted in a title: 《…》.
static QUOTED: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"《([^《》]{1,80})》").expect("valid regex"));

/// The type a source's own kind or column name states.
pub fn type_of_marker(marker: &str) -> Option<DocType> {
    let m = marker.trim();
    if m.is_empty() {
        return None;
    }
    if let Some(t) = english_type(&m.to_lowercase()) {
        return Some(t);
    }
    let lower = m.to_lowercase();
    if ["news", "press", "新闻", "要闻", "动态", "解读"].iter().any(|w| lower.contains(w)) {
        return Some(DocType::News);
    }
    if ["法规", "规章", "regulation"].iter().any(|w| lower.contains(w)) {
        return Some(DocType::Regulation);
    }
    // A column named by one genre (通知, 指导原则); 公告通告 names two and
    // says nothing.
    let genres: Vec<DocType> = ZH_GENRES.iter().filter(|(w, _)| m.contains(w)).map(|(_, t)| *t).collect();
    match genres.as_slice() {
        [one] => Some(*one),
        _ => None,
    }
}

fn english_type(lower: &str) -> Option<DocType> {
    let has = |w: &str| lower.contains(w);
    if has("warning letter") {
        Some(DocType::WarningLetter)
    } else if has("questions and answers") || has("q&a") || has("q & a") || has("frequently asked questions") {
        Some(DocType::Qa)
    } else if has("guideline") {
        Some(DocType::Guideline)
    } else if has("guidance") || has("compliance guide") || has("compliance policy") {
        Some(DocType::Guidance)
    } else if has("news") || has("press release") || has("press announcement") {
        Some(DocType::News)
    } else {
        None
    }
}

/// Draft markers: 征求意见(稿), 公开征求《…》意见, 草案, 送审稿; draft, for comment.
static DRAFT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)征求[^。；]{0,80}?意见|公开征求|草案|送审稿|意见稿|\bdraft\b|\bfor (?:public )?(?:comment|consultation)\b")
        .expect("valid regex")
});

/// Whether a title or column marks a draft for comment.
pub fn is_draft(text: &str) -> bool {
    DRAFT.is_match(text)
}

/// The status a source states: `Draft`/`征求意见` or `Final`/`颁布`/`现行有效`.
pub fn status_of_marker(marker: &str) -> Option<Status> {
    let m = marker.trim();
    let lower = m.to_lowercase();
    if is_draft(m) || lower == "draft" {
        Some(Status::Draft)
    } else if lower == "final" || ["颁布", "现行有效", "发布", "施行", "有效"].iter().any(|w| m.contains(w))
    {
        Some(Status::Final)
    } else {
        None
    }
}

/// A date: `2020年6月30日`, `2020-06-30`, `2020/6/30`, `2020.6.30`,
/// `June 30, 2020`, `30 June 2020`, `06/30/2020`.
const DATE: &str = r"(?:(?:19|20)\d{2}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日|(?:19|20)\d{2}[-/.]\d{1,2}[-/.]\d{1,2}|(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?\s+\d{1,2},?\s+(?:19|20)\d{2}|\d{1,2}\s+(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?\s+(?:19|20)\d{2}|\d{1,2}/\d{1,2}/(?:19|20)\d{2})";

/// A deadline date in a sentence about comments: after 截止/截至, or
/// before 前/之前/以前/止, or after an English "by/before/until/due".
static DEADLINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?i)(?:截止|截至)(?:时间|日期)?\s*(?:为|是|到|至)?\s*[:：]?\s*(?P<a>{DATE})|于\s*(?P<b>{DATE})\s*(?:前|之前|以前|止|为止)|(?P<c>{DATE})\s*(?:前|之前|以前|止|为止)|(?:due|by|before|until|through|no later than|deadline|close[sd]?(?: on)?)\s*(?:is|on|of|:)?\s*(?P<d>{DATE})"
    ))
    .expect("valid regex")
});

/// A period counted from publication: 自发布之日起1个月, 自印发之日起30日内,
/// within 60 days of publication.
static RELATIVE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?:发布|印发|公布|发文|挂网|公告|通知)之日起\s*(?:的)?\s*(?P<n>\d{1,3}|[一二两三四五六七八九十]{1,3})\s*(?P<u>个月|个工作日|工作日|个星期|星期|周|日|天|月)|within\s+(?P<en>\d{1,3})\s+(?P<eu>days?|months?|weeks?)\s+(?:of|from|after)\s+(?:the\s+)?(?:publication|issuance|posting|date)").expect("valid regex")
});

/// Words that make a sentence one about comments.
static ABOUT_COMMENTS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)意见|反馈|建议|comment|feedback|consultation").expect("valid regex"));

/// The comment closing date a text states, if any: an explicit deadline
/// in a sentence about comments, else a period counted from `published`.
/// Dates before publication or more than two years after it are not
/// deadlines of this notice.
pub fn comment_close(text: &str, published: Option<NaiveDate>) -> Option<NaiveDate> {
    let plausible = |d: NaiveDate| {
        published.is_none_or(|p| d >= p && d <= p.checked_add_months(Months::new(24)).unwrap_or(NaiveDate::MAX))
    };
    let sentences = || text.split(['。', '；', ';', '\n']).filter(|s| ABOUT_COMMENTS.is_match(s));
    for s in sentences() {
        for c in DEADLINE.captures_iter(s) {
            let m = c.name("a").or(c.name("b")).or(c.name("c")).or(c.name("d"));
            if let Some(d) = m.and_then(|m| parse_date(m.as_str())).filter(|d| plausible(*d)) {
                return Some(d);
            }
        }
    }
    let published = published?;
    for s in sentences() {
        for c in RELATIVE.captures_iter(s) {
            let (n, unit) = match (c.name("n"), c.name("u"), c.name("en"), c.name("eu")) {
                (Some(n), Some(u), _, _) => (zh_number(n.as_str())?, u.as_str().to_string()),
                (_, _, Some(n), Some(u)) => (n.as_str().parse().ok()?, u.as_str().to_lowercase()),
                _ => continue,
            };
            if let Some(d) = add_period(published, n, &unit).filter(|d| plausible(*d)) {
                return Some(d);
            }
        }
    }
    None
}

/// `published` plus `n` of `unit` (months, weeks, days, working days).
fn add_period(published: NaiveDate, n: u32, unit: &str) -> Option<NaiveDate> {
    if n == 0 || n > 730 {
        return None;
    }
    if unit.contains('月') || unit.starts_with("month") {
        published.checked_add_months(Months::new(n))
    } else if unit.contains("工作日") {
        let mut d = published;
        let mut left = n;
        while left > 0 {
            d = d.succ_opt()?;
            if !matches!(d.weekday(), Weekday::Sat | Weekday::Sun) {
                left -= 1;
            }
        }
        Some(d)
    } else if unit.contains('周') || unit.contains("星期") || unit.starts_with("week") {
        published.checked_add_days(chrono::Days::new(u64::from(n) * 7))
    } else {
        published.checked_add_days(chrono::Days::new(u64::from(n)))
    }
}

/// `3`, `三`, `十五`, `二十`, `两`.
fn zh_number(s: &str) -> Option<u32> {
    if let Ok(n) = s.parse() {
        return Some(n);
    }
    let digit =
        |c: char| "零一二三四五六七八九".chars().position(|d| d == c).map(|p| p as u32).or((c == '两').then_some(2));
    let chars: Vec<char> = s.chars().collect();
    match chars.as_slice() {
        [c] if *c == '十' => Some(10),
        [c] => digit(*c),
        ['十', u] => Some(10 + digit(*u)?),
        [t, '十'] => Some(digit(*t)? * 10),
        [t, '十', u] => Some(digit(*t)? * 10 + digit(*u)?),
        _ => None,
    }
}

/// One of the [`DATE`] forms as a date, read by the crate's one date
/// parser ([`crate::date`]).
fn parse_date(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    date::mdy(s).or_else(|| date::cn(s)).or_else(|| date::ymd(s)).or_else(|| date::worded(s))
}

#[cfg(test)]
mod tests {
    use super::*;
    use index::Source;
    use proptest::prelude::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn chinese_titles_are_typed_by_their_genre_word() {
        let cases = [
            (
                "国家药监局关于开展化学药品注射剂仿制药质量和疗效一致性评价工作的公告（2020年第62号）",
                DocType::Announcement,
            ),
            (
                "国家药监局关于发布药物临床试验数据管理与统计分析的计划和报告指导原则的通告（2020年第16号）",
                DocType::Circular,
            ),
            ("关于公开征求《药物临床试验适应性设计指导原则》意见的通知", DocType::Notice),
            ("药物临床试验适应性设计指导原则（征求意见稿）", DocType::Guideline),
            ("药品注册受理审查指南（试行）", DocType::Guidance),
            ("医疗器械拓展性临床试验管理规定（试行）", DocType::Regulation),
            ("中华人民共和国药品管理法", DocType::Regulation),
            ("《化学药品注射剂一致性评价》常见问题解答", DocType::Qa),
        ];
        for (title, ty) in cases {
            assert_eq!(type_of_title(title), Some(ty), "{title}");
        }
        assert_eq!(
            type_of_title("国家药监局综合司公开征求《药品上市后变更管理办法（试行）（征求意见稿）》意见"),
            Some(DocType::Regulation)
        );
        assert_eq!(type_of_title("药审中心召开2020年第一季度工作会议"), None);
    }

    #[test]
    fn english_titles_and_markers() {
        assert_eq!(type_of_title("Draft Guidance for Industry: Whole Grain Label Statements"), Some(DocType::Guidance));
        assert_eq!(type_of_title("ICH E9(R1) Guideline on Estimands"), Some(DocType::Guideline));
        assert_eq!(type_of_title("Warning Letter 320-20-01"), Some(DocType::WarningLetter));
        assert_eq!(type_of_marker("Small Entity Compliance Guide"), Some(DocType::Guidance));
        assert_eq!(type_of_marker("Guidance Document"), Some(DocType::Guidance));
        assert_eq!(type_of_marker("GMP News"), Some(DocType::News));
        assert_eq!(type_of_marker("公告通告"), None, "two genres say nothing");
        assert_eq!(type_of_marker("通知"), Some(DocType::Notice));
        assert_eq!(type_of_marker("指导原则"), Some(DocType::Guideline));
        assert_eq!(type_of_marker("法规文件"), Some(DocType::Regulation));
        assert_eq!(status_of_marker("Draft"), Some(Status::Draft));
        assert_eq!(status_of_marker(" Final "), Some(Status::Final));
        assert_eq!(status_of_marker("征求意见"), Some(Status::Draft));
        assert_eq!(status_of_marker("颁布"), Some(Status::Final));
        assert_eq!(status_of_marker("?"), None);
    }

    #[test]
    fn explicit_deadlines() {
        let p = Some(d("2020-05-15"));
        let cases = [
            ("反馈截止时间为2020年6月30日。", "2020-06-30"),
            ("请于2020年6月30日前将意见反馈至我中心。", "2020-06-30"),
            ("如有意见，请于2020年7月1日之前通过电子邮件反馈", "2020-07-01"),
            ("征求意见截止日期：2020-06-30", "2020-06-30"),
            ("意见反馈截至2020年6月15日止。", "2020-06-15"),
            ("Comments due by June 30, 2020.", "2020-06-30"),
            ("Submit comments before 30 June 2020.", "2020-06-30"),
            ("The comment period closes on 07/14/2020.", "2020-07-14"),
        ];
        for (text, want) in cases {
            assert_eq!(comment_close(text, p), Some(d(want)), "{text}");
        }
        // A date in a sentence not about comments, or before publication, is not a deadline.
        assert_eq!(comment_close("本办法自2020年7月1日起施行。", p), None);
        assert_eq!(comment_close("请于2019年1月1日前反馈意见。", p), None);
    }

    #[test]
    fn periods_counted_from_publication() {
        let p = Some(d("2020-05-15"));
        let cases = [
            ("意见反馈时限为自发布之日起1个月。", "2020-06-15"),
            ("征求意见时限为自发布之日起3个月。", "2020-08-15"),
            ("请自本通知发布之日起三十日内反馈意见", "2020-06-14"),
            ("意见反馈时限为自发布之日起两周", "2020-05-29"),
            ("自发布之日起10个工作日内反馈意见", "2020-05-29"),
            ("Comments are due within 60 days of publication.", "2020-07-14"),
        ];
        for (text, want) in cases {
            assert_eq!(comment_close(text, p), Some(d(want)), "{text}");
        }
        assert_eq!(comment_close("意见反馈时限为自发布之日起1个月。", None), None, "needs a publication date");
    }

    #[test]
    fn apply_follows_the_precedence() {
        let mut n = Notice::crawled(
            Source::Cde,
            "https://www.cde.org.cn/a",
            "关于公开征求《X指导原则》意见的通知",
            "征求意见时限为自发布之日起1个月。",
        );
        n.published = Some(d("2020-05-15"));
        apply(&mut n, &Markers { column: Some("政务新闻"), ..Default::default() });
        assert_eq!(
            (n.doc_type, n.status, n.comment_close),
            (Some(DocType::Notice), Some(Status::Draft), Some(d("2020-06-15")))
        );

        let mut news = Notice::crawled(
            Source::Eca,
            "https://x.org/a",
            "EMA publishes Draft Guideline",
            "Comments due by June 30, 2020.",
        );
        apply(&mut news, &Markers { kind: Some("GMP News"), ..Default::default() });
        assert_eq!((news.doc_type, news.status, news.comment_close), (Some(DocType::News), None, None));

        let mut fda = Notice::crawled(Source::Fda, "https://www.fda.gov/a", "Guidance for Industry: X", "");
        let m = Markers { kind: Some("Guidance Document"), status: Some("Final"), ..Default::default() };
        apply(&mut fda, &m);
        assert_eq!((fda.doc_type, fda.status, fda.comment_close), (Some(DocType::Guidance), Some(Status::Final), None));

        let mut none = Notice::crawled(Source::Other("x".into()), "https://x.org/b", "药审中心召开工作会议", "");
        apply(&mut none, &Markers::default());
        assert_eq!((none.doc_type, none.status, none.comment_close), (None, None, None));
    }

    #[test]
    fn chinese_numbers() {
        for (s, n) in [("三", 3), ("十", 10), ("十五", 15), ("二十", 20), ("三十", 30), ("两", 2), ("45", 45)]
        {
            assert_eq!(zh_number(s), Some(n), "{s}");
        }
        assert_eq!(zh_number("百"), None);
    }

    proptest! {
        #[test]
        fn never_panics(title in "\\PC{0,80}", body in "\\PC{0,400}", marker in "\\PC{0,20}", days in 0i64..80_000) {
            let published = NaiveDate::from_ymd_opt(1900, 1, 1).and_then(|b| b.checked_add_signed(chrono::Duration::days(days)));
            let mut n = Notice::crawled(Source::Cde, "https://x.org/p", title, body.clone());
            n.published = published;
            apply(&mut n, &Markers { kind: Some(&marker), column: Some(&marker), status: Some(&marker), comment_close: None });
            let _ = comment_close(&body, published);
        }

        #[test]
        fn never_panics_on_deadline_shaped_text(
            y in 1900u32..2100, m in 0u32..14, dd in 0u32..33, n in 0u32..1000,
            unit in prop::sample::select(vec!["个月", "日", "天", "周", "个工作日", "月"]),
        ) {
            let text = format!("反馈截止时间为{y}年{m}月{dd}日。意见反馈时限为自发布之日起{n}{unit}。Comments due by {m}/{dd}/{y}.");
            let _ = comment_close(&text, NaiveDate::from_ymd_opt(2020, 5, 15));
            let _ = comment_close(&text, NaiveDate::from_ymd_opt(9999, 12, 31));
        }
    }
}
