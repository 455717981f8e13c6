//! Parallel segments when the searcher is idle, one thread under load, and
//! the calling thread always at work.
//!
//! Searching an index's segments on several threads halves a broad query's
//! latency on two cores when it is the only search running (BENCHMARKS.md,
//! "Segments searched in parallel"). Under concurrent load it buys nothing,
//! since every core already has a search of its own, and handing segments
//! to the pool's threads costs a wake-up and a context switch per segment:
//! 6 % of the server's CPU under the mixed load, 15 % of a selective
//! query's (BENCHMARKS.md §11). So a search uses helpers only when no other
//! search of this index is in flight and the index has more than one
//! segment: with one there is nothing to split (the hand-over alone made a
//! search of the 11-notice sample index take 137 µs instead of 56,
//! BENCHMARKS.md §14).
//!
//! ## The caller works, helpers take what is left
//! Tantivy's pool executor hands every segment to the pool and blocks the
//! calling thread until all are done, so a selective search alone paid a
//! wake-up and a wait for work it could have done itself in less time: at
//! 100k notices, a search on the calling thread only had a lower median
//! but a higher p99 than one on the pool, and which wins depends on how
//! many postings the query reads (BENCHMARKS.md §15). Here the calling
//! thread takes the segments one by one, largest first, from a shared
//! counter, and one helper per spare pool thread is woken to take from the
//! same counter. A search that is done before a helper is running never
//! waits for one (the helper finds nothing left and returns); a broad one
//! has its remaining segments taken by the helpers. The caller waits only
//! for segments a helper has started. Helpers own what they read (the
//! searcher, the weight and the collector behind an `Arc`), so a late one
//! never touches a search that has returned.
//!
//! The caller spins a little before it sleeps while a helper finishes its
//! segment: being woken again cost tens of microseconds, and left
//! selective searches 30–80 µs slower than on the calling thread alone.
//! At 100k notices (46 query texts, three alternating runs) this takes
//! the median from 0.43–0.46 ms to 0.34–0.36 ms with the p99 unchanged
//! (1.14–1.34 → 1.09–1.16 ms); at 20k and 1M the median drops by a fifth
//! too, and the server under load is unchanged (BENCHMARKS.md §15).

use std::cmp::Reverse;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::query::{EnableScoring, Query, Weight};
use tantivy::{Executor, Searcher, TantivyError};

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
    /// How many pool threads may help a search of `segments` segments: none
    /// when another search is in flight, when there is one segment, or
    /// when `pool` is not a pool; else one per pool thread beyond the one
    /// the caller stands for, and no more than there are other segments.
    fn helpers(&self, pool: &Executor, segments: usize) -> usize {
        match pool {
            Executor::ThreadPool(threads) if !self.busy && segments > 1 => {
                threads.current_num_threads().saturating_sub(1).min(segments - 1)
            }
            _ => 0,
        }
    }

    /// Runs `query` through `collector` over every segment of `searcher`,
    /// as [`Searcher::search_with_executor`] does, with the calling thread
    /// at work and helpers from `pool` when this search is alone.
    pub(crate) fn search<C: Collector + 'static>(
        &self,
        pool: &Executor,
        searcher: &Searcher,
        query: &dyn Query,
        collector: C,
        scoring: EnableScoring,
    ) -> tantivy::Result<C::Fruit> {
        let segments = searcher.segment_readers().len();
        let (Executor::ThreadPool(threads), helpers @ 1..) = (pool, self.helpers(pool, segments)) else {
            return searcher.search_with_executor(query, &collector, &Executor::SingleThread, scoring);
        };
        collector.check_schema(searcher.schema())?;
        let weight = query.weight(scoring)?;
        let mut order: Vec<u32> = (0..segments as u32).collect();
        // Largest first: the segment taken last, by whoever is free, is a
        // small one, so neither thread is left waiting long for the other.
        order.sort_by_key(|&ord| Reverse(searcher.segment_reader(ord).max_doc()));
        let shared = Arc::new(Shared {
            searcher: searcher.clone(),
            weight,
            collector,
            order,
            next: AtomicUsize::new(0),
            fruits: Mutex::new((0..segments).map(|_| None).collect()),
            finished: Condvar::new(),
            done: AtomicUsize::new(0),
        });
        for _ in 0..helpers {
            let shared = Arc::clone(&shared);
            threads.spawn(move || shared.work());
        }
        shared.work();
        let fruits = shared.wait()?;
        shared.collector.merge_fruits(fruits)
    }
}

