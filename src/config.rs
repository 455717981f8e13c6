//! Configuration: one struct, read from a TOML file, then `NOTICES_*`
//! environment variables, then flags (each overriding the one before).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Deserialize;

/// Everything configurable. Every field is optional in the file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Where the index and the crawl state live.
    pub data_dir: Option<PathBuf>,
    /// Crawler settings (user agent, politeness, source overrides).
    pub crawl: crawler::config::CrawlConfig,
    /// Server settings.
    pub server: ServerConfig,
    /// Headless browser for PDF digests and for the crawl's browser fetcher
    /// (a path or a command on `PATH`); `NOTICES_BROWSER` overrides;
    /// default: chromium found on `PATH`.
    pub browser: Option<PathBuf>,
}

/// Environment variable naming the headless browser.
pub const BROWSER_ENV: &str = "NOTICES_BROWSER";

/// Settings of `notices serve`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Address to bind (default 127.0.0.1:7878).
    pub addr: Option<String>,
    /// Host names the server answers besides 127.0.0.1, localhost and [::1]
    /// (e.g. `notices.example.org`); any other `Host` header is refused.
    pub allowed_hosts: Vec<String>,
    /// Bearer token every request must carry (`--token`, `NOTICES_TOKEN`
    /// override it); required when listening off loopback unless `--public`.
    pub token: Option<String>,
    /// Keep answers of recent searches (default true); `false` here,
    /// `NOTICES_NO_CACHE=1` or `--no-cache` turn the result cache off.
    pub cache: Option<bool>,
}

impl Config {
    /// Reads `path` if given, else the default config file if it exists.
    pub fn load(path: Option<&Path>) -> Result<Config> {
        let (path, required) = match path {
            Some(p) => (p.to_path_buf(), true),
            None => match default_config_file() {
                Some(p) => (p, false),
                None => return Ok(Config::default().resolved()),
            },
        };
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if !required && e.kind() == std::io::ErrorKind::NotFound => return Ok(Config::default().resolved()),
            Err(e) => return Err(e).with_context(|| format!("cannot read config file {}", path.display())),
        };
        toml::from_str::<Config>(&text)
            .map(Config::resolved)
            .map_err(|e| anyhow::Error::new(crate::UsageError(format!("invalid config file {}: {e}", path.display()))))
    }

    /// Settings that live in one place and are handed to a library: the
    /// browser setting goes to the crawl configuration.
    fn resolved(mut self) -> Config {
        self.crawl.browser = self.browser_setting();
        self
    }

    /// The data directory: flag or env (already merged by clap), else the
    /// file, else the user's data directory.
    pub fn data_dir(&self, from_cli: Option<&Path>) -> Result<PathBuf> {
        if let Some(p) = from_cli.or(self.data_dir.as_deref()) {
            return Ok(p.to_path_buf());
        }
        directories::ProjectDirs::from("", "", "notices")
            .map(|d| d.data_dir().to_path_buf())
            .context("no home directory to put the data in: pass --data-dir or set NOTICES_DATA_DIR")
    }
}

impl Config {
    /// The browser as configured: `NOTICES_BROWSER`, else the file's
    /// `browser` (`None`: one is looked for on `PATH`).
    pub fn browser_setting(&self) -> Option<PathBuf> {
        std::env::var_os(BROWSER_ENV).filter(|v| !v.is_empty()).map(PathBuf::from).or_else(|| self.browser.clone())
    }

    /// The browser (for PDFs; the crawl finds its own from the same
    /// setting): the configured one, else one found on `PATH`; the error
    /// says what to install.
    pub fn browser(&self) -> Result<PathBuf, crawler::browser::NotFound> {
        crawler::browser::locate(self.browser_setting().as_deref())
    }
}

/// The config file read when `--config` and `NOTICES_CONFIG` are not given.
pub fn default_config_file() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "notices").map(|d| d.config_dir().join("config.toml"))
}

/// Paths inside the data directory.
#[derive(Debug, Clone)]
pub struct DataDir {
    /// The directory itself.
    pub root: PathBuf,
}

impl DataDir {
    /// Wraps a data directory path.
    pub fn new(root: PathBuf) -> DataDir {
        DataDir { root }
    }
    /// The Tantivy index.
    pub fn index(&self) -> PathBuf {
        self.root.join(crawler::store::INDEX_DIR)
    }
    /// The crawl state database.
    pub fn crawl_db(&self) -> PathBuf {
        self.root.join(crawler::store::STATE_FILE)
    }
}
