//! Printing HTML to PDF with the headless browser (`notices digest
//! --format pdf`): Chromium embeds the fonts it used, CJK included.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::error::{Error, Result};

/// Longest a print may take.
const PRINT_TIMEOUT: Duration = Duration::from_secs(60);

/// Prints `html` (a standalone page) to PDF bytes with `browser`.
pub fn print_to_pdf(browser: &Path, html: &str) -> Result<Vec<u8>> {
    let tmp = tempfile::Builder::new()
        .prefix("notices-print-")
        .tempdir()
        .map_err(|source| Error::Io { path: std::env::temp_dir(), source })?;
    let page = tmp.path().join("digest.html");
    let pdf = tmp.path().join("digest.pdf");
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| Error::Io { path, source }
    };
    std::fs::write(&page, html).map_err(io(&page))?;
    let mut child = Command::new(browser)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer", "--no-first-run"])
        .arg(format!("--user-data-dir={}", tmp.path().join("profile").display()))
        .arg(format!("--print-to-pdf={}", pdf.display()))
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
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
