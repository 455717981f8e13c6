//! One module per subcommand.

pub mod backup;
pub mod comments;
pub mod completions;
pub mod crawl;
pub mod digest;
pub mod doctor;
pub mod export;
pub mod gen_corpus;
pub mod import;
pub mod ingest;
pub mod new;
pub mod reextract;
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

/// Runs the parsed command line (`matches` tells flags from env values).
pub fn run(cli: Cli, matches: &clap::ArgMatches) -> Result<ExitCode> {
    // These need no configuration; doctor reads (and judges) it itself.
    let command = match cli.command {
        Command::Completions(args) => return completions::run(args),
        Command::Man => return completions::man(),
        Command::Doctor(_) => return doctor::run(cli.data_dir.as_deref(), cli.config.as_deref(), matches),
        other => other,
    };
    let config = Config::load(cli.config.as_deref())?;
    let data = DataDir::new(config.data_dir(cli.data_dir.as_deref())?);
    let ctx = Ctx { config, data };
    match command {
        Command::Search(args) => search::run(&ctx, args),
        Command::Ingest(args) => ingest::run(&ctx, args),
        Command::Stats(args) => stats::run(&ctx, args),
        Command::Show(args) => show::run(&ctx, args),
        Command::Export(args) => export::run(&ctx, args),
        Command::Import(args) => import::run(&ctx, args),
        Command::New(args) => new::run(&ctx, args),
        Command::Comments(args) => comments::run(&ctx, args),
        Command::Digest(args) => digest::run(&ctx, args),
        Command::Crawl(args) => crawl::run(&ctx, args),
        Command::Serve(args) => serve::run(&ctx, args),
        Command::GenCorpus(args) => gen_corpus::run(&ctx, args),
        Command::Backup(args) => backup::run(&ctx, args),
        Command::Reextract(args) => reextract::run(&ctx, args),
        Command::Completions(_) | Command::Man | Command::Doctor(_) => Ok(ExitCode::SUCCESS), // returned above
    }
}
