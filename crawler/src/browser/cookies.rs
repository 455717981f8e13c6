//! The browser's cookies handed to the plain HTTP client: once a page has
//! passed a challenge, its cookies (`Network.getCookies`, HttpOnly ones
//! included) go into the client's jar, so that attachments and conditional
//! re-fetches of that host go out as plain requests while the cookies work.

use chromiumoxide::cdp::browser_protocol::network::Cookie;
use reqwest::cookie::Jar;
use url::Url;

/// `Set-Cookie`-style line for a browser cookie (domain, path and secure
/// kept; expiry left to the site, the jar lives one crawl).
pub fn set_cookie_line(c: &Cookie) -> String {
    let mut line = format!("{}={}; Path={}", c.name, c.value, if c.path.is_empty() { "/" } else { &c.path });
    // A leading dot marks a domain cookie; a host-only cookie is set without Domain.
    if c.domain.starts_with('.') {
        line.push_str(&format!("; Domain={}", c.domain.trim_start_matches('.')));
    }
    if c.secure {
        line.push_str("; Secure");
    }
    line
}

/// Adds `cookies`, as the browser holds them for `url`, to `jar`; returns how many.
pub fn harvest(jar: &Jar, url: &Url, cookies: &[Cookie]) -> usize {
    for c in cookies {
        jar.add_cookie_str(&set_cookie_line(c), url);
    }
    cookies.len()
}
