//! Starting Chromium (found by [`super::discover`]): one headless process
//! per crawl, with its own temporary profile, in its own process group,
//! killed (group and all) by [`Instance::kill`] or when the handle is dropped.
//!
//! The process is started here rather than by chromiumoxide's launcher so
//! that the crawl owns its lifetime: a process group to kill at once (the
//! browser, its zygotes and renderers), and `PR_SET_PDEATHSIG` so that even a
//! crawl killed with SIGKILL takes the browser with it.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chromiumoxide::Handler;
use futures::StreamExt;

use super::discover::NotFound;

/// Prefix of the temporary profile directories (`--user-data-dir`), so a
/// test can tell this crawler's browsers from any other.
pub const PROFILE_PREFIX: &str = "notices-browser-";

/// The flags every browser of the crawler gets: headless, no sandbox (the
/// crawler may run as root in a container), nothing the browser would fetch
/// on its own (updates, sync, safe-browsing lists), no QUIC (the plain
/// client speaks HTTP/1.1 and 2 only; the sites see one kind of client).
pub const FLAGS: [&str; 12] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-dev-shm-usage",
    "--remote-debugging-port=0",
];

/// How long the browser may take to open its DevTools port.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// Why no browser could be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LaunchError {
    /// None found, or the configured one is no executable.
    #[error(transparent)]
    NotFound(#[from] NotFound),
    /// It would not start or never opened its DevTools port.
    #[error("the browser {path} did not start: {reason}")]
    Start {
        /// The executable.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

/// A running browser: the process, its profile and the DevTools connection.
/// Dropping it kills the whole process group and removes the profile.
pub struct Instance {
    /// The DevTools client.
    pub browser: chromiumoxide::Browser,
    handler: tokio::task::JoinHandle<()>,
    pid: u32,
    /// The process, until killed (by [`Instance::kill`] or on drop).
    child: std::sync::Mutex<Option<Child>>,
    profile: std::sync::Mutex<Option<tempfile::TempDir>>,
}

impl std::fmt::Debug for Instance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Instance").field("pid", &self.pid).finish()
    }
}

impl Instance {
    /// Starts `path` headless with a fresh profile and connects to it.
    pub async fn start(path: &Path) -> Result<Instance, LaunchError> {
        let fail = |reason: String| LaunchError::Start { path: path.to_path_buf(), reason };
        let profile = tempfile::Builder::new()
            .prefix(PROFILE_PREFIX)
            .tempdir()
            .map_err(|e| fail(format!("cannot make a profile directory: {e}")))?;
        // Its own temporary files (shared memory, crash reports) go inside
        // the profile too: a browser that is killed never cleans up after
        // itself, and the profile is removed with everything in it.
        let tmp = profile.path().join("tmp");
        std::fs::create_dir(&tmp).map_err(|e| fail(format!("cannot make {}: {e}", tmp.display())))?;
        let mut cmd = Command::new(path);
        cmd.args(FLAGS)
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .env("TMPDIR", &tmp)
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            // Its own group, so that one kill reaches every process it forks.
            .process_group(0);
        // SAFETY: prctl is async-signal-safe; it only asks the kernel to
        // kill the child when the thread that forked it dies, so that a crawl
        // killed with SIGKILL does not leave the browser behind.
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        let child = cmd.spawn().map_err(|e| fail(e.to_string()))?;
        let pid = child.id();
        // From here on, every failure must kill what was started.
        let mut guard = Partial { child: Some(child), profile: Some(profile) };
        let port_file = profile_path(&guard).join("DevToolsActivePort");
        let started = Instant::now();
        let ws = loop {
            if let Ok(text) = std::fs::read_to_string(&port_file) {
                let mut lines = text.lines();
                if let (Some(port), Some(path)) = (lines.next(), lines.next()) {
                    break format!("ws://127.0.0.1:{}{}", port.trim(), path.trim());
                }
            }
            let child = guard.child_mut();
            if let Ok(Some(status)) = child.try_wait() {
                let mut err = String::new();
                if let Some(mut e) = child.stderr.take() {
                    let _ = e.read_to_string(&mut err);
                }
                let last: Vec<&str> = err.lines().rev().take(3).collect();
                return Err(fail(format!("exited with {status}: {}", last.join(" | "))));
            }
            if started.elapsed() > START_TIMEOUT {
                return Err(fail(format!("no DevTools port after {} s", START_TIMEOUT.as_secs())));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        // Its log is not ours to keep; drain it so a chatty browser never blocks on a full pipe.
        if let Some(mut err) = guard.child_mut().stderr.take() {
            std::thread::spawn(move || std::io::copy(&mut err, &mut std::io::sink()));
        }
        let (browser, mut handler): (chromiumoxide::Browser, Handler) =
            chromiumoxide::Browser::connect(ws).await.map_err(|e| fail(format!("DevTools connection: {e}")))?;
        let handler = tokio::spawn(async move {
            // The handler drives the connection; an error means the browser
            // went away (crashed, killed): the task ends and `is_gone` says so.
            while let Some(event) = handler.next().await {
                match event {
                    Ok(()) => {}
                    Err(e) if super::tab::is_fatal(&e) => {
                        tracing::warn!(error = %e, "browser connection lost");
                        break;
                    }
                    Err(e) => tracing::debug!(error = %e, "browser message"),
                }
            }
        });
        tracing::info!(pid, browser = %path.display(), "browser started");
        let (child, profile) = guard.release();
        Ok(Instance {
            browser,
            handler,
            pid,
            child: std::sync::Mutex::new(Some(child)),
            profile: std::sync::Mutex::new(Some(profile)),
        })
    }

    /// The browser's process id (its process group id too).
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Kills the browser, its whole process group, and removes its
    /// profile; once (later calls do nothing). Tasks still holding the
    /// instance then see a closed connection.
    pub fn kill(&self) {
        self.handler.abort();
        let child = self.child.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(mut child) = child {
            kill_group(&mut child);
            tracing::info!(pid = self.pid, "browser stopped");
        }
        drop(self.profile.lock().unwrap_or_else(|p| p.into_inner()).take());
    }

    /// Whether the connection to the browser is gone (it crashed or was killed).
    pub fn is_gone(&self) -> bool {
        self.handler.is_finished()
    }
}

fn profile_path(p: &Partial) -> PathBuf {
    p.profile.as_ref().map(|d| d.path().to_path_buf()).unwrap_or_default()
}

/// A browser being started: killed if the start fails half-way.
struct Partial {
    child: Option<Child>,
    profile: Option<tempfile::TempDir>,
}

impl Partial {
    fn child_mut(&mut self) -> &mut Child {
        // Present until `release`, which consumes the guard.
        self.child.as_mut().unwrap_or_else(|| unreachable!("child released"))
    }

    fn release(mut self) -> (Child, tempfile::TempDir) {
        match (self.child.take(), self.profile.take()) {
            (Some(c), Some(p)) => (c, p),
            _ => unreachable!("released twice"),
        }
    }
}

impl Drop for Partial {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            kill_group(child);
        }
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Kills the process group led by `child` and reaps the leader.
fn kill_group(child: &mut Child) {
    let pid = child.id() as libc::pid_t;
    // SAFETY: kill(2) with a negative pid signals the group `pid` leads
    // (`process_group(0)` made it a leader); no memory is involved.
    unsafe {
        libc::kill(-pid, libc::SIGKILL);
    }
    let _ = child.kill();
    let _ = child.wait();
}
