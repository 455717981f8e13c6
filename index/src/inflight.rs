//! Parallel segments when the searcher is idle, one thread under load.
//!
//! Searching an index's segments on several threads halves a broad query's
//! latency on two cores when it is the only search running (BENCHMARKS.md,
//! "Segments searched in parallel"). Under concurrent load it buys nothing,
//! since every core already has a search of its own, and handing segments
//! to the pool's threads costs a wake-up and a context switch per segment:
//! 6 % of the server's CPU under the mixed load, 15 % of a selective
//! query's (BENCHMARKS.md §11). So a search
//! uses the pool only when no other search of this index is in flight, and
//! the index has more than one segment: with one there is nothing to split,
//! and the hand-over alone made a search of the 11-notice sample index
//! take 137 µs instead of 56 (BENCHMARKS.md §14).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tantivy::Executor;

/// Counts the searches of one index in flight.
#[derive(Debug, Clone, Default)]
pub(crate) struct InFlight(Arc<AtomicUsize>);

/// One search in flight; the count drops when it is dropped.
pub(crate) struct Ticket<'a> {
    count: &'a AtomicUsize,
    /// Whether another search was running when this one started.
    busy: bool,
}

impl InFlight {
    /// Registers a search.
    pub(crate) fn enter(&self) -> Ticket<'_> {
        let before = self.0.fetch_add(1, Ordering::AcqRel);
        Ticket { count: &self.0, busy: before > 0 }
    }
}

impl Ticket<'_> {
    /// The executor for a search of `segments` segments: `parallel` when
    /// alone and there are several, else the calling thread.
    pub(crate) fn executor<'e>(&self, parallel: &'e Executor, segments: usize) -> &'e Executor {
        static SINGLE: Executor = Executor::SingleThread;
        if self.busy || segments < 2 { &SINGLE } else { parallel }
    }
}

impl Drop for Ticket<'_> {
    fn drop(&mut self) {
        self.count.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_search_in_flight_runs_on_its_own_thread() {
        let pool = Executor::multi_thread(2, "test-").expect("a pool");
        let flights = InFlight::default();
        let first = flights.enter();
        assert!(matches!(first.executor(&pool, 3), Executor::ThreadPool(_)));
        {
            let second = flights.enter();
            assert!(matches!(second.executor(&pool, 3), Executor::SingleThread));
        }
        drop(first);
        assert!(matches!(flights.enter().executor(&pool, 3), Executor::ThreadPool(_)));
    }

    #[test]
    fn a_single_segment_is_searched_on_the_calling_thread() {
        let pool = Executor::multi_thread(2, "test-").expect("a pool");
        let flights = InFlight::default();
        assert!(matches!(flights.enter().executor(&pool, 1), Executor::SingleThread));
        assert!(matches!(flights.enter().executor(&pool, 0), Executor::SingleThread));
    }
}
