//! Small measuring kit shared by the benchmark binaries.
//!
//! We time with `std::time::Instant` and report percentiles ourselves rather
//! than use a statistics framework: the numbers users choose an engine by are
//! tail latencies of one answer and peak memory of a whole run, which a
//! mean-of-iterations harness does not show.

pub mod forms;
pub mod xlsform;

pub use xlsform::generated_xlsform;

use std::time::{Duration, Instant};

/// Durations of repeated runs of one operation.
#[derive(Debug, Default, Clone)]
pub struct Samples(pub Vec<Duration>);

impl Samples {
    pub fn time<T>(&mut self, f: impl FnOnce() -> T) -> T {
        let t = Instant::now();
        let out = f();
        self.0.push(t.elapsed());
        out
    }

    /// The q-quantile (0.0..=1.0), nearest-rank.
    pub fn quantile(&self, q: f64) -> Duration {
        if self.0.is_empty() {
            return Duration::ZERO;
        }
        let mut v = self.0.clone();
        v.sort();
        let rank = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len());
        v[rank - 1]
    }

    pub fn total(&self) -> Duration {
        self.0.iter().sum()
    }

    pub fn max(&self) -> Duration {
        self.0.iter().copied().max().unwrap_or_default()
    }
}

/// Peak resident memory of this process so far (VmHWM), in bytes; 0 where
/// /proc is not available.
pub fn peak_rss_bytes() -> u64 {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return 0;
    };
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// Resets the peak resident memory to the current one (Linux 4.0+; a no-op
/// elsewhere), so that [`peak_rss_bytes`] measures one step of a run.
pub fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// CPU time this thread has run so far (Linux schedstat), or `None`
/// elsewhere. On a shared, loaded machine wall time overstates what a run
/// costs; CPU time over many runs does not.
pub fn thread_cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = stat.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(ns))
}

/// Formats a duration for a results table: µs below 1 ms, ms above.
pub fn fmt_duration(d: Duration) -> String {
    let us = d.as_secs_f64() * 1e6;
    if us < 1000.0 { format!("{us:.1} µs") } else { format!("{:.2} ms", us / 1000.0) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_are_nearest_rank() {
        let s = Samples((1..=100).map(Duration::from_micros).collect());
        assert_eq!(s.quantile(0.5), Duration::from_micros(50));
        assert_eq!(s.quantile(0.95), Duration::from_micros(95));
        assert_eq!(s.quantile(1.0), Duration::from_micros(100));
        assert_eq!(s.max(), Duration::from_micros(100));
    }

    #[test]
    fn cpu_time_advances_on_linux() {
        let Some(a) = thread_cpu_time() else { return };
        let mut x = 0u64;
        for i in 0..5_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        std::hint::black_box(x);
        assert!(thread_cpu_time().unwrap() > a);
    }

    #[test]
    fn peak_rss_is_positive_on_linux() {
        if std::path::Path::new("/proc/self/status").exists() {
            assert!(peak_rss_bytes() > 0);
        }
    }
}
