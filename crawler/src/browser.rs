//! The headless browser: found on the machine, used to print HTML to PDF
//! (Chromium embeds the fonts it used, CJK included).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::error::{Error, Result};

/// Browser commands looked for on `PATH`, in this order.
pub const CANDIDATES: [&str; 4] = ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"];
/// Longest a print may take.
const PRINT_TIMEOUT: Duration = Duration::from_secs(60);

/// The browser: `explicit` (a path, or a command name looked up on
/// `PATH`) when given, else the first of [`CANDIDATES`] on `PATH`.
pub fn find(explicit: Option<&Path>) -> Option<PathBuf> {
    if let Some(p) = explicit.filter(|p| !p.as_os_str().is_empty()) {
        return if p.components().count() > 1 {
            is_executable(p).then(|| p.to_path_buf())
        } else {
            on_path(p.to_str()?)
        };
    }
    CANDIDATES.iter().find_map(|name| on_path(name))
}

fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(name)).find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        p.metadata().is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        p.is_file()
    }
}

/// Prints `html` (a standalone page) to PDF bytes with `browser`.
pub fn print_to_pdf(browser: &Path, html: &str) -> Result<Vec<u8>> {
    let tmp = TempDir::new()?;
    let page = tmp.0.join("digest.html");
    let pdf = tmp.0.join("digest.pdf");
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| Error::Io { path, source }
    };
    std::fs::write(&page, html).map_err(io(&page))?;
    let mut child = Command::new(browser)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer", "--no-first-run"])
        .arg(format!("--user-data-dir={}", tmp.0.join("profile").display()))
        .arg(format!("--print-to-pdf={}", pdf.display()))
        .arg(format!("file://{}", page.display()))
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|e| Error::Browser(format!("cannot start {}: {e}", browser.display())))?;
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().map_err(io(browser))? {
            break status;
        }
        if started.elapsed() > PRINT_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            return Err(Error::Browser(format!("{} took over {PRINT_TIMEOUT:?} to print", browser.display())));
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    match std::fs::read(&pdf) {
        Ok(bytes) if bytes.starts_with(b"%PDF") => Ok(bytes),
        _ => Err(Error::Browser(format!("{} printed no PDF (exit {status})", browser.display()))),
    }
}

/// A private directory removed on drop (no dependency for one use).
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Result<TempDir> {
        let path = std::env::temp_dir().join(format!("notices-print-{}-{}", std::process::id(), rand::random::<u64>()));
        std::fs::create_dir(&path).map_err(|source| Error::Io { path: path.clone(), source })?;
        Ok(TempDir(path))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
