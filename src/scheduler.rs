//! Scheduled re-crawls: `--every 6h` or a cron expression, with jitter, run
//! until a shutdown future resolves.
//!
//! The job itself is passed in, so the same loop serves `notices crawl
//! --watch` and `notices serve --recrawl-every`; tests drive it with
//! tokio's paused clock.

use std::future::Future;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::UsageError;

/// When to run.
#[derive(Debug, Clone)]
pub enum Schedule {
    /// A fixed interval.
    Every(Duration),
    /// A cron expression (5 fields, UTC).
    Cron(Box<croner::Cron>),
}

impl Schedule {
    /// Parses an interval such as `6h`, `30m`, `1d 12h`.
    pub fn every(s: &str) -> Result<Schedule, UsageError> {
        let d = humantime::parse_duration(s.trim())
            .map_err(|e| UsageError(format!("invalid interval {s:?}: {e} (examples: 6h, 30m, 1d)")))?;
        if d < Duration::from_secs(1) {
            return Err(UsageError(format!("invalid interval {s:?}: must be at least 1s")));
        }
        Ok(Schedule::Every(d))
    }

    /// Parses a cron expression such as `0 */6 * * *` (minute hour day month weekday, UTC).
    pub fn cron(s: &str) -> Result<Schedule, UsageError> {
        let cron: croner::Cron =
            s.trim().parse().map_err(|e| UsageError(format!("invalid cron expression {s:?}: {e}")))?;
        // An expression that never fires again is a mistake, not a schedule.
        cron.find_next_occurrence(&Utc::now(), false)
            .map_err(|e| UsageError(format!("cron expression {s:?} never fires: {e}")))?;
        Ok(Schedule::Cron(Box::new(cron)))
    }

    /// How long to wait after `now` for the next run, before jitter.
    pub fn delay_after(&self, now: DateTime<Utc>) -> Duration {
        match self {
            Schedule::Every(d) => *d,
            Schedule::Cron(c) => c
                .find_next_occurrence(&now, false)
                .ok()
                .and_then(|next| (next - now).to_std().ok())
                .unwrap_or(Duration::from_secs(3600)),
        }
    }
}

/// Up to a tenth of `base` (at most five minutes) of random extra delay, so
/// that many installations started by the same cron line do not hit the
/// agencies' sites in the same second.
pub fn jitter(base: Duration) -> Duration {
    let max = (base / 10).min(Duration::from_secs(300));
    if max.is_zero() {
        return Duration::ZERO;
    }
    max.mul_f64(rand::random::<f64>())
}

/// Runs `job` on `schedule` (and once at the start when `at_start`) until
/// `shutdown` resolves. A run in progress is finished, not cut: the job
/// commits its own work.
pub async fn run<F, Fut>(schedule: Schedule, at_start: bool, mut job: F, shutdown: impl Future<Output = ()>)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = ()>,
{
    tokio::pin!(shutdown);
    if at_start {
        tokio::select! {
            _ = job() => {}
            _ = &mut shutdown => return,
        }
    }
    loop {
        let wait = schedule.delay_after(Utc::now());
        let wait = wait + jitter(wait);
        tracing::info!(next_in_secs = wait.as_secs(), "next scheduled crawl");
        tokio::select! {
            _ = tokio::time::sleep(wait) => job().await,
            _ = &mut shutdown => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[test]
    fn parses_intervals_and_cron() {
        assert!(matches!(Schedule::every("6h").unwrap(), Schedule::Every(d) if d == Duration::from_secs(6 * 3600)));
        assert!(Schedule::every("soon").is_err());
        assert!(Schedule::every("0s").is_err());
        let c = Schedule::cron("0 */6 * * *").unwrap();
        let now = DateTime::parse_from_rfc3339("2026-11-25T01:30:00Z").unwrap().with_timezone(&Utc);
        assert_eq!(c.delay_after(now), Duration::from_secs(4 * 3600 + 30 * 60));
        assert!(Schedule::cron("61 * * * *").is_err());
        assert!(Schedule::cron("not cron").is_err());
    }

    #[test]
    fn jitter_is_bounded() {
        for _ in 0..100 {
            assert!(jitter(Duration::from_secs(100)) <= Duration::from_secs(10));
            assert!(jitter(Duration::from_secs(86_400)) <= Duration::from_secs(300));
        }
    }

    #[tokio::test(start_paused = true)]
    async fn runs_on_schedule_until_shutdown() {
        let runs = Arc::new(AtomicUsize::new(0));
        let counter = runs.clone();
        let job = move || {
            let counter = counter.clone();
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
            }
        };
        // With paused time, sleeping 10 hours completes at once; an interval
        // of 1h (plus at most 6 min jitter) gives 1 run at start + 9 more.
        let shutdown = tokio::time::sleep(Duration::from_secs(10 * 3600));
        run(Schedule::Every(Duration::from_secs(3600)), true, job, shutdown).await;
        let n = runs.load(Ordering::SeqCst);
        assert!((9..=10).contains(&n), "{n} runs");
    }
}
