//! `notices serve`: the local query server (see `crate::server`).

use std::net::{SocketAddr, ToSocketAddrs};
use std::process::ExitCode;

use anyhow::{Context, Result};

use super::Ctx;
use crate::UsageError;
use crate::config::ServerConfig;
use crate::scheduler::Schedule;
use crate::server::Access;

/// Where the server listens unless told otherwise: loopback only.
pub const DEFAULT_ADDR: &str = "127.0.0.1:7878";

/// Arguments of `notices serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on (default 127.0.0.1:7878, also config `server.addr`).
    /// Only loopback unless another address is given here.
    #[arg(long, env = "NOTICES_ADDR", value_name = "HOST:PORT")]
    pub addr: Option<String>,
    /// Re-crawl the configured sources every DURATION while serving (e.g. `6h`), with jitter.
    #[arg(long, value_name = "DURATION", conflicts_with = "recrawl")]
    pub recrawl_every: Option<String>,
    /// Re-crawl on a cron schedule (UTC) while serving, e.g. `"0 */6 * * *"`.
    #[arg(long, value_name = "CRON")]
    pub recrawl: Option<String>,
    /// Bearer token every request must carry (also config `server.token`).
    /// Required when listening on a non-loopback address, unless --public.
    #[arg(long, env = "NOTICES_TOKEN", value_name = "TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Serve a non-loopback address without a token (anyone who can reach it may search).
    #[arg(long)]
    pub public: bool,
    /// Search every request afresh: no cache of recent answers (also config
    /// `server.cache = false`; benchmarks use this to measure the index itself).
    #[arg(long, env = "NOTICES_NO_CACHE")]
    pub no_cache: bool,
}

/// Who may use the server: its host names (loopback, `server.allowed_hosts`
/// and the address bound, when it is a specific one) and the token, which
/// is required off loopback unless `public`.
pub fn access(addr: SocketAddr, flag_token: Option<&str>, config: &ServerConfig, public: bool) -> Result<Access> {
    let token = flag_token.or(config.token.as_deref()).map(str::trim).filter(|t| !t.is_empty()).map(str::to_string);
    if !addr.ip().is_loopback() && token.is_none() && !public {
        return Err(UsageError(format!(
            "{addr} is not a loopback address: other machines could query this index. Give a token \
             (--token, NOTICES_TOKEN or server.token; clients send `Authorization: Bearer <token>`), \
             or --public to serve without one"
        ))
        .into());
    }
    let mut allowed_hosts = config.allowed_hosts.clone();
    if !addr.ip().is_unspecified() && !addr.ip().is_loopback() {
        allowed_hosts.push(match addr {
            SocketAddr::V4(a) => a.ip().to_string(),
            SocketAddr::V6(a) => format!("[{}]", a.ip()),
        });
    }
    Ok(Access { allowed_hosts, token })
}

/// Resolves the address to bind: the flag (or env), else the config file,
/// else [`DEFAULT_ADDR`].
pub fn bind_addr(flag: Option<&str>, config: Option<&str>) -> Result<SocketAddr> {
    let text = flag.or(config).unwrap_or(DEFAULT_ADDR).trim();
    let mut addrs = text
        .to_socket_addrs()
        .map_err(|e| UsageError(format!("invalid --addr {text:?}: {e} (expected HOST:PORT such as {DEFAULT_ADDR})")))?;
    addrs.next().ok_or_else(|| UsageError(format!("--addr {text:?} resolves to no address")).into())
}

/// Runs the server until Ctrl-C or SIGTERM.
pub fn run(ctx: &Ctx, args: ServeArgs) -> Result<ExitCode> {
    let addr = bind_addr(args.addr.as_deref(), ctx.config.server.addr.as_deref())?;
    let schedule = match (&args.recrawl_every, &args.recrawl) {
        (Some(every), _) => Some(Schedule::every(every)?),
        (None, Some(cron)) => Some(Schedule::cron(cron)?),
        (None, None) => None,
    };
    let access = access(addr, args.token.as_deref(), &ctx.config.server, args.public)?;
    if !addr.ip().is_loopback() && access.token.is_none() {
        tracing::warn!("listening on {addr}, which is not a loopback address: other machines can query this index");
    }
    // Bind before building anything so a busy port fails at once.
    let listener = std::net::TcpListener::bind(addr)
        .map_err(|e| UsageError(format!("cannot listen on {addr}: {e} (pick another with --addr)")))?;
    listener.set_nonblocking(true)?;
    let local = listener.local_addr()?;

    let index = ctx.open_index()?;
    // An empty index gets the bundled sample; if that fails the server
    // still runs (a crawl may fill the index later).
    if let Err(e) = super::ingest::ensure_sample(ctx, &index) {
        tracing::warn!("could not build the sample index: {e:#}");
    }
    let notices = index.len()?;
    let no_cache = args.no_cache || ctx.config.server.cache == Some(false);

    // Searches are CPU-bound and run on the blocking pool: more threads than
    // a few per core only add memory and switching, so excess searches queue.
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads((cores * 2).clamp(4, 32))
        .build()
        .context("cannot start the runtime")?;
    let ctx = ctx.clone();
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::from_std(listener)?;
        // One signal stops both the server and a re-crawl in progress.
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            crate::server::shutdown_signal().await;
            let _ = stop_tx.send(true);
        });
        let recrawler = schedule.map(|schedule| tokio::spawn(recrawl(ctx, schedule, stop_rx.clone())));
        // Tests and scripts read the URL from this line (the port may be 0 → chosen).
        eprintln!("notices: serving {notices} notices on http://{local}/ (Ctrl-C to stop)");
        let cache = (!no_cache).then(|| std::sync::Arc::new(index::cache::ResultCache::default()));
        let served = crate::server::serve(listener, index, access, cache, stopped(stop_rx)).await;
        // A re-crawl in progress stops at its next commit; wait for it so
        // nothing half-done is left behind.
        if let Some(task) = recrawler {
            let _ = task.await;
        }
        served
    })?;
    eprintln!("notices: server stopped");
    Ok(ExitCode::SUCCESS)
}

