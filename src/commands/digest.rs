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
    let format = args.format.to_ascii_lowercase();
    let binary = matches!(format.as_str(), "docx" | "pdf");
    if !matches!(format.as_str(), "markdown" | "md" | "html") && !binary {
        return Err(UsageError(format!("invalid --format {format:?}: expected markdown, html, docx or pdf")).into());
    }
    if binary && args.output.is_none() && std::io::stdout().is_terminal() {
        return Err(UsageError(format!("--format {format} is binary: give --output FILE or redirect stdout")).into());
    }
    // Find the browser before any work, so its absence is said at once.
    let browser = match format.as_str() {
        "pdf" => Some(ctx.config.browser().ok_or_else(|| {
            UsageError(
                "--format pdf needs a headless browser: install chromium, or set NOTICES_BROWSER (or `browser` in the config)"
                    .into(),
            )
        })?),
        _ => None,
    };
    let index = ctx.open_index()?;
    super::ingest::ensure_sample(&index)?;
    let notices = index.all()?;
    let bytes = match format.as_str() {
        "docx" => crawler::digest::docx::render(&notices, since, until)?,
        "pdf" => {
            let html = render(&notices, since, until, Format::Html);
            crawler::browser::print_to_pdf(browser.as_deref().unwrap_or(std::path::Path::new("chromium")), &html)?
        }
        "html" => render(&notices, since, until, Format::Html).into_bytes(),
        _ => render(&notices, since, until, Format::Markdown).into_bytes(),
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
