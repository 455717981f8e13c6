//! Shared by the measuring examples (`count_floor`, `one_field`).

use std::time::Instant;

/// Median time in milliseconds of 51 runs of `f` after 10 warm-up runs,
/// and its last result.
pub fn median(mut f: impl FnMut() -> usize) -> (f64, usize) {
    let mut n = 0;
    for _ in 0..10 {
        n = f();
    }
    let mut times: Vec<f64> = (0..51)
        .map(|_| {
            let t = Instant::now();
            n = f();
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    (times[25], n)
}
