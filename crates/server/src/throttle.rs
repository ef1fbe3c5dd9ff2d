//! Failed log in throttling, in memory per node, with growing delays and no permanent lockout.
//!
//! Three counters per failure: the (account, client address) pair, the client address, and the
//! account. Each blocks for a delay that doubles with every failure past its threshold, up to
//! a cap; a success clears the pair and the account. The account-wide counter has a high
//! threshold and a 30 s cap, so an attacker spraying from many addresses is slowed down but
//! can never keep the real user out for longer than that.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy)]
struct Rule {
    threshold: u32,
    cap: Duration,
}

const PAIR: Rule = Rule {
    threshold: 5,
    cap: Duration::from_secs(15 * 60),
};
const ADDRESS: Rule = Rule {
    threshold: 50,
    cap: Duration::from_secs(15 * 60),
};
const ACCOUNT: Rule = Rule {
    threshold: 100,
    cap: Duration::from_secs(30),
};
/// Failures older than this are forgotten.
const WINDOW: Duration = Duration::from_secs(30 * 60);

#[derive(Debug, Clone, Copy)]
struct Entry {
    failures: u32,
    last: Instant,
    blocked_until: Option<Instant>,
}

/// Throttling state.
#[derive(Debug, Default)]
pub struct Throttle {
    entries: Mutex<HashMap<String, Entry>>,
}

fn keys(account: &str, address: &str) -> [(String, Rule); 3] {
    let account = account.trim().to_lowercase();
    [
        (format!("pair:{account}:{address}"), PAIR),
        (format!("addr:{address}"), ADDRESS),
        (format!("acct:{account}"), ACCOUNT),
    ]
}

impl Throttle {
    /// Seconds to wait before `account` may try again from `address`, if it must wait.
    pub fn wait(&self, account: &str, address: &str, now: Instant) -> Option<u64> {
        let entries = self.entries.lock().ok()?;
        keys(account, address)
            .iter()
            .filter_map(|(k, _)| entries.get(k).and_then(|e| e.blocked_until))
            .filter(|until| *until > now)
            .map(|until| (until - now).as_secs().max(1))
            .max()
    }

    /// Records a failed log in.
    pub fn failed(&self, account: &str, address: &str, now: Instant) {
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        if entries.len() > 100_000 {
            entries.retain(|_, e| now.duration_since(e.last) < WINDOW);
        }
        for (key, rule) in keys(account, address) {
            let e = entries.entry(key).or_insert(Entry {
                failures: 0,
                last: now,
                blocked_until: None,
            });
            if now.duration_since(e.last) >= WINDOW {
                e.failures = 0;
            }
            e.failures += 1;
            e.last = now;
            if e.failures >= rule.threshold {
                let doublings = (e.failures - rule.threshold).min(20);
                let delay = Duration::from_secs(1u64 << doublings).min(rule.cap);
                e.blocked_until = Some(now + delay);
            }
        }
    }

    /// Records a successful log in: clears the account's counters.
    pub fn succeeded(&self, account: &str, address: &str) {
        if let Ok(mut entries) = self.entries.lock() {
            let [pair, _, acct] = keys(account, address);
            entries.remove(&pair.0);
            entries.remove(&acct.0);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn delays_grow_and_end() {
        let t = Throttle::default();
        let start = Instant::now();
        for _ in 0..4 {
            t.failed("a@x.org", "1.2.3.4", start);
        }
        assert_eq!(
            t.wait("a@x.org", "1.2.3.4", start),
            None,
            "four failures are free"
        );
        t.failed("a@x.org", "1.2.3.4", start);
        assert_eq!(t.wait("a@x.org", "1.2.3.4", start), Some(1));
        t.failed("a@x.org", "1.2.3.4", start);
        t.failed("a@x.org", "1.2.3.4", start);
        assert_eq!(
            t.wait("A@X.ORG", "1.2.3.4", start),
            Some(4),
            "doubles, account case-insensitive"
        );
        assert_eq!(
            t.wait("a@x.org", "5.6.7.8", start),
            None,
            "another address is not blocked"
        );
        assert_eq!(
            t.wait("a@x.org", "1.2.3.4", start + Duration::from_secs(5)),
            None,
            "not permanent"
        );
        t.succeeded("a@x.org", "1.2.3.4");
        assert_eq!(t.wait("a@x.org", "1.2.3.4", start), None);
    }

    #[test]
    fn the_account_wide_delay_is_capped() {
        let t = Throttle::default();
        let now = Instant::now();
        for i in 0..400 {
            t.failed(
                "victim@x.org",
                &format!("10.0.{}.{}", i / 250, i % 250),
                now,
            );
        }
        let wait = t.wait("victim@x.org", "192.0.2.1", now).unwrap_or(0);
        assert!(
            wait <= 30,
            "a real user from elsewhere waits at most 30 s, waited {wait}"
        );
    }
}
