//! `notices comments`: comment periods closing soon, soonest first.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use chrono::{Days, NaiveDate, Utc};
use index::{DateEnd, DocType, Notice, Source, Status, parse_date};
use serde::Serialize;

use super::Ctx;
use crate::UsageError;
use crate::exit;

/// Arguments of `notices comments`.
#[derive(Debug, clap::Args)]
pub struct CommentsArgs {
    /// Window: comment periods closing within this many days (`30d`) or
    /// weeks (`6w`) from today, or up to a date (`2020-06-30`).
    #[arg(long, default_value = "30d")]
    pub within: String,
    /// Only this source; repeatable.
    #[arg(long = "source", short = 's', value_name = "SOURCE")]
    pub sources: Vec<String>,
    /// Count from this day instead of today (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub on: Option<String>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// The last day of a window of `within` starting on `from`.
pub fn parse_within(s: &str, from: NaiveDate) -> Result<NaiveDate, UsageError> {
    let t = s.trim();
    let bad = || UsageError(format!("invalid --within {s:?}: expected days (30d), weeks (6w) or a date YYYY-MM-DD"));
    if let Some(unit) = t.chars().last().filter(|c| c.is_ascii_alphabetic()) {
        let n: u64 = t[..t.len() - 1].parse().map_err(|_| bad())?;
        let days = match unit {
            'd' => n,
            'w' => n.saturating_mul(7),
            _ => return Err(bad()),
        };
        if days > 36_500 {
            return Err(bad());
        }
        return from.checked_add_days(Days::new(days)).ok_or_else(bad);
    }
    parse_date(t, DateEnd::End).map_err(|_| bad())
}

/// One open comment period, as printed.
#[derive(Debug, Serialize)]
struct Period<'a> {
    id: &'a str,
    title: &'a str,
    source: String,
    url: Option<&'a str>,
    date: Option<NaiveDate>,
    agency: Option<&'a str>,
    doc_type: Option<DocType>,
    status: Option<Status>,
    comment_close: Option<NaiveDate>,
    /// Days from the first day of the window to the closing day.
    days_left: Option<i64>,
}

/// The JSON of `notices comments --json`.
#[derive(Debug, Serialize)]
struct Reply<'a> {
    from: NaiveDate,
    until: NaiveDate,
    total: usize,
    notices: Vec<Period<'a>>,
}

/// Lists the comment periods closing in the window.
pub fn run(ctx: &Ctx, args: CommentsArgs) -> Result<ExitCode> {
    let from = match &args.on {
        Some(d) => parse_date(d, DateEnd::Start)?,
        None => Utc::now().date_naive(),
    };
    let until = parse_within(&args.within, from)?;
    if until < from {
        return Err(UsageError(format!("empty window: --within ends on {until}, before {from}")).into());
    }
    let sources = args.sources.iter().map(|s| s.parse()).collect::<index::Result<Vec<Source>>>()?;
    let index = ctx.open_index()?;
    super::ingest::ensure_sample(ctx, &index)?;
    let found = index.comment_periods(from, until, &sources)?;
    let periods: Vec<Period<'_>> = found.iter().map(|n| period(n, from)).collect();
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &Reply { from, until, total: periods.len(), notices: periods })?;
        writeln!(out)?;
    } else if periods.is_empty() {
        writeln!(out, "no comment periods close between {from} and {until}")?;
    } else {
        for p in &periods {
            let close = p.comment_close.map(|d| d.to_string()).unwrap_or_default();
            let left = p.days_left.map(|d| format!("{d} day{}", if d == 1 { "" } else { "s" })).unwrap_or_default();
            writeln!(out, "{close}  ({left} left)  {}  {}", p.source, p.title)?;
            if let Some(url) = p.url {
                writeln!(out, "    {url}")?;
            }
        }
        writeln!(out, "\n{} comment period{} close between {from} and {until}", periods.len(), plural(periods.len()))?;
    }
    out.flush()?;
    Ok(ExitCode::from(if found.is_empty() { exit::NO_RESULTS } else { exit::OK }))
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn period(n: &Notice, from: NaiveDate) -> Period<'_> {
    Period {
        id: &n.id,
        title: &n.title,
        source: n.source.label(),
        url: n.url.as_deref(),
        date: n.published,
        agency: n.agency.as_deref(),
        doc_type: n.doc_type,
        status: n.status,
        comment_close: n.comment_close,
        days_left: n.comment_close.map(|c| (c - from).num_days()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_parse() {
        let from = NaiveDate::from_ymd_opt(2020, 5, 15).unwrap();
        assert_eq!(parse_within("30d", from).unwrap(), NaiveDate::from_ymd_opt(2020, 6, 14).unwrap());
        assert_eq!(parse_within("2w", from).unwrap(), NaiveDate::from_ymd_opt(2020, 5, 29).unwrap());
        assert_eq!(parse_within("2020-06", from).unwrap(), NaiveDate::from_ymd_opt(2020, 6, 30).unwrap());
        for bad in ["", "30x", "d", "-1d", "soon", "99999999d"] {
            assert!(parse_within(bad, from).is_err(), "{bad}");
        }
    }
}
