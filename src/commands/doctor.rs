//! `notices doctor`: what configuration is in effect and where each value
//! came from, the data directory, and whether index, crawl state, crawl
//! lock and headless browser are in order, with what to do about each
//! problem. Exit 0 when all is well, 1 otherwise.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;
use clap::parser::ValueSource;

use super::serve::DEFAULT_ADDR;
use crate::config::{BROWSER_ENV, Config, DataDir};

/// Exit code when something needs doing.
const UNWELL: u8 = 1;

/// Arguments of `notices doctor`.
#[derive(Debug, clap::Args)]
pub struct DoctorArgs {}

/// Where a setting's value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    Default,
    File,
    Env(&'static str),
    Flag,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Default => f.write_str("default"),
            Origin::File => f.write_str("file"),
            Origin::Env(name) => write!(f, "env {name}"),
            Origin::Flag => f.write_str("flag"),
        }
    }
}

/// Origin of a global argument as clap saw it.
fn clap_origin(matches: &clap::ArgMatches, id: &str, env: &'static str) -> Option<Origin> {
    match matches.value_source(id)? {
        ValueSource::CommandLine => Some(Origin::Flag),
        ValueSource::EnvVariable => Some(Origin::Env(env)),
        _ => None,
    }
}

fn env_set(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// A finding: ok, or a problem with what to do.
struct Report {
    problems: usize,
}

impl Report {
    fn ok(&mut self, what: &str, detail: impl std::fmt::Display) {
        println!("  ok       {what}: {detail}");
    }
    fn note(&mut self, what: &str, detail: impl std::fmt::Display) {
        println!("  note     {what}: {detail}");
    }
    fn problem(&mut self, what: &str, detail: impl std::fmt::Display, fix: &str) {
        self.problems += 1;
        println!("  PROBLEM  {what}: {detail}\n           → {fix}");
    }
}

/// Runs every check. Needs the raw matches to tell flags from env values.
pub fn run(cli_data_dir: Option<&Path>, cli_config: Option<&Path>, matches: &clap::ArgMatches) -> Result<ExitCode> {
    let mut report = Report { problems: 0 };
    println!("configuration");
    // The config file: read here (not by the caller) so a bad one is reported.
    let (config_path, config_origin) = match cli_config {
        Some(p) => (Some(p.to_path_buf()), clap_origin(matches, "config", "NOTICES_CONFIG").unwrap_or(Origin::Flag)),
        None => (crate::config::default_config_file(), Origin::Default),
    };
    let (config, file_table) = match &config_path {
        Some(p) if p.exists() => match Config::load(Some(p)) {
            Ok(c) => {
                let table = std::fs::read_to_string(p).ok().and_then(|t| t.parse::<toml::Table>().ok());
                println!("  config file           {} ({config_origin})", p.display());
                (c, table.unwrap_or_default())
            }
            Err(e) => {
                println!("  config file           {} ({config_origin})", p.display());
                report.problem(
                    "config file",
                    format!("{e:#}"),
                    "fix the file (keys and types are in the README), or move it away",
                );
                (Config::default(), toml::Table::new())
            }
        },
        Some(p) => {
            println!("  config file           {} ({config_origin}; not present, defaults used)", p.display());
            if config_origin != Origin::Default {
                report.problem(
                    "config file",
                    format!("{} does not exist", p.display()),
                    "create it or drop --config / NOTICES_CONFIG",
                );
            }
            (Config::default(), toml::Table::new())
        }
        None => {
            println!("  config file           none (no home directory)");
            (Config::default(), toml::Table::new())
        }
    };
    let in_file = |path: &[&str]| {
        let mut t = &file_table;
        for (i, key) in path.iter().enumerate() {
            match t.get(*key) {
                Some(toml::Value::Table(inner)) if i + 1 < path.len() => t = inner,
                Some(_) if i + 1 == path.len() => return true,
                _ => return false,
            }
        }
        false
    };
    let file_or_default = |path: &[&str]| if in_file(path) { Origin::File } else { Origin::Default };

    let data_origin = match cli_data_dir {
        Some(_) => clap_origin(matches, "data_dir", "NOTICES_DATA_DIR").unwrap_or(Origin::Flag),
        None => file_or_default(&["data_dir"]),
    };
    let data = match config.data_dir(cli_data_dir) {
        Ok(p) => DataDir::new(p),
        Err(e) => {
            report.problem("data_dir", format!("{e:#}"), "pass --data-dir or set NOTICES_DATA_DIR");
            println!("\n1 problem");
            return Ok(ExitCode::from(UNWELL));
        }
    };
    println!("  data_dir              {} ({data_origin})", data.root.display());
    let (addr, addr_origin) = match env_set("NOTICES_ADDR") {
        Some(a) => (a, Origin::Env("NOTICES_ADDR")),
        None => match &config.server.addr {
            Some(a) => (a.clone(), Origin::File),
            None => (DEFAULT_ADDR.to_string(), Origin::Default),
        },
    };
    println!("  server.addr           {addr} ({addr_origin}; `serve --addr` overrides)");
    println!(
        "  server.allowed_hosts  {:?} ({})",
        config.server.allowed_hosts,
        file_or_default(&["server", "allowed_hosts"])
    );
    let token = match (env_set("NOTICES_TOKEN"), &config.server.token) {
        (Some(t), _) => format!("set, {} characters (env NOTICES_TOKEN)", t.chars().count()),
        (None, Some(t)) => format!("set, {} characters (file)", t.chars().count()),
        (None, None) => "not set (default)".to_string(),
    };
    println!("  server.token          {token}");
    let browser_origin =
        if env_set(BROWSER_ENV).is_some() { Origin::Env(BROWSER_ENV) } else { file_or_default(&["browser"]) };
    let browser = config.browser();
    match &browser {
        Ok(b) => println!("  browser               {} ({browser_origin})", b.display()),
        Err(_) => println!("  browser               none found ({browser_origin})"),
    }
    let crawl_keys: Vec<String> = match file_table.get("crawl") {
        Some(toml::Value::Table(t)) => t.keys().cloned().collect(),
        _ => Vec::new(),
    };
    if crawl_keys.is_empty() {
        println!("  crawl.*               defaults");
    } else {
        println!("  crawl.*               {} (file); the rest default", crawl_keys.join(", "));
    }
    let log = env_set("NOTICES_LOG")
        .map_or("warn (default; -v, -vv or NOTICES_LOG)".to_string(), |l| format!("{l} (env NOTICES_LOG)"));
    println!("  log level             {log}");

    println!("\ndata directory {}", data.root.display());
    if !data.root.exists() {
        println!("  (not created yet)");
    } else {
        println!("  index/                {}", human(dir_size(&data.index())));
        let db = data.crawl_db();
        let wal = PathBuf::from(format!("{}-wal", db.display()));
        println!("  crawl.sqlite          {}", human(file_size(&db) + file_size(&wal)));
        let kept = data.root.join(crawler::attachments::ATTACHMENTS_DIR);
        println!(
            "  attachments/          {} (cap {} MiB: attachment_cache_mb)",
            human(dir_size(&kept)),
            config.crawl.attachment_cache_mb
        );
    }

    println!("\nchecks");
    if data.index().join("meta.json").exists() {
        match index::health::check(&data.index()) {
            Ok(h) => {
                let when = h
                    .last_commit
                    .map(|c| format!(", last commit {} by {}", c.committed_at.format("%Y-%m-%d %H:%M UTC"), c.by));
                report.ok(
                    "index",
                    format!("{} notices in {} segments{}", h.notices, h.segments, when.unwrap_or_default()),
                );
            }
            Err(e) => report.problem(
                "index",
                e,
                "restore a backup (README: Backups), or move the index/ directory away and re-crawl or re-import",
            ),
        }
    } else if data.index().exists() {
        report.problem(
            "index",
            format!("{} holds no index (no meta.json)", data.index().display()),
            "move the directory away; the next search or crawl creates a new index",
        );
    } else {
        report
            .note("index", "none yet: the first `notices search` builds it from the sample, `notices crawl` fills it");
    }
    let db = data.crawl_db();
    if db.exists() {
        match crawler::backup::check_state(&db) {
            Ok(s) => report.ok("crawl state", format!("{} URLs known", s.urls)),
            Err(e) => report.problem(
                "crawl state",
                e,
                "restore crawl.sqlite from a backup, or move it away (the next crawl starts afresh and re-fetches)",
            ),
        }
    } else {
        report.note("crawl state", "none yet (created by the first crawl)");
    }
    match crawler::lock::holder(&data.root) {
        Ok(None) => report.ok("crawl lock", "free"),
        Ok(Some(pid)) => report.note("crawl lock", format!("held by process {pid}: a crawl is running")),
        Err(e) => report.problem("crawl lock", e, "check the permissions of the data directory"),
    }
    match &browser {
        Ok(b) => report.ok("headless browser", b.display()),
        Err(e) => report.note(
            "headless browser",
            format!(
                "{e}; needed by `notices digest --format pdf` and by crawls of sites with JavaScript challenges (fetch = \"auto\", the default for nmpa and cde, or \"browser\"), which are otherwise reported blocked"
            ),
        ),
    }
    match report.problems {
        0 => {
            println!("\nall well");
            Ok(ExitCode::SUCCESS)
        }
        n => {
            println!("\n{n} problem{}", if n == 1 { "" } else { "s" });
            Ok(ExitCode::from(UNWELL))
        }
    }
}

fn file_size(p: &Path) -> u64 {
    p.metadata().map_or(0, |m| m.len())
}

fn dir_size(p: &Path) -> u64 {
    std::fs::read_dir(p).map_or(0, |entries| {
        entries
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .map(|p| if p.is_dir() { dir_size(&p) } else { file_size(&p) })
            .sum()
    })
}

fn human(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 30 => format!("{:.1} GiB", b as f64 / (1u64 << 30) as f64),
        b if b >= 1 << 20 => format!("{:.1} MiB", b as f64 / (1u64 << 20) as f64),
        b if b >= 1 << 10 => format!("{:.1} KiB", b as f64 / 1024.0),
        b => format!("{b} B"),
    }
}
