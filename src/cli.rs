//! Command-line interface.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::commands;

/// Search engine for Chinese and English regulatory notices.
#[derive(Debug, Parser)]
#[command(name = "notices", version, about, long_about = None)]
pub struct Cli {
    /// Data directory (index and crawl state).
    #[arg(long, global = true, env = "NOTICES_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Configuration file (TOML).
    #[arg(long, global = true, env = "NOTICES_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// More logging (-v info, -vv debug); NOTICES_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Search the index.
    Search(commands::search::SearchArgs),
    /// Parse a weekly digest and index its items.
    Ingest(commands::ingest::IngestArgs),
    /// Counts by source and date range.
    Stats(commands::stats::StatsArgs),
    /// Print one notice in full.
    Show(commands::show::ShowArgs),
    /// Notices first seen recently (default: the last 7 days), newest first.
    New(commands::new::NewArgs),
    /// Comment periods closing soon (default: within 30 days), soonest first.
    Comments(commands::comments::CommentsArgs),
    /// A weekly digest of a period, grouped by field and agency (Markdown or HTML).
    Digest(commands::digest::DigestArgs),
    /// Print every notice as JSON lines.
    Export(commands::export::ExportArgs),
    /// Index the JSON lines `notices export` wrote (a file, or - for stdin).
    Import(commands::import::ImportArgs),
    /// Crawl the sources (or the pages a digest links) into the index.
    Crawl(commands::crawl::CrawlArgs),
    /// Generate the benchmark corpus (see BENCHMARKS.md).
    #[command(hide = true)]
    GenCorpus(commands::gen_corpus::GenCorpusArgs),
    /// Run the local query server.
    Serve(commands::serve::ServeArgs),
    /// Read the kept attachment files again with this version's extractors (no download).
    Reextract(commands::reextract::ReextractArgs),
    /// Copy the index and crawl state consistently, even while a server or crawl runs.
    Backup(commands::backup::BackupArgs),
    /// Check configuration, data directory, index, crawl state, lock and browser.
    Doctor(commands::doctor::DoctorArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell).
    Completions(commands::completions::CompletionsArgs),
    /// Print the man page (roff).
    Man,
}
