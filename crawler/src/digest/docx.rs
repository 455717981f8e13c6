//! The weekly digest as a Word document (.docx), the way the hand-made
//! digests circulate: the same fields, groups and items as
//! [`render`](super::render), with the links clickable.

use chrono::NaiveDate;
use docx_rs::{Docx, Hyperlink, HyperlinkType, Paragraph, Run, RunFonts};
use index::Notice;

use super::render::{extract, facts, group, is_web, links, period};
use crate::error::{Error, Result};

/// A font Word has everywhere for Chinese text (others fall back).
const EAST_ASIA_FONT: &str = "SimSun";

fn run(text: &str) -> Run {
    Run::new().add_text(text).fonts(RunFonts::new().east_asia(EAST_ASIA_FONT))
}

fn heading(text: &str, half_points: usize) -> Paragraph {
    Paragraph::new().add_run(run(text).bold().size(half_points))
}

/// The digest of `since..=until` as the bytes of a .docx file.
pub fn render(notices: &[Notice], since: NaiveDate, until: NaiveDate) -> Result<Vec<u8>> {
    let fields = group(notices, since, until);
    let mut doc = Docx::new().add_paragraph(heading(&format!("每周信息（{}）", period(since, until)), 36));
    if fields.is_empty() {
        doc = doc.add_paragraph(Paragraph::new().add_run(run("本期无信息。")));
    }
    for f in &fields {
        doc = doc.add_paragraph(heading(&format!("{}（{}）", f.name, period(since, until)), 30));
        for (g, items) in &f.groups {
            doc = doc.add_paragraph(heading(g, 26));
            for (k, n) in items.iter().enumerate() {
                doc = doc.add_paragraph(heading(&format!("{}. {}", k + 1, n.title), 22));
                let facts: Vec<String> = facts(n).iter().map(|(l, v)| format!("{l}：{v}")).collect();
                doc = doc.add_paragraph(Paragraph::new().add_run(run(&facts.join(" | "))));
                let ex = extract(&n.body);
                if !ex.is_empty() {
                    doc = doc.add_paragraph(Paragraph::new().add_run(run(&ex).italic()));
                }
                for (label, url) in links(n) {
                    let p = Paragraph::new().add_run(run(&format!("{label}：")));
                    let p = if is_web(&url) {
                        p.add_hyperlink(
                            Hyperlink::new(&url, HyperlinkType::External)
                                .add_run(run(&url).color("0563C1").underline("single")),
                        )
                    } else {
                        p.add_run(run(&url))
                    };
                    doc = doc.add_paragraph(p);
                }
            }
        }
    }
    let mut out = std::io::Cursor::new(Vec::new());
    doc.build()
        .pack(&mut out)
        .map_err(|e| Error::Io { path: "digest.docx".into(), source: std::io::Error::other(e) })?;
    Ok(out.into_inner())
}