/// Resolves once `stop` turns true (or its sender is gone).
async fn stopped(mut stop: tokio::sync::watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

/// Scheduled re-crawls inside the server: the library's crawl of every
/// enabled source ([`crawler::crawl::crawl`], as `notices crawl` runs it),
/// taking the data directory's crawl lock for each run, so a CLI crawl
/// started meanwhile is refused with a clear message (and a run is skipped
/// while a CLI crawl holds it). New commits reach the server's searches
/// through the index reader's reload, without a restart.
async fn recrawl(ctx: Ctx, schedule: Schedule, stop: tokio::sync::watch::Receiver<bool>) {
    let plan = crawler::crawl::CrawlPlan {
        config: ctx.config.crawl.clone(),
        ..crawler::crawl::CrawlPlan::new(&ctx.data.root)
    };
    let job = || {
        let plan = plan.clone();
        let stop = stop.clone();
        async move {
            match crawler::crawl::crawl(&plan, Some(stop)).await {
                Ok(s) => tracing::info!(new = s.new, changed = s.changed, errors = s.errors.len(), "re-crawl done"),
                Err(e @ crawler::Error::Busy { .. }) => tracing::warn!("re-crawl skipped: {e}"),
                Err(e) => tracing::error!("re-crawl failed: {e}"),
            }
        }
    };
    // The first crawl waits one interval: starting a server should not
    // hammer the agencies' sites.
    crate::scheduler::run(schedule, false, job, stopped(stop.clone())).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_address_is_loopback_and_flags_win() {
        let d = bind_addr(None, None).unwrap();
        assert!(d.ip().is_loopback());
        assert_eq!(d.port(), 7878);
        assert_eq!(bind_addr(None, Some("127.0.0.1:9000")).unwrap().port(), 9000);
        assert_eq!(bind_addr(Some("0.0.0.0:8080"), Some("127.0.0.1:9000")).unwrap().to_string(), "0.0.0.0:8080");
        assert!(bind_addr(Some("localhost:1"), None).unwrap().ip().is_loopback());
    }

    #[test]
    fn off_loopback_a_token_is_required_unless_public() {
        let config = ServerConfig::default();
        let lan: SocketAddr = "192.168.1.5:8080".parse().unwrap();
        let err = access(lan, None, &config, false).unwrap_err();
        assert!(err.downcast_ref::<UsageError>().is_some() && err.to_string().contains("--token"), "{err}");
        let a = access(lan, Some("s3cret"), &config, false).unwrap();
        assert_eq!(a.token.as_deref(), Some("s3cret"));
        assert!(a.allows_host("192.168.1.5:8080"), "the address bound is one of its names");
        assert!(access(lan, None, &config, true).unwrap().token.is_none());
        let with_file = ServerConfig { token: Some("from-file".into()), ..ServerConfig::default() };
        assert_eq!(access(lan, Some("flag"), &with_file, false).unwrap().token.as_deref(), Some("flag"));
        assert_eq!(access(lan, None, &with_file, false).unwrap().token.as_deref(), Some("from-file"));
        let local: SocketAddr = "127.0.0.1:7878".parse().unwrap();
        assert!(access(local, None, &config, false).unwrap().token.is_none());
    }

    #[test]
    fn a_bad_address_is_a_usage_error() {
        for bad in ["7878", "127.0.0.1", "127.0.0.1:99999", "::1"] {
            let err = bind_addr(Some(bad), None).unwrap_err();
            assert!(err.downcast_ref::<UsageError>().is_some(), "{bad}: {err}");
        }
    }
}
