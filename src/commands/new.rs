//! `notices new`: notices first seen in a time window, newest first.

use std::process::ExitCode;

use anyhow::Result;
use chrono::{DateTime, Duration, Utc};
use index::{DateEnd, SearchRequest, Sort, Source, parse_date};

use super::Ctx;
use crate::UsageError;

/// Arguments of `notices new`.
#[derive(Debug, clap::Args)]
pub struct NewArgs {
    /// Optional query to narrow the new notices.
    #[arg(default_value = "")]
    pub query: String,
    /// Window: a duration (`7d`, `24h`, `2w`) back from now, or a date (`2020-05-11`).
    #[arg(long, default_value = "7d")]
    pub since: String,
    /// Only this source; repeatable.
    #[arg(long = "source", short = 's', value_name = "SOURCE")]
    pub sources: Vec<String>,
    /// Number of notices to show (1-100).
    #[arg(long, short = 'n', default_value_t = 50, allow_negative_numbers = true)]
    pub limit: i64,
    /// Print JSON (the shape of `search --json`).
    #[arg(long)]
    pub json: bool,
}

/// Parses `7d`, `24h`, `90m`, `2w` as a duration back from `now`, or a date.
pub fn parse_window(s: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, UsageError> {
    let t = s.trim();
    let bad =
        || UsageError(format!("invalid --since {s:?}: expected a duration such as 7d, 24h, 2w or a date YYYY-MM-DD"));
    if let Some(unit) = t.chars().last().filter(|c| c.is_ascii_alphabetic()) {
        let n: i64 = t[..t.len() - 1].parse().map_err(|_| bad())?;
        if !(0..=36_500).contains(&n) {
            return Err(bad());
        }
        let d = match unit {
            'm' => Duration::minutes(n),
            'h' => Duration::hours(n),
            'd' => Duration::days(n),
            'w' => Duration::weeks(n),
            _ => return Err(bad()),
        };
        return Ok(now - d);
    }
    let date = parse_date(t, DateEnd::Start).map_err(|_| bad())?;
    Ok(date.and_hms_opt(0, 0, 0).expect("midnight").and_utc())
}

/// Lists new notices.
pub fn run(ctx: &Ctx, args: NewArgs) -> Result<ExitCode> {
    index::search::check_range("limit", args.limit, 1, index::search::MAX_LIMIT as i64)?;
    let req = SearchRequest {
        query: args.query.clone(),
        sources: args.sources.iter().map(|s| s.parse()).collect::<index::Result<Vec<Source>>>()?,
        sort: Sort::Discovered,
        limit: args.limit as usize,
        seen_since: Some(parse_window(&args.since, Utc::now())?),
        ..SearchRequest::new("")
    };
    let index = ctx.open_index()?;
    super::search::print_results(&index.search(&req)?, args.json)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_parse() {
        let now = DateTime::parse_from_rfc3339("2026-11-25T12:00:00Z").unwrap().with_timezone(&Utc);
        assert_eq!(parse_window("7d", now).unwrap(), now - Duration::days(7));
        assert_eq!(parse_window("24h", now).unwrap(), now - Duration::hours(24));
        assert_eq!(parse_window("2020-05-11", now).unwrap().to_rfc3339(), "2020-05-11T00:00:00+00:00");
        for bad in ["", "7x", "d", "-1d", "soon", "2020-13-01"] {
            assert!(parse_window(bad, now).is_err(), "{bad}");
        }
    }
}
