//! The local query server of `notices serve`: a read-only JSON API and a
//! search page, over one shared index reader.
//!
//! Shaped like mini-redis: [`router`] builds the whole application without a
//! socket (unit tests call it with `tower::ServiceExt::oneshot`), and
//! [`serve`] runs it on a listener until a shutdown future completes.
//!
//! The index reader reloads by itself after every commit (also one made by
//! another process), so a crawl shows up without restarting the server.

mod api;
mod assets;
mod explain;
mod guard;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::error_handling::HandleErrorLayer;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use index::NoticeIndex;
use index::cache::ResultCache;
use tower::ServiceBuilder;

pub use api::ApiError;
pub use guard::Access;

/// Resource limits of the server.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Requests handled at once; more wait (and time out if they wait too long).
    pub max_concurrent: usize,
    /// Longest time a request may take, waiting included.
    pub timeout: Duration,
    /// Largest request body accepted. No endpoint reads a body, so this is small.
    pub max_body: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_concurrent: 64, timeout: Duration::from_secs(10), max_body: 16 * 1024 }
    }
}

/// What every handler shares.
#[derive(Clone)]
pub(crate) struct AppState {
    /// The index; clones share one reader.
    pub(crate) index: NoticeIndex,
    /// Answers of recent searches (`None` with `notices serve --no-cache`).
    pub(crate) cache: Option<Arc<ResultCache>>,
}

/// The application with default limits and no result cache (tests).
#[cfg(test)]
pub fn router(index: NoticeIndex) -> Router {
    router_with(index, None, Limits::default())
}

/// The application: routes, JSON errors, limits, and a result cache if given.
pub fn router_with(index: NoticeIndex, cache: Option<Arc<ResultCache>>, limits: Limits) -> Router {
    let routes = Router::new()
        .route("/", get(assets::index_html))
        .route("/assets/{name}", get(assets::asset))
        .route("/api/search", get(api::search))
        .route("/api/notices/{id}", get(api::notice))
        .route("/api/stats", get(api::stats))
        .route("/api/sources", get(api::sources))
        .route("/api/labels", get(api::labels))
        .route("/healthz", get(api::healthz))
        .route("/feed.atom", get(api::feed))
        .fallback(api::not_found)
        .with_state(AppState { index, cache });
    with_limits(routes, limits)
}

/// Wraps `routes` in the limits and the JSON error mapping. Separate from
/// [`router_with`] so the limits can be tested on a deliberately slow route.
fn with_limits(routes: Router, limits: Limits) -> Router {
    with_permits(routes, limits, Arc::new(tokio::sync::Semaphore::new(limits.max_concurrent)))
}

/// [`with_limits`] with the semaphore given (tests hold its permits).
fn with_permits(routes: Router, limits: Limits, permits: Arc<tokio::sync::Semaphore>) -> Router {
    routes
        .layer(
            ServiceBuilder::new()
                // Timeouts (and a full queue that makes requests wait too long)
                // become a JSON 503 instead of a dropped connection.
                .layer(HandleErrorLayer::new(handle_layer_error))
                .timeout(limits.timeout)
                // One semaphore for all routes (`Router::layer` wraps each route
                // separately), taken inside the timed future so that waiting for
                // a turn counts against the timeout. tower's ConcurrencyLimit
                // waits in `poll_ready`, which the timeout does not cover.
                .layer(axum::middleware::from_fn_with_state(permits, limit_concurrency))
                .layer(tower_http::limit::RequestBodyLimitLayer::new(limits.max_body)),
        )
        // Outermost, so it also sees the responses axum and the layers make
        // themselves (405, 413, ...).
        .layer(axum::middleware::map_response(finish_response))
        .layer(tower_http::trace::TraceLayer::new_for_http())
}

async fn limit_concurrency(
    axum::extract::State(permits): axum::extract::State<Arc<tokio::sync::Semaphore>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    match permits.acquire().await {
        Ok(_permit) => next.run(req).await,
        // The semaphore is never closed; answer rather than panic anyway.
        Err(_) => {
            ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "shutting_down", "the server is stopping").into_response()
        }
    }
}

async fn handle_layer_error(err: tower::BoxError) -> Response {
    if err.is::<tower::timeout::error::Elapsed>() {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "timeout", "the request took too long; try a narrower query")
            .into_response()
    } else {
        tracing::error!(error = %err, "middleware error");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal error").into_response()
    }
}

/// Makes every error a JSON error (axum's own 405, tower-http's 413, ...)
/// and adds headers that every response should carry.
async fn finish_response(res: Response) -> Response {
    let status = res.status();
    let is_json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let mut res = if (status.is_client_error() || status.is_server_error()) && !is_json {
        let (parts, _) = res.into_parts();
        let (code, message) = match status {
            StatusCode::METHOD_NOT_ALLOWED => ("method_not_allowed", "this server is read-only: use GET"),
            StatusCode::PAYLOAD_TOO_LARGE => ("body_too_large", "request body too large"),
            StatusCode::NOT_FOUND => ("not_found", "no such path"),
            _ => ("http_error", status.canonical_reason().unwrap_or("error")),
        };
        let mut fresh = ApiError::new(status, code, message).into_response();
        // Keep useful headers such as `Allow` on a 405.
        for (name, value) in parts.headers.iter() {
            if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
                fresh.headers_mut().insert(name, value.clone());
            }
        }
        fresh
    } else {
        res
    };
    let h = res.headers_mut();
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    // Links to the original pages should not tell the sites what was searched.
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    res
}

