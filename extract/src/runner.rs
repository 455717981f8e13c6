//! Extraction off the caller's thread with a hard time cap.
//!
//! Each extraction runs on a thread of its own. The slow parts that parse
//! hostile input in C (Poppler for PDF, catdoc for Word) are child
//! processes killed at the deadline; the Rust readers (zip, quick-xml,
//! calamine) check the deadline between units of work. Should one of them
//! still overrun (a loop inside a dependency), the caller stops waiting at
//! the cap plus a grace second and gets [`Error::Timeout`]; the thread is
//! abandoned, not killed (Rust cannot kill a thread), and counted: past
//! [`MAX_ABANDONED`] such threads new extractions are refused with
//! [`Error::Busy`] until they end. A dedicated thread rather than tokio's
//! blocking pool, so an abandoned extraction never holds a pool slot that
//! `spawn_blocking` callers (SQLite, the index writer) wait for. A child
//! process per extraction would contain overruns too, at the cost of a
//! helper binary and a copy of every file; the child-process tools already
//! cover the parsers most likely to loop.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::time::Duration;

use crate::error::{Error, Result};
use crate::format::Format;
use crate::limits::Limits;
use crate::outcome::Extracted;

/// How many abandoned extractions may still run before new ones are refused.
pub const MAX_ABANDONED: usize = 4;

/// Extra wait past the time cap, so that the readers' own deadline (which
/// kills child processes and reports the format) normally fires first.
const GRACE: Duration = Duration::from_secs(1);

static ABANDONED: AtomicUsize = AtomicUsize::new(0);

const RUNNING: u8 = 0;
const DONE: u8 = 1;
const GIVEN_UP: u8 = 2;

/// Extractions that overran their cap and whose threads still run.
pub fn abandoned_running() -> usize {
    ABANDONED.load(Ordering::SeqCst)
}

struct Job {
    state: Arc<AtomicU8>,
}

impl Job {
    fn abandon(&self, name: &str) {
        ABANDONED.fetch_add(1, Ordering::SeqCst);
        if self.state.compare_exchange(RUNNING, GIVEN_UP, Ordering::SeqCst, Ordering::SeqCst).is_err() {
            // It finished just now: nothing runs on.
            ABANDONED.fetch_sub(1, Ordering::SeqCst);
        } else {
            tracing::warn!(attachment = name, "extraction overran its time cap; its thread is abandoned");
        }
    }
}

/// Runs `work` on a thread of its own and hands its result to `reply`.
fn start(
    work: impl FnOnce() -> Result<Extracted> + Send + 'static,
    reply: impl FnOnce(Result<Extracted>) + Send + 'static,
) -> Result<Job> {
    let running = ABANDONED.load(Ordering::SeqCst);
    if running >= MAX_ABANDONED {
        return Err(Error::Busy { running });
    }
    let state = Arc::new(AtomicU8::new(RUNNING));
    let thread_state = Arc::clone(&state);
    std::thread::Builder::new().name("extract".into()).spawn(move || {
        let result = std::panic::catch_unwind(AssertUnwindSafe(work)).unwrap_or_else(|_| {
            Err(Error::Malformed { format: Format::Unknown, reason: "the extractor panicked".into() })
        });
        if thread_state.compare_exchange(RUNNING, DONE, Ordering::SeqCst, Ordering::SeqCst).is_err() {
            ABANDONED.fetch_sub(1, Ordering::SeqCst);
        }
        reply(result);
    })?;
    Ok(Job { state })
}

fn overran(limits: &Limits) -> Error {
    Error::Timeout { format: Format::Unknown, limit: limits.timeout() }
}

/// The extraction of `bytes`, as a closure for [`start`].
fn work<B>(
    bytes: B,
    name_or_url: &str,
    content_type: Option<&str>,
    limits: &Limits,
) -> impl FnOnce() -> Result<Extracted> + Send + 'static
where
    B: AsRef<[u8]> + Send + 'static,
{
    let (name, content_type, limits) = (name_or_url.to_owned(), content_type.map(str::to_owned), limits.clone());
    move || crate::extract(bytes.as_ref(), &name, content_type.as_deref(), &limits)
}

/// [`crate::extract`] on a thread of its own; the caller waits at most the
/// time cap (plus a grace second), whatever the file does. Blocking: call
/// it from a plain thread, or use [`extract_async`] on a runtime.
pub fn extract_capped<B>(bytes: B, name_or_url: &str, content_type: Option<&str>, limits: &Limits) -> Result<Extracted>
where
    B: AsRef<[u8]> + Send + 'static,
{
    wait_capped(work(bytes, name_or_url, content_type, limits), name_or_url, limits)
}

/// Runs `work` on its own thread and waits for it at most the time cap.
fn wait_capped(
    work: impl FnOnce() -> Result<Extracted> + Send + 'static,
    name_or_url: &str,
    limits: &Limits,
) -> Result<Extracted> {
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    let job = start(work, move |r| {
        // The receiver is gone only after a timeout: nobody waits.
        let _ = tx.send(r);
    })?;
    match rx.recv_timeout(limits.timeout().saturating_add(GRACE)) {
        Ok(result) => result,
        Err(_) => {
            job.abandon(name_or_url);
            Err(overran(limits))
        }
    }
}

/// [`crate::extract`] for async callers: runs on a thread of its own, never
/// on the runtime's threads, and resolves within the time cap (plus a grace
/// second) whatever the file does. `bytes` may be a `Vec<u8>`, a
/// `bytes::Bytes` from an HTTP body, an `Arc<[u8]>`.
pub async fn extract_async<B>(
    bytes: B,
    name_or_url: &str,
    content_type: Option<&str>,
    limits: &Limits,
) -> Result<Extracted>
where
    B: AsRef<[u8]> + Send + 'static,
{
    let (tx, rx) = tokio::sync::oneshot::channel();
    let job = start(work(bytes, name_or_url, content_type, limits), move |r| {
        let _ = tx.send(r);
    })?;
    match tokio::time::timeout(limits.timeout().saturating_add(GRACE), rx).await {
        Ok(Ok(result)) => result,
        Ok(Err(_)) => Err(Error::Malformed {
            format: Format::Unknown,
            reason: "the extractor thread ended without a result".into(),
        }),
        Err(_) => {
            job.abandon(name_or_url);
            Err(overran(limits))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn an_overrunning_extraction_is_abandoned_and_counted() {
        // A reader stuck for 3 s (standing for a loop inside a dependency)
        // under a 0 s cap: the caller is back after the grace second.
        let limits = Limits { max_seconds: 0, ..Limits::default() };
        let started = Instant::now();
        let stuck = || {
            std::thread::sleep(Duration::from_secs(3));
            Ok(crate::Extracted::none(Format::Unknown, crate::NoText::Empty))
        };
        let err = wait_capped(stuck, "stuck.pdf", &limits).unwrap_err();
        assert!(matches!(err, Error::Timeout { .. }), "{err}");
        assert!(started.elapsed() < Duration::from_millis(2500));
        assert_eq!(abandoned_running(), 1);
        // When the stuck thread ends at last, it is no longer counted.
        std::thread::sleep(Duration::from_millis(2500));
        assert_eq!(abandoned_running(), 0);
    }
}
