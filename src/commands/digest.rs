//! `notices digest`: the weekly digest people compile by hand today.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use anyhow::{Context, Result};
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
    /// markdown, html, docx (Word) or pdf (printed by the headless browser).
    #[arg(long, default_value = "markdown")]
    pub format: String,
    /// Write to FILE instead of stdout (docx and pdf are binary).
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<std::path::PathBuf>,
}

/// What to write.
enum Kind {
    /// Markdown or HTML.
    Text(Format),
    /// A Word document.
    Docx,
    /// The HTML digest printed to PDF by this browser.
    Pdf(std::path::PathBuf),
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
    // The browser is looked for first, so its absence is said before any work.
    let kind = match args.format.to_ascii_lowercase().as_str() {
        "markdown" | "md" => Kind::Text(Format::Markdown),
        "html" => Kind::Text(Format::Html),
        "docx" => Kind::Docx,
        "pdf" => Kind::Pdf(
            ctx.config.browser().map_err(|e| UsageError(format!("--format pdf needs a headless browser: {e}")))?,
        ),
        other => {
            return Err(UsageError(format!("invalid --format {other:?}: expected markdown, html, docx or pdf")).into());
        }
    };
    if !matches!(kind, Kind::Text(_)) && args.output.is_none() && std::io::stdout().is_terminal() {
        return Err(
            UsageError(format!("--format {} is binary: give --output FILE or redirect stdout", args.format)).into()
        );
    }
    let index = ctx.open_index()?;
    super::ingest::ensure_sample(ctx, &index)?;
    let notices = index.digest_notices(since, until)?;
    let bytes = match kind {
        Kind::Text(format) => render(&notices, since, until, format).into_bytes(),
        Kind::Docx => crawler::digest::docx::render(&notices, since, until)?,
        Kind::Pdf(browser) => crawler::browser::print_to_pdf(&browser, &render(&notices, since, until, Format::Html))?,
    };
    match &args.output {
        Some(path) => std::fs::write(path, &bytes).with_context(|| format!("cannot write {}", path.display()))?,
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(&bytes)?;
            out.flush()?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
