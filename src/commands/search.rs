//! `notices search QUERY`.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use index::{DateEnd, SearchRequest, SearchResults, Sort, Source, parse_date};

use super::Ctx;
use crate::exit;
use crate::output::{Style, line, ranges_from_html};

/// Arguments of `notices search`.
#[derive(Debug, clap::Args)]
pub struct SearchArgs {
    /// The query: words (all must match), "quoted phrases", -excluded, a OR b.
    pub query: String,
    /// Only this source (CNIPA, CDE, NMPA, FDA, ECA, other/<host>); repeatable.
    #[arg(long = "source", short = 's', value_name = "SOURCE")]
    pub sources: Vec<String>,
    /// Published on or after (YYYY-MM-DD, YYYY-MM or YYYY).
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,
    /// Published on or before (YYYY-MM-DD, YYYY-MM or YYYY).
    #[arg(long, value_name = "DATE")]
    pub until: Option<String>,
    /// Number of hits to show (1-100).
    #[arg(long, short = 'n', default_value_t = 10, allow_negative_numbers = true)]
    pub limit: i64,
    /// Hits to skip.
    #[arg(long, default_value_t = 0, allow_negative_numbers = true)]
    pub offset: i64,
    /// relevance or newest.
    #[arg(long, default_value = "relevance")]
    pub sort: String,
    /// Include notices withdrawn from their site.
    #[arg(long)]
    pub include_withdrawn: bool,
    /// Search only what was typed (no cross-language expansion from the glossary).
    #[arg(long)]
    pub exact: bool,
    /// Only this document type (announcement, circular, notice, guideline,
    /// guidance, warning_letter, news, qa, regulation, standard, other; or 公告, 通告 …); repeatable.
    #[arg(long = "type", short = 't', value_name = "TYPE")]
    pub types: Vec<String>,
    /// Only drafts for comment, or only final notices.
    #[arg(long, value_name = "draft|final")]
    pub status: Option<String>,
    /// Only notices whose comment period is open on DATE (default today).
    #[arg(long, value_name = "DATE", num_args = 0..=1, require_equals = true, default_missing_value = "today")]
    pub comments_open: Option<String>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

impl SearchArgs {
    /// Checks the arguments and builds the library request.
    pub fn request(&self) -> index::Result<SearchRequest> {
        index::search::check_range("limit", self.limit, 1, index::search::MAX_LIMIT as i64)?;
        index::search::check_range("offset", self.offset, 0, index::search::MAX_OFFSET as i64)?;
        Ok(SearchRequest {
            query: self.query.clone(),
            sources: self.sources.iter().map(|s| s.parse()).collect::<index::Result<Vec<Source>>>()?,
            since: self.since.as_deref().map(|d| parse_date(d, DateEnd::Start)).transpose()?,
            until: self.until.as_deref().map(|d| parse_date(d, DateEnd::End)).transpose()?,
            sort: self.sort.parse::<Sort>()?,
            limit: self.limit as usize,
            offset: self.offset as usize,
            include_withdrawn: self.include_withdrawn,
            seen_since: None,
            exact: self.exact,
            doc_types: index::filters::parse_types(&self.types)?,
            status: self.status.as_deref().map(str::parse).transpose()?,
            comments_open: self
                .comments_open
                .as_deref()
                .map(|d| index::filters::parse_comments_open(d, chrono::Utc::now().date_naive()))
                .transpose()?,
        })
    }
}

/// Runs a search and prints it.
pub fn run(ctx: &Ctx, args: SearchArgs) -> Result<ExitCode> {
    // Bad input is reported before anything is opened or built.
    let req = args.request()?;
    let index = ctx.open_index()?;
    super::ingest::ensure_sample(ctx, &index)?;
    let results = index.search(&req)?;
    if let Some(line) = also_searched(&results) {
        eprintln!("{line}");
    }
    print_results(&results, args.json)
}

/// `also searched: 一致性评价, …`: the translations the glossary added.
pub(crate) fn also_searched(results: &SearchResults) -> Option<String> {
    let mut added: Vec<&str> = Vec::new();
    for t in results.expanded.values().flatten() {
        if !added.contains(&t.as_str()) {
            added.push(t);
        }
    }
    (!added.is_empty()).then(|| format!("also searched: {}", added.join(", ")))
}

/// Prints results as JSON or text; the exit code says whether anything matched.
pub(crate) fn print_results(results: &SearchResults, json: bool) -> Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, results)?;
        writeln!(out)?;
    } else {
        print_text(&mut out, results, Style::detect())?;
    }
    out.flush()?;
    Ok(ExitCode::from(if results.total == 0 { exit::NO_RESULTS } else { exit::OK }))
}

fn print_text(out: &mut impl Write, r: &SearchResults, style: Style) -> std::io::Result<()> {
    if r.total == 0 {
        return line(out, &format!("no notices match {:?}", r.query));
    }
    for (i, hit) in r.hits.iter().enumerate() {
        let (title, ranges) = ranges_from_html(&hit.title_html);
        line(out, &format!("{:>2}. {}", r.offset + i + 1, style.highlight(&title, &ranges)))?;
        let mut meta = vec![hit.source.clone()];
        meta.push(hit.date.map_or_else(|| "undated".to_string(), |d| d.to_string()));
        if let Some(t) = hit.doc_type {
            meta.push(t.label_zh().to_string());
        }
        match (hit.status, hit.comment_close) {
            (Some(index::Status::Draft), Some(close)) => meta.push(format!("draft, comments close {close}")),
            (Some(index::Status::Draft), None) => meta.push("draft".into()),
            _ => {}
        }
        if !hit.doc_numbers.is_empty() {
            meta.push(hit.doc_numbers.join(", "));
        }
        if let Some(a) = &hit.agency {
            meta.push(a.clone());
        }
        if hit.withdrawn {
            meta.push("withdrawn".into());
        }
        line(out, &format!("    {}", style.dim(&meta.join(" · "))))?;
        if let Some(url) = &hit.url {
            line(out, &format!("    {url}"))?;
        }
        if let Some(a) = &hit.matched_attachment {
            line(out, &format!("    {}", style.dim(&format!("in attachment {}: {}", a.name, a.url))))?;
        }
        if !hit.snippet.is_empty() {
            line(out, &format!("    {}", style.highlight(&hit.snippet, &hit.highlights)))?;
        }
        line(out, "")?;
    }
    let shown = r.hits.len();
    line(
        out,
        &format!(
            "{} notice{} match ({}–{} shown, {:.1} ms)",
            r.total,
            if r.total == 1 { "" } else { "s" },
            if shown == 0 { 0 } else { r.offset + 1 },
            r.offset + shown,
            r.took_ms
        ),
    )?;
    let fmt = |m: &std::collections::BTreeMap<String, u64>| {
        m.iter().map(|(k, v)| format!("{k} {v}")).collect::<Vec<_>>().join(" · ")
    };
    line(out, &format!("by source: {}", fmt(&r.facets.source)))?;
    line(out, &format!("by month:  {}", fmt(&r.facets.month)))?;
    line(out, &format!("by type:   {}", fmt(&r.facets.doc_type)))?;
    line(out, &format!("by status: {}", fmt(&r.facets.status)))
}
