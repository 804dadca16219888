//! Percentiles over a sample of durations.

use std::time::Duration;

pub struct Summary {
    pub p50: Duration,
    pub p90: Duration,
    pub p99: Duration,
    pub max: Duration,
    pub n: usize,
}

pub fn summarize(mut xs: Vec<Duration>) -> Summary {
    xs.sort();
    let n = xs.len().max(1);
    let at = |q: f64| {
        xs.get(((n as f64 - 1.0) * q).round() as usize)
            .copied()
            .unwrap_or_default()
    };
    Summary {
        p50: at(0.5),
        p90: at(0.9),
        p99: at(0.99),
        max: xs.last().copied().unwrap_or_default(),
        n: xs.len(),
    }
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "p50 {:.3} ms  p90 {:.3} ms  p99 {:.3} ms  max {:.3} ms  (n={})",
            ms(self.p50),
            ms(self.p90),
            ms(self.p99),
            ms(self.max),
            self.n
        )
    }
}
