//! `notices show ID`: one notice in full.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;

use super::Ctx;
use crate::UsageError;

/// Arguments of `notices show`.
#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    /// Notice id (as printed by `search --json`).
    pub id: String,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// Also print the text extracted from each attachment.
    #[arg(long)]
    pub attachment_text: bool,
    /// List the versions seen of this notice and diff the last two.
    #[arg(long)]
    pub history: bool,
    /// With --history: diff these two versions instead (e.g. `--diff 1 3`).
    #[arg(long, num_args = 2, value_names = ["FROM", "TO"], requires = "history")]
    pub diff: Option<Vec<u32>>,
}

/// Prints a notice.
pub fn run(ctx: &Ctx, args: ShowArgs) -> Result<ExitCode> {
    let index = ctx.open_index()?;
    let notice = index.get(&args.id)?.ok_or_else(|| UsageError(format!("no notice with id {:?}", args.id)))?;
    let mut out = std::io::stdout().lock();
    if args.history {
        return history(ctx, &args, &notice.id, &mut out);
    }
    if args.json {
        let mut notice = notice;
        if !args.attachment_text {
            notice.attachments = notice.attachments.iter().map(index::Attachment::without_text).collect();
        }
        serde_json::to_writer_pretty(&mut out, &notice)?;
        writeln!(out)?;
        return Ok(ExitCode::SUCCESS);
    }
    writeln!(out, "{}", notice.title)?;
    writeln!(out, "id:        {}", notice.id)?;
    writeln!(out, "source:    {}", notice.source)?;
    if let Some(d) = notice.published {
        writeln!(out, "published: {d}")?;
    }
    if !notice.doc_numbers.is_empty() {
        writeln!(out, "numbers:   {}", notice.doc_numbers.join(", "))?;
    }
    if let Some(a) = &notice.agency {
        writeln!(out, "agency:    {a}")?;
    }
    if let Some(u) = &notice.url {
        writeln!(out, "url:       {u}")?;
    }
    for l in &notice.links {
        writeln!(out, "link:      {l}")?;
    }
    for a in &notice.attachments {
        writeln!(out, "attached:  {}{}", a.url, a.name.as_deref().map(|n| format!(" ({n})")).unwrap_or_default())?;
        writeln!(out, "           {}", describe(a))?;
    }
    writeln!(out)?;
    writeln!(out, "{}", notice.body)?;
    if args.attachment_text {
        for a in &notice.attachments {
            if let Some(text) = a.text() {
                writeln!(out, "\n--- {} ---\n{text}", a.display_name())?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn history(ctx: &Ctx, args: &ShowArgs, id: &str, out: &mut impl Write) -> Result<ExitCode> {
    let history = crawler::history::History::open(&ctx.data.crawl_db())?;
    let versions = history.versions(id)?;
    if args.json {
        serde_json::to_writer_pretty(&mut *out, &versions)?;
        writeln!(out)?;
        return Ok(ExitCode::SUCCESS);
    }
    if versions.is_empty() {
        writeln!(out, "no version history for {id} (it was indexed before history was kept)")?;
        return Ok(ExitCode::SUCCESS);
    }
    for v in &versions {
        writeln!(
            out,
            "version {:>3}  {}  {}  {}",
            v.version,
            v.seen_at.format("%Y-%m-%d %H:%M:%S UTC"),
            &v.content_hash[..12.min(v.content_hash.len())],
            v.title
        )?;
    }
    let pick = |n: u32| {
        versions
            .iter()
            .find(|v| v.version == n)
            .ok_or_else(|| UsageError(format!("{id} has no version {n} (it has 1..={})", versions.len())))
    };
    let pair = match args.diff.as_deref() {
        Some([a, b]) => Some((pick(*a)?, pick(*b)?)),
        _ if versions.len() >= 2 => Some((&versions[versions.len() - 2], &versions[versions.len() - 1])),
        _ => None,
    };
    if let Some((a, b)) = pair {
        writeln!(out)?;
        write!(out, "{}", crawler::history::diff(a, b))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// One line on what was read of an attachment: type, size, text or why none.
fn describe(a: &index::Attachment) -> String {
    let Some(f) = &a.file else {
        return "not downloaded".to_string();
    };
    let size = human_size(f.size);
    match (&f.error, &f.no_text) {
        (Some(e), _) => format!("{}, {size}, error: {e}", f.format),
        (None, Some(why)) => format!("{}, {size}, no text: {why}", f.format),
        (None, None) => format!(
            "{}, {size}, text extracted: {} chars{}",
            f.format,
            f.chars,
            if f.truncated { " (cut at the text cap)" } else { "" }
        ),
    }
}

/// Bytes as a reader says them.
fn human_size(bytes: u64) -> String {
    match bytes {
        b if b < 1024 => format!("{b} B"),
        b if b < 1024 * 1024 => format!("{:.1} KB", b as f64 / 1024.0),
        b => format!("{:.1} MB", b as f64 / (1024.0 * 1024.0)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attachments_are_described_by_what_was_read() {
        let mut a = index::Attachment::new("http://a.cn/f.pdf", None);
        assert_eq!(describe(&a), "not downloaded");
        a.file = Some(index::AttachmentFile {
            size: 2048,
            sha256: "00".into(),
            format: "pdf".into(),
            content_type: None,
            text: Some("文字".into()),
            chars: 2,
            no_text: None,
            error: None,
            truncated: false,
            extractor: 1,
        });
        assert_eq!(describe(&a), "pdf, 2.0 KB, text extracted: 2 chars");
        a.file.as_mut().unwrap().error = Some("malformed pdf: no trailer".into());
        assert_eq!(describe(&a), "pdf, 2.0 KB, error: malformed pdf: no trailer");
    }
}
