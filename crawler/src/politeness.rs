//! Politeness per host: at most N requests in flight and a minimum delay
//! between the starts of two requests. Different hosts never wait for
//! each other.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

/// One host's slots and clock.
#[derive(Debug)]
struct Host {
    slots: Arc<Semaphore>,
    clock: Mutex<Clock>,
}

#[derive(Debug)]
struct Clock {
    /// No request may start before this.
    next: Instant,
    /// When the last request started.
    last: Option<Instant>,
    /// Delay between starts.
    delay: Duration,
}

/// The politeness gate shared by every fetch of a crawl.
#[derive(Debug)]
pub struct Politeness {
    concurrency: usize,
    default_delay: Duration,
    overrides: HashMap<String, Duration>,
    hosts: Mutex<HashMap<String, Arc<Host>>>,
}

/// Held while a request to a host is in flight; dropping it frees the slot.
#[derive(Debug)]
pub struct Permit {
    _slot: OwnedSemaphorePermit,
}

impl Politeness {
    /// A gate with `concurrency` requests per host (at least 1) and
    /// `default_delay` between requests, `overrides` per host.
    pub fn new(concurrency: usize, default_delay: Duration, overrides: HashMap<String, Duration>) -> Self {
        Politeness { concurrency: concurrency.max(1), default_delay, overrides, hosts: Mutex::new(HashMap::new()) }
    }

    fn host(&self, host: &str) -> Arc<Host> {
        let mut hosts = self.hosts.lock().unwrap_or_else(|e| e.into_inner());
        hosts
            .entry(host.to_string())
            .or_insert_with(|| {
                let delay = self.overrides.get(host).copied().unwrap_or(self.default_delay);
                Arc::new(Host {
                    slots: Arc::new(Semaphore::new(self.concurrency)),
                    clock: Mutex::new(Clock { next: Instant::now(), last: None, delay }),
                })
            })
            .clone()
    }

    /// Waits for a free slot on `host` and for its turn, then returns the
    /// permit to hold while the request runs.
    pub async fn acquire(&self, host: &str) -> Permit {
        let h = self.host(host);
        let slot = h.slots.clone().acquire_owned().await.expect("the semaphore is never closed");
        let start = {
            let mut clock = h.clock.lock().unwrap_or_else(|e| e.into_inner());
            let start = clock.next.max(Instant::now());
            clock.next = start + clock.delay;
            clock.last = Some(start);
            start
        };
        tokio::time::sleep_until(start).await;
        Permit { _slot: slot }
    }

    /// Keeps every request to `host` from starting before `wait` from now
    /// (a `Retry-After`, a 429).
    pub fn defer(&self, host: &str, wait: Duration) {
        let h = self.host(host);
        let mut clock = h.clock.lock().unwrap_or_else(|e| e.into_inner());
        clock.next = clock.next.max(Instant::now() + wait);
    }

    /// Raises the delay of `host` to at least `delay` (robots.txt `Crawl-delay`).
    pub fn at_least(&self, host: &str, delay: Duration) {
        let h = self.host(host);
        let mut clock = h.clock.lock().unwrap_or_else(|e| e.into_inner());
        clock.delay = clock.delay.max(delay);
        // The request already made (robots.txt itself) counts: the next waits the new delay from it.
        if let Some(last) = clock.last {
            clock.next = clock.next.max(last + clock.delay);
        }
    }

    /// The delay now in force for `host`.
    pub fn delay_of(&self, host: &str) -> Duration {
        let h = self.host(host);
        h.clock.lock().unwrap_or_else(|e| e.into_inner()).delay
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn delay_spaces_starts_and_hosts_do_not_wait_for_each_other() {
        let p = Arc::new(Politeness::new(1, Duration::from_millis(100), HashMap::new()));
        let t0 = Instant::now();
        drop(p.acquire("a").await);
        drop(p.acquire("a").await);
        assert!(t0.elapsed() >= Duration::from_millis(100));
        let t1 = Instant::now();
        drop(p.acquire("b").await);
        assert!(t1.elapsed() < Duration::from_millis(50), "another host starts at once");
    }

    #[tokio::test]
    async fn a_raised_delay_counts_from_the_last_start() {
        let p = Politeness::new(1, Duration::ZERO, HashMap::new());
        let t = Instant::now();
        drop(p.acquire("h").await);
        p.at_least("h", Duration::from_millis(200));
        drop(p.acquire("h").await);
        assert!(t.elapsed() >= Duration::from_millis(195), "{:?}", t.elapsed());
    }

    #[tokio::test]
    async fn concurrency_limits_permits_and_defer_pushes_back() {
        let p = Arc::new(Politeness::new(2, Duration::ZERO, HashMap::new()));
        let a = p.acquire("h").await;
        let _b = p.acquire("h").await;
        let p2 = p.clone();
        let third = tokio::spawn(async move { p2.acquire("h").await });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!third.is_finished(), "a third request waits for a slot");
        drop(a);
        third.await.unwrap();
        p.defer("h", Duration::from_millis(300));
        p.at_least("h", Duration::from_secs(1));
        assert_eq!(p.delay_of("h"), Duration::from_secs(1));
        let t = Instant::now();
        drop(_b);
        drop(p.acquire("h").await);
        assert!(t.elapsed() >= Duration::from_millis(290));
    }
}
