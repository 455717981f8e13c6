//! When to look at a page again, and when a page is gone.
//!
//! Listings are checked on every run: that is where new notices appear.
//! A detail page that did not change is revisited at a growing interval
//! (doubling, up to a cap), one that changed at a shrinking one (halving,
//! down to a floor), so a crawl that runs every six hours spends its
//! requests where the changes are. A page that answers 404/410 on several
//! runs in a row is *withdrawn*: kept and marked, never silently deleted.

use chrono::{DateTime, Duration, Utc};

/// The revisit policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Interval after the first fetch of a detail page.
    pub initial: Duration,
    /// Shortest interval.
    pub min: Duration,
    /// Longest interval.
    pub max: Duration,
    /// Consecutive "gone" answers (404/410) after which a notice is withdrawn.
    pub gone_after: u32,
}

impl Default for Policy {
    fn default() -> Self {
        Policy { initial: Duration::days(1), min: Duration::hours(6), max: Duration::days(30), gone_after: 3 }
    }
}

impl Policy {
    /// The next interval for a detail page, given the last one and whether
    /// this visit found a change.
    pub fn next_interval(&self, last: Option<Duration>, changed: bool) -> Duration {
        let next = match last {
            None => self.initial,
            Some(d) if changed => d / 2,
            Some(d) => d * 2,
        };
        next.clamp(self.min, self.max)
    }

    /// When a detail page fetched at `now` is due again.
    pub fn next_due(&self, now: DateTime<Utc>, last: Option<Duration>, changed: bool) -> (DateTime<Utc>, Duration) {
        let interval = self.next_interval(last, changed);
        (now + interval, interval)
    }

    /// Whether `consecutive_gone` 404/410 answers make the notice withdrawn.
    pub fn is_withdrawn(&self, consecutive_gone: u32) -> bool {
        consecutive_gone >= self.gone_after
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unchanged_pages_back_off_to_the_cap_and_changes_speed_up() {
        let p = Policy::default();
        let mut d = p.next_interval(None, true);
        assert_eq!(d, Duration::days(1));
        for _ in 0..10 {
            d = p.next_interval(Some(d), false);
        }
        assert_eq!(d, Duration::days(30), "capped");
        d = p.next_interval(Some(d), true);
        assert_eq!(d, Duration::days(15));
        for _ in 0..10 {
            d = p.next_interval(Some(d), true);
        }
        assert_eq!(d, Duration::hours(6), "floored");
    }

    #[test]
    fn withdrawn_after_several_gone_answers() {
        let p = Policy::default();
        assert!(!p.is_withdrawn(0) && !p.is_withdrawn(2));
        assert!(p.is_withdrawn(3));
    }
}
