//! The search page: three files embedded in the binary, so it works offline
//! and nothing on disk is ever served.

use axum::extract::Path;
use axum::extract::rejection::PathRejection;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::ApiError;

const INDEX_HTML: &str = include_str!("assets/index.html");
const APP_JS: &str = include_str!("assets/app.js");
const STYLE_CSS: &str = include_str!("assets/style.css");

/// Only our own script, style and API; no inline code, no third parties.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

fn file(content_type: &'static str, body: &'static str) -> Response {
    let mut res = (StatusCode::OK, body).into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    // Revalidate each time: a new binary may bring new assets.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    res
}

/// `GET /`.
pub async fn index_html() -> Response {
    let mut res = file("text/html; charset=utf-8", INDEX_HTML);
    res.headers_mut().insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    res
}

/// `GET /assets/{name}`: the embedded files by name, nothing else.
pub async fn asset(name: Result<Path<String>, PathRejection>) -> Response {
    match name.as_ref().map(|Path(n)| n.as_str()) {
        Ok("app.js") => file("text/javascript; charset=utf-8", APP_JS),
        Ok("style.css") => file("text/css; charset=utf-8", STYLE_CSS),
        _ => ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such asset").into_response(),
    }
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;

    use super::*;
    use crate::server::router;

    async fn get(path: &str) -> (StatusCode, String, String) {
        let app = router(index::NoticeIndex::in_memory().unwrap());
        let res = app.oneshot(Request::get(path).body(Body::empty()).unwrap()).await.unwrap();
        let status = res.status();
        let ct = res.headers().get(header::CONTENT_TYPE).unwrap().to_str().unwrap().to_string();
        let body = axum::body::to_bytes(res.into_body(), usize::MAX).await.unwrap();
        (status, ct, String::from_utf8(body.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn the_page_and_its_assets_are_served_from_the_binary() {
        let (status, ct, body) = get("/").await;
        assert_eq!(status, StatusCode::OK);
        assert!(ct.starts_with("text/html"));
        assert!(body.contains("/assets/app.js") && body.contains("/assets/style.css"));
        // Nothing is loaded from elsewhere.
        assert!(!body.contains("http://") && !body.contains("https://"), "no CDN");
        let (_, ct, js) = get("/assets/app.js").await;
        assert!(ct.starts_with("text/javascript") && js.contains("/api/search"));
        let (_, ct, _) = get("/assets/style.css").await;
        assert!(ct.starts_with("text/css"));
    }

    #[tokio::test]
    async fn other_asset_names_are_404() {
        for path in ["/assets/index.html", "/assets/..%2F..%2FCargo.toml", "/assets/screenshot.png", "/assets/"] {
            let (status, ct, _) = get(path).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
            assert!(ct.starts_with("application/json"), "{path}");
        }
    }
}