impl Drop for Ticket<'_> {
    fn drop(&mut self) {
        self.count.fetch_sub(1, Ordering::AcqRel);
    }
}

/// How long the caller spins, waiting for a helper's last segment, before it
/// sleeps: being woken costs tens of microseconds, more than a selective
/// search's segment takes.
const SPIN: std::time::Duration = std::time::Duration::from_micros(200);

type SegmentFruit<C> = <<C as Collector>::Child as SegmentCollector>::Fruit;

/// One search's segments, shared by the caller and its helpers.
struct Shared<C: Collector> {
    searcher: Searcher,
    weight: Box<dyn Weight>,
    collector: C,
    /// Segment ordinals in the order they are taken.
    order: Vec<u32>,
    /// Index into `order` of the next segment to take.
    next: AtomicUsize,
    /// Each segment's result, by ordinal (merged in that order, so the
    /// result does not depend on which thread took which segment).
    fruits: Mutex<Vec<Option<tantivy::Result<SegmentFruit<C>>>>>,
    /// Signalled when the last segment is done.
    finished: Condvar,
    /// How many segments are done: raised with `fruits` locked, so a
    /// waiter that checks it under the lock never misses the signal, and
    /// read without the lock while spinning.
    done: AtomicUsize,
}

impl<C: Collector> Shared<C> {
    fn lock(&self) -> MutexGuard<'_, Vec<Option<tantivy::Result<SegmentFruit<C>>>>> {
        // A panic is caught before the lock is taken, so poisoning only
        // means some other thread died: the fruits are still whole.
        self.fruits.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Takes segments until none is left.
    fn work(&self) {
        while let Some(&ord) = self.order.get(self.next.fetch_add(1, Ordering::Relaxed)) {
            let reader = self.searcher.segment_reader(ord);
            // A panic in a helper would otherwise leave the caller waiting
            // for a segment that never comes.
            let fruit =
                catch_unwind(AssertUnwindSafe(|| self.collector.collect_segment(self.weight.as_ref(), ord, reader)))
                    .unwrap_or_else(|_| Err(TantivyError::InternalError(format!("searching segment {ord} panicked"))));
            let mut fruits = self.lock();
            fruits[ord as usize] = Some(fruit);
            if self.done.fetch_add(1, Ordering::AcqRel) + 1 == self.order.len() {
                self.finished.notify_all();
            }
        }
    }