/// Serves `index` on `listener` to the clients `access` lets in until
/// `shutdown` completes, then lets requests in flight finish (for at most
/// a few seconds). Searches are answered from `cache` when it holds them.
pub async fn serve<F>(
    listener: tokio::net::TcpListener,
    index: NoticeIndex,
    access: Access,
    cache: Option<Arc<ResultCache>>,
    shutdown: F,
) -> std::io::Result<()>
where
    F: Future<Output = ()> + Send + 'static,
{
    /// How long requests in flight may take after the shutdown signal.
    const GRACE: Duration = Duration::from_secs(5);
    let fired = Arc::new(tokio::sync::Notify::new());
    let notify = fired.clone();
    // The host and token check is outermost: nothing else runs for a
    // request it refuses.
    let app = router_with(index, cache, Limits::default())
        .layer(axum::middleware::from_fn_with_state(Arc::new(access), guard::guard));
    let server = axum::serve(explain::ExplainingListener(listener), app).with_graceful_shutdown(async move {
        shutdown.await;
        tracing::info!("shutting down");
        notify.notify_one();
    });
    tokio::select! {
        res = server => res,
        () = async { fired.notified().await; tokio::time::sleep(GRACE).await } => {
            tracing::warn!("requests still running {GRACE:?} after the shutdown signal; exiting anyway");
            Ok(())
        }
    }
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!("cannot listen for Ctrl-C: {e}");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!("cannot listen for SIGTERM: {e}");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;

    use super::*;

    /// Sends one request to `app` and returns the status and the body parsed as JSON.
    pub(crate) async fn call(app: &Router, method: &str, uri: &str) -> (StatusCode, serde_json::Value) {
        let req = Request::builder().method(method).uri(uri).body(Body::empty()).unwrap();
        let res = app.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let ct = res.headers().get(header::CONTENT_TYPE).map(|v| v.to_str().unwrap().to_string());
        let bytes = axum::body::to_bytes(res.into_body(), usize::MAX).await.unwrap();
        if ct.as_deref().is_some_and(|c| c.starts_with("application/json")) {
            (status, serde_json::from_slice(&bytes).unwrap())
        } else {
            (status, serde_json::Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        }
    }

    fn slow_app(limits: Limits) -> Router {
        let routes = Router::new().route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_millis(300)).await;
                "done"
            }),
        );
        with_limits(routes, limits)
    }

    #[tokio::test]
    async fn a_slow_request_times_out_with_a_json_503() {
        let app = slow_app(Limits { timeout: Duration::from_millis(50), ..Limits::default() });
        let (status, body) = call(&app, "GET", "/slow").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(body["error"], "timeout");
    }

    #[tokio::test]
    async fn no_more_than_the_limit_run_at_once() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let now = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let (n, m) = (now.clone(), most.clone());
        let routes = Router::new().route(
            "/count",
            get(move || async move {
                let running = n.fetch_add(1, Ordering::SeqCst) + 1;
                m.fetch_max(running, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(100)).await;
                n.fetch_sub(1, Ordering::SeqCst);
                "done"
            }),
        );
        let app =
            with_limits(routes, Limits { max_concurrent: 2, timeout: Duration::from_secs(30), ..Limits::default() });
        let calls = (0..6).map(|_| call(&app, "GET", "/count"));
        let statuses: Vec<StatusCode> = futures::future::join_all(calls).await.into_iter().map(|(s, _)| s).collect();
        assert_eq!(statuses, [StatusCode::OK; 6], "all are served, in turn");
        assert_eq!(most.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn waiting_for_a_turn_counts_against_the_timeout() {
        let permits = Arc::new(tokio::sync::Semaphore::new(1));
        let routes = Router::new().route("/quick", get(|| async { "done" }));
        let limits = Limits { max_concurrent: 1, timeout: Duration::from_millis(100), ..Limits::default() };
        let app = with_permits(routes, limits, permits.clone());
        // Every permit taken (as by slow searches): the request waits, then gives up.
        let held = permits.clone().acquire_owned().await.unwrap();
        let waited = tokio::time::timeout(Duration::from_secs(5), call(&app, "GET", "/quick")).await;
        let (status, body) = waited.expect("the timeout covers the wait");
        assert_eq!((status, body["error"].as_str()), (StatusCode::SERVICE_UNAVAILABLE, Some("timeout")));
        drop(held);
        assert_eq!(call(&app, "GET", "/quick").await.0, StatusCode::OK);
    }

    #[tokio::test]
    async fn a_large_body_is_a_json_413_and_writes_are_a_json_405() {
        let app = router(NoticeIndex::in_memory().unwrap());
        let req = Request::builder()
            .method("GET")
            .uri("/api/stats")
            .header(header::CONTENT_LENGTH, "100000")
            .body(Body::from(vec![b'x'; 100_000]))
            .unwrap();
        let res = app.clone().oneshot(req).await.unwrap();
        assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
        let body: serde_json::Value =
            serde_json::from_slice(&axum::body::to_bytes(res.into_body(), usize::MAX).await.unwrap()).unwrap();
        assert_eq!(body["error"], "body_too_large");

        let (status, body) = call(&app, "POST", "/api/search?q=x").await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(body["error"], "method_not_allowed");
        let (status, _) = call(&app, "DELETE", "/api/notices/abc").await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    }

    #[tokio::test]
    async fn serve_stops_when_the_shutdown_future_completes() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(serve(listener, NoticeIndex::in_memory().unwrap(), Access::default(), None, async {
            let _ = rx.await;
        }));
        // It answers while running...
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").await.unwrap();
        let mut text = String::new();
        stream.read_to_string(&mut text).await.unwrap();
        assert!(text.starts_with("HTTP/1.1 200"), "{text}");
        // ...and returns once told to stop.
        tx.send(()).unwrap();
        tokio::time::timeout(Duration::from_secs(5), server).await.expect("server stopped").unwrap().unwrap();
    }
}
