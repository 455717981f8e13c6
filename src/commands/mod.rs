//! One module per subcommand.

pub mod comments;
pub mod crawl;
pub mod digest;
pub mod export;
pub mod gen_corpus;
pub mod ingest;
pub mod new;
pub mod search;
pub mod serve;
pub mod show;
pub mod stats;

use std::process::ExitCode;

use anyhow::{Context, Result};
use index::NoticeIndex;

use crate::cli::{Cli, Command};
use crate::config::{Config, DataDir};

/// What every command gets: the merged configuration and the data directory.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// Merged configuration.
    pub config: Config,
    /// The data directory.
    pub data: DataDir,
}

impl Ctx {
    /// Opens (creating if needed) the index.
    pub fn open_index(&self) -> Result<NoticeIndex> {
        let path = self.data.index();
        NoticeIndex::open_or_create(&path).with_context(|| format!("cannot open the index in {}", path.display()))
    }
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<ExitCode> {
    let config = Config::load(cli.config.as_deref())?;
    let data = DataDir::new(config.data_dir(cli.data_dir.as_deref())?);
    let ctx = Ctx { config, data };
    match cli.command {
        Command::Search(args) => search::run(&ctx, args),
        Command::Ingest(args) => ingest::run(&ctx, args),
        Command::Stats(args) => stats::run(&ctx, args),
        Command::Show(args) => show::run(&ctx, args),
        Command::Export(args) => export::run(&ctx, args),
        Command::New(args) => new::run(&ctx, args),
        Command::Comments(args) => comments::run(&ctx, args),
        Command::Digest(args) => digest::run(&ctx, args),
        Command::Crawl(args) => crawl::run(&ctx, args),
        Command::Serve(args) => serve::run(&ctx, args),
        Command::GenCorpus(args) => gen_corpus::run(&ctx, args),
    }
}