    /// Waits for the segments helpers are still on; the fruits in segment
    /// order, or the first error.
    fn wait(&self) -> tantivy::Result<Vec<SegmentFruit<C>>> {
        let spinning = std::time::Instant::now();
        while self.done.load(Ordering::Acquire) < self.order.len() && spinning.elapsed() < SPIN {
            std::hint::spin_loop();
        }
        let mut fruits = self.lock();
        while self.done.load(Ordering::Acquire) < self.order.len() {
            fruits = self.finished.wait(fruits).unwrap_or_else(|poisoned| poisoned.into_inner());
        }
        std::mem::take(&mut *fruits)
            .into_iter()
            .map(|fruit| fruit.unwrap_or_else(|| Err(TantivyError::InternalError("a segment was not searched".into()))))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use tantivy::collector::{Count, TopDocs};
    use tantivy::query::TermQuery;
    use tantivy::schema::{IndexRecordOption, STRING, Schema};
    use tantivy::{Index, IndexWriter, TantivyDocument, Term};

    /// An index of `segments` segments of `per` documents each, every
    /// document holding `a`, every third one `b` too.
    fn index(segments: usize, per: usize) -> (Index, Searcher) {
        let mut schema = Schema::builder();
        let word = schema.add_text_field("w", STRING);
        let index = Index::create_in_ram(schema.build());
        let mut writer: IndexWriter = index.writer_with_num_threads(1, 15_000_000).expect("a writer");
        writer.set_merge_policy(Box::new(tantivy::indexer::NoMergePolicy));
        for s in 0..segments {
            // Segments of different sizes, so the largest-first order matters.
            for d in 0..per * (s + 1) {
                let mut doc = TantivyDocument::default();
                doc.add_text(word, "a");
                if d % 3 == 0 {
                    doc.add_text(word, "b");
                }
                writer.add_document(doc).expect("added");
            }
            writer.commit().expect("committed");
        }
        let searcher = index.reader().expect("a reader").searcher();
        assert_eq!(searcher.segment_readers().len(), segments);
        (index, searcher)
    }

    fn query(index: &Index, w: &str) -> TermQuery {
        let field = index.schema().get_field("w").expect("w");
        TermQuery::new(Term::from_field_text(field, w), IndexRecordOption::WithFreqs)
    }

    #[test]
    fn helpers_only_for_a_search_alone_over_several_segments() {
        let pool = Executor::multi_thread(2, "test-").expect("a pool");
        let flights = InFlight::default();
        let first = flights.enter();
        assert_eq!(first.helpers(&pool, 3), 1);
        {
            let second = flights.enter();
            assert_eq!(second.helpers(&pool, 3), 0, "another search is in flight");
        }
        assert_eq!(first.helpers(&pool, 1), 0, "one segment");
        assert_eq!(first.helpers(&Executor::SingleThread, 3), 0, "no pool");
        let four = Executor::multi_thread(4, "test-").expect("a pool");
        assert_eq!(first.helpers(&four, 2), 1, "no more helpers than other segments");
        assert_eq!(first.helpers(&four, 9), 3);
    }

    #[test]
    fn the_result_is_the_single_threaded_one() {
        let (index, searcher) = index(5, 700);
        let pool = Executor::multi_thread(3, "test-").expect("a pool");
        let flights = InFlight::default();
        for w in ["a", "b", "c"] {
            let q = query(&index, w);
            let collector = || (TopDocs::with_limit(25).order_by_score(), Count);
            let expected = searcher
                .search_with_executor(
                    &q,
                    &collector(),
                    &Executor::SingleThread,
                    EnableScoring::enabled_from_searcher(&searcher),
                )
                .expect("searched");
            for _ in 0..20 {
                let ticket = flights.enter();
                let got = ticket
                    .search(&pool, &searcher, &q, collector(), EnableScoring::enabled_from_searcher(&searcher))
                    .expect("searched");
                assert_eq!(got, expected, "{w}");
            }
        }
        assert_eq!(
            searcher.search(&query(&index, "a"), &Count).expect("counted"),
            700 * (1 + 2 + 3 + 4 + 5),
            "the test's index is what it says"
        );
    }

    #[test]
    fn a_search_does_not_wait_for_helpers_that_never_start() {
        let (index, searcher) = index(3, 300);
        let pool = Executor::multi_thread(2, "test-").expect("a pool");
        let Executor::ThreadPool(threads) = &pool else { unreachable!("a pool") };
        // Every pool thread is kept busy until the search has returned: the
        // caller must do all the work itself. With Tantivy's executor this
        // search would wait for the pool, that is forever.
        let (release, blocked) = mpsc::channel::<()>();
        let blocked = Arc::new(Mutex::new(blocked));
        let (started, running) = mpsc::channel::<()>();
        for _ in 0..2 {
            let (blocked, started) = (Arc::clone(&blocked), started.clone());
            threads.spawn(move || {
                started.send(()).expect("the test waits");
                let _ = blocked.lock().expect("not poisoned").recv();
            });
        }
        // Wait until one thread holds the lock and the other waits for it.
        running.recv().expect("a thread started");
        running.recv().expect("both threads started");
        let flights = InFlight::default();
        assert_eq!(flights.enter().helpers(&pool, 3), 1, "the search would have a helper");
        let (sent, result) = mpsc::channel();
        let q = query(&index, "a");
        let (search_pool, search_searcher) = (pool.clone(), searcher.clone());
        std::thread::spawn(move || {
            let scoring = EnableScoring::disabled_from_searcher(&search_searcher);
            let count = flights.enter().search(&search_pool, &search_searcher, &q, Count, scoring);
            let _ = sent.send(count.expect("searched"));
        });
        let count = result.recv_timeout(std::time::Duration::from_secs(30));
        release.send(()).expect("released");
        release.send(()).expect("released");
        assert_eq!(count, Ok(300 * (1 + 2 + 3)), "the search waited for the pool");
    }

    /// Counts matches, calling a hook with each segment's ordinal as the
    /// segment is taken; the hook's error is the segment's.
    struct Hooked<F>(F);

    impl<F: Fn(u32) -> tantivy::Result<()> + Send + Sync + 'static> Collector for Hooked<F> {
        type Fruit = usize;
        type Child = <Count as Collector>::Child;
        fn for_segment(
            &self,
            ord: tantivy::SegmentOrdinal,
            reader: &tantivy::SegmentReader,
        ) -> tantivy::Result<Self::Child> {
            (self.0)(ord)?;
            Count.for_segment(ord, reader)
        }
        fn requires_scoring(&self) -> bool {
            false
        }
        fn merge_fruits(&self, fruits: Vec<usize>) -> tantivy::Result<usize> {
            Ok(fruits.into_iter().sum())
        }
    }

