//! `notices digest`: the weekly digest people compile by hand today.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use crawler::digest::render::{Format, render};
use index::{DateEnd, parse_date};

use super::Ctx;
use crate::UsageError;

/// Arguments of `notices digest`.
#[derive(Debug, clap::Args)]
pub struct DigestArgs {
    /// First day of the period (YYYY-MM-DD).
    #[arg(long)]
    pub since: String,
    /// Last day of the period (YYYY-MM-DD); default: today.
    #[arg(long)]
    pub until: Option<String>,
    /// markdown or html.
    #[arg(long, default_value = "markdown")]
    pub format: String,
}

/// Prints a digest of the notices published (or first seen) in the period.
pub fn run(ctx: &Ctx, args: DigestArgs) -> Result<ExitCode> {
    let since = parse_date(&args.since, DateEnd::Start)?;
    let until = match &args.until {
        Some(u) => parse_date(u, DateEnd::End)?,
        None => chrono::Utc::now().date_naive(),
    };
    if since > until {
        return Err(UsageError(format!("empty period: --since {since} is after --until {until}")).into());
    }
    let format = match args.format.to_ascii_lowercase().as_str() {
        "markdown" | "md" => Format::Markdown,
        "html" => Format::Html,
        other => return Err(UsageError(format!("invalid --format {other:?}: expected markdown or html")).into()),
    };
    let index = ctx.open_index()?;
    super::ingest::ensure_sample(ctx, &index)?;
    let notices = index.all()?;
    let mut out = std::io::stdout().lock();
    out.write_all(render(&notices, since, until, format).as_bytes())?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
