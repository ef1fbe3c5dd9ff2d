//! Prometheus text metrics: requests by route and status, a latency histogram, check counts
//! by decision, failed log ins. Plain atomics and one mutex-guarded map; no exporter crate.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

/// Per route: (method, status, count). Route keys are allocated once.
type RouteCounts = HashMap<String, Vec<(String, u16, u64)>>;

/// The server's metrics.
#[derive(Debug, Default)]
pub struct Metrics {
    /// route -> (method, status, count); keys are allocated once per route.
    requests: Mutex<RouteCounts>,
    buckets: [AtomicU64; 12],
    latency_count: AtomicU64,
    latency_sum_micros: AtomicU64,
    checks_allowed: AtomicU64,
    checks_denied: AtomicU64,
    login_failures: AtomicU64,
}

impl Metrics {
    /// Records one request.
    pub fn request(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        if let Ok(mut r) = self.requests.lock() {
            let counts = match r.get_mut(route) {
                Some(c) => c,
                None => r.entry(route.to_owned()).or_default(),
            };
            match counts
                .iter_mut()
                .find(|(m, s, _)| m == method && *s == status)
            {
                Some(entry) => entry.2 += 1,
                None => counts.push((method.to_owned(), status, 1)),
            }
        }
        let secs = elapsed.as_secs_f64();
        for (i, bound) in BUCKETS.iter().enumerate() {
            if secs <= *bound {
                self.buckets[i].fetch_add(1, Ordering::Relaxed);
            }
        }
        self.latency_count.fetch_add(1, Ordering::Relaxed);
        self.latency_sum_micros.fetch_add(
            u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    /// Records a check's decision.
    pub fn check(&self, allowed: bool) {
        if allowed {
            self.checks_allowed.fetch_add(1, Ordering::Relaxed);
        } else {
            self.checks_denied.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Records a failed log in.
    pub fn login_failure(&self) {
        self.login_failures.fetch_add(1, Ordering::Relaxed);
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut s = String::new();
        s.push_str("# HELP gatehouse_http_requests_total HTTP requests by method, route and status.\n# TYPE gatehouse_http_requests_total counter\n");
        if let Ok(r) = self.requests.lock() {
            let mut rows: Vec<(&str, &str, u16, u64)> = r
                .iter()
                .flat_map(|(route, c)| {
                    c.iter()
                        .map(move |(m, st, n)| (m.as_str(), route.as_str(), *st, *n))
                })
                .collect();
            rows.sort_unstable();
            for (method, route, status, n) in rows {
                let _ = writeln!(
                    s,
                    "gatehouse_http_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} {n}"
                );
            }
        }
        s.push_str("# HELP gatehouse_http_request_duration_seconds HTTP request latency.\n# TYPE gatehouse_http_request_duration_seconds histogram\n");
        for (i, bound) in BUCKETS.iter().enumerate() {
            let _ = writeln!(
                s,
                "gatehouse_http_request_duration_seconds_bucket{{le=\"{bound}\"}} {}",
                self.buckets[i].load(Ordering::Relaxed)
            );
        }
        let count = self.latency_count.load(Ordering::Relaxed);
        let _ = writeln!(
            s,
            "gatehouse_http_request_duration_seconds_bucket{{le=\"+Inf\"}} {count}"
        );
        let _ = writeln!(
            s,
            "gatehouse_http_request_duration_seconds_sum {}",
            self.latency_sum_micros.load(Ordering::Relaxed) as f64 / 1e6
        );
        let _ = writeln!(s, "gatehouse_http_request_duration_seconds_count {count}");
        s.push_str("# HELP gatehouse_checks_total Privilege checks by decision.\n# TYPE gatehouse_checks_total counter\n");
        let _ = writeln!(
            s,
            "gatehouse_checks_total{{decision=\"allowed\"}} {}",
            self.checks_allowed.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            s,
            "gatehouse_checks_total{{decision=\"denied\"}} {}",
            self.checks_denied.load(Ordering::Relaxed)
        );
        s.push_str("# HELP gatehouse_login_failures_total Refused log ins.\n# TYPE gatehouse_login_failures_total counter\n");
        let _ = writeln!(
            s,
            "gatehouse_login_failures_total {}",
            self.login_failures.load(Ordering::Relaxed)
        );
        s
    }
}