    #[test]
    fn the_caller_takes_the_largest_segment_and_a_helper_another() {
        let (index, searcher) = index(3, 40);
        let largest = (0..3u32).max_by_key(|&ord| searcher.segment_reader(ord).max_doc()).expect("segments");
        let pool = Executor::multi_thread(2, "test-").expect("a pool");
        // Which thread took which segment; the largest is held until
        // another thread has taken one.
        let taken = Arc::new((Mutex::new(Vec::new()), Condvar::new()));
        let shared = Arc::clone(&taken);
        let collector = Hooked(move |ord| {
            let (list, other) = &*shared;
            let mut taken = list.lock().expect("not poisoned");
            taken.push((ord, std::thread::current().id()));
            other.notify_all();
            if ord == largest {
                let wait = std::time::Duration::from_secs(30);
                drop(other.wait_timeout_while(taken, wait, |t| t.len() < 2).expect("not poisoned"));
            }
            Ok(())
        });
        let flights = InFlight::default();
        let scoring = EnableScoring::disabled_from_searcher(&searcher);
        let count =
            flights.enter().search(&pool, &searcher, &query(&index, "a"), collector, scoring).expect("searched");
        assert_eq!(count, 40 * (1 + 2 + 3));
        let taken = taken.0.lock().expect("not poisoned").clone();
        assert_eq!(taken.len(), 3, "{taken:?}");
        assert_eq!(taken[0], (largest, std::thread::current().id()), "the caller starts on the largest: {taken:?}");
        assert!(taken.iter().any(|(_, t)| *t != std::thread::current().id()), "a helper took a segment: {taken:?}");
    }

    #[test]
    fn an_error_in_a_segment_is_the_search_error() {
        let (index, searcher) = index(3, 50);
        let pool = Executor::multi_thread(2, "test-").expect("a pool");
        let fails_on_second = Hooked(|ord| match ord {
            1 => Err(TantivyError::InvalidArgument("segment 1".into())),
            _ => Ok(()),
        });
        let scoring = EnableScoring::disabled_from_searcher(&searcher);
        let err = InFlight::default()
            .enter()
            .search(&pool, &searcher, &query(&index, "a"), fails_on_second, scoring)
            .expect_err("segment 1 fails");
        assert!(err.to_string().contains("segment 1"), "{err}");
    }
}
