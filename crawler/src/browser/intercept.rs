//! Request interception: images, fonts, stylesheets and media are refused
//! inside the browser (`Fetch.enable` with resource-type patterns, each
//! paused request answered `Fetch.failRequest(BlockedByClient)`), so that a
//! page costs the site what a plain fetch would, plus its scripts.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use chromiumoxide::Page;
use chromiumoxide::cdp::browser_protocol::fetch::{
    EnableParams, EventRequestPaused, FailRequestParams, RequestPattern, RequestStage,
};
use chromiumoxide::cdp::browser_protocol::network::{ErrorReason, ResourceType};
use futures::StreamExt;

/// Resource types never loaded.
pub const BLOCKED: [ResourceType; 4] =
    [ResourceType::Image, ResourceType::Font, ResourceType::Stylesheet, ResourceType::Media];

/// Starts refusing [`BLOCKED`] resources on `page`; returns the task that
/// answers the paused requests (abort it with the tab) and a counter of
/// requests refused.
pub async fn block_heavy_resources(
    page: &Page,
) -> chromiumoxide::Result<(tokio::task::JoinHandle<()>, Arc<AtomicU64>)> {
    // Listen first: a request paused before the listener exists would hang.
    let mut paused = page.event_listener::<EventRequestPaused>().await?;
    let patterns: Vec<RequestPattern> = BLOCKED
        .iter()
        .map(|t| {
            RequestPattern::builder()
                .url_pattern("*")
                .resource_type(t.clone())
                .request_stage(RequestStage::Request)
                .build()
        })
        .collect();
    page.execute(EnableParams::builder().patterns(patterns).build()).await?;
    let refused = Arc::new(AtomicU64::new(0));
    let count = refused.clone();
    let page = page.clone();
    let task = tokio::spawn(async move {
        while let Some(event) = paused.next().await {
            count.fetch_add(1, Ordering::Relaxed);
            let fail = FailRequestParams::new(event.request_id.clone(), ErrorReason::BlockedByClient);
            if let Err(e) = page.execute(fail).await {
                tracing::debug!(url = %event.request.url, error = %e, "cannot refuse a request");
            }
        }
    });
    Ok((task, refused))
}
