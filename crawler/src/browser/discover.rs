//! Finding the headless browser: one search for every use of it (the
//! crawl's browser fetcher, PDF digests, `notices doctor`), and one message
//! saying what to install when there is none.

use std::path::{Path, PathBuf};

/// Browser commands looked for on `PATH`, in this order.
pub const CANDIDATES: [&str; 4] = ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"];

/// What to do when no browser is found.
pub const INSTALL_HINT: &str = "install Chromium (Debian/Ubuntu: `apt-get install chromium`), or name it with `browser = \"/path\"` in the config file or NOTICES_BROWSER";

/// Why no browser was found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotFound {
    /// None of [`CANDIDATES`] is on `PATH`, and none was named.
    #[error("no headless browser found (looked for {} on PATH): {INSTALL_HINT}", CANDIDATES.join(", "))]
    Missing,
    /// The named browser is not an executable file (nor a command on `PATH`).
    #[error("the configured browser {} is not an executable file: {INSTALL_HINT}", .0.display())]
    NotExecutable(PathBuf),
}

/// The browser: `explicit` (a path, or a command name looked up on `PATH`)
/// when given, else the first of [`CANDIDATES`] on `PATH`.
pub fn locate(explicit: Option<&Path>) -> Result<PathBuf, NotFound> {
    if let Some(p) = explicit.filter(|p| !p.as_os_str().is_empty()) {
        let found = if p.components().count() > 1 {
            is_executable(p).then(|| p.to_path_buf())
        } else {
            p.to_str().and_then(on_path)
        };
        return found.ok_or_else(|| NotFound::NotExecutable(p.to_path_buf()));
    }
    CANDIDATES.iter().find_map(|name| on_path(name)).ok_or(NotFound::Missing)
}

/// [`locate`], when only whether there is one matters.
pub fn find(explicit: Option<&Path>) -> Option<PathBuf> {
    locate(explicit).ok()
}

fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(name)).find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    p.metadata().is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_named_browser_must_exist_and_the_message_says_what_to_install() {
        let err = locate(Some(Path::new("/nonexistent/chromium"))).unwrap_err();
        assert_eq!(err, NotFound::NotExecutable("/nonexistent/chromium".into()));
        assert!(err.to_string().contains("apt-get install chromium"), "{err}");
        assert!(NotFound::Missing.to_string().contains("chromium, chromium-browser"));
        // A command name is looked up on PATH: `sh` is there on any Unix.
        assert!(locate(Some(Path::new("sh"))).unwrap().is_absolute());
        assert!(find(Some(Path::new("no-such-browser-command"))).is_none());
    }
}
