//! `notices gen-corpus` (hidden): the benchmark corpus. Generates notices
//! one at a time from a seed (see `index::synth`) and indexes them in
//! batches, or writes them as JSON lines; never holds the corpus in memory.

use std::io::Write;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Result;
use index::synth::{Corpus, DEFAULT_SEED, Profile};

use super::Ctx;

/// Arguments of `notices gen-corpus`.
#[derive(Debug, clap::Args)]
pub struct GenCorpusArgs {
    /// Number of notices.
    #[arg(long, short = 'n', default_value_t = 10_000)]
    pub count: u64,
    /// Seed of the generator (same seed, same corpus).
    #[arg(long, default_value_t = DEFAULT_SEED)]
    pub seed: u64,
    /// Indexing threads.
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    /// Commit every this many notices.
    #[arg(long, default_value_t = 100_000)]
    pub batch: u64,
    /// Write JSON lines to stdout instead of indexing.
    #[arg(long)]
    pub jsonl: bool,
    /// Print the figures as one JSON object on stdout.
    #[arg(long)]
    pub json: bool,
    /// Realistic term frequencies (each notice about one or two topics)
    /// instead of the synthetic stress corpus, where terms are everywhere.
    #[arg(long)]
    pub realistic: bool,
}

/// Generates the corpus and indexes (or prints) it.
pub fn run(ctx: &Ctx, args: GenCorpusArgs) -> Result<ExitCode> {
    let profile = if args.realistic { Profile::Realistic } else { Profile::Synthetic };
    let corpus = Corpus::with_profile(args.seed, crawler::SAMPLE_DIGEST, profile).take(args.count as usize);
    if args.jsonl {
        let mut out = std::io::BufWriter::new(std::io::stdout().lock());
        for notice in corpus {
            serde_json::to_writer(&mut out, &notice)?;
            out.write_all(b"\n")?;
        }
        out.flush()?;
        return Ok(ExitCode::SUCCESS);
    }
    let index = ctx.open_index()?;
    let started = Instant::now();
    let mut writer = index.writer(args.threads)?;
    let (mut notices, mut bytes) = (0u64, 0u64);
    for notice in corpus {
        bytes += (notice.title.len() + notice.body.len() + notice.agency.as_ref().map_or(0, String::len)) as u64;
        writer.upsert(&notice)?;
        notices += 1;
        if notices % args.batch == 0 {
            writer.commit("gen-corpus")?;
        }
    }
    writer.commit("gen-corpus")?;
    let indexed = started.elapsed().as_secs_f64();
    // Merges still running after the last commit are part of the cost.
    writer.close()?;
    let merged = started.elapsed().as_secs_f64();
    let figures = serde_json::json!({
        "notices": notices,
        "text_bytes": bytes,
        "threads": args.threads,
        "index_seconds": indexed,
        "with_merges_seconds": merged,
        "notices_per_second": notices as f64 / indexed,
        "mb_per_second": bytes as f64 / 1e6 / indexed,
    });
    if args.json {
        println!("{figures}");
    } else {
        eprintln!(
            "indexed {notices} notices ({:.1} MB of text) on {} thread(s) in {indexed:.1} s ({merged:.1} s with merges): {:.0} notices/s, {:.1} MB/s",
            bytes as f64 / 1e6,
            args.threads,
            notices as f64 / indexed,
            bytes as f64 / 1e6 / indexed
        );
    }
    Ok(ExitCode::SUCCESS)
}
